using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Targets;
using Azure.Core;

namespace AcrIdentity.Engine.Configure
{
    /// <summary>
    /// A user-assigned identity from its resource ID, name, client ID or principal (object) ID — users mix the
    /// three IDs up more than anything else (pain point 3), so a GUID is matched against both and -Verbose says
    /// which it was.
    /// </summary>
    internal sealed class IdentityResolver
    {
        internal const string IdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";
        private static readonly Regex NamePattern = new Regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$", RegexOptions.CultureInvariant);

        private readonly ArmGateway _arm;
        private readonly IEngineHost _host;
        private readonly string _subscriptionId;
        private readonly IDictionary<string, PullIdentity> _cache;
        private List<JsonObject>? _all;

        internal IdentityResolver(ArmGateway arm, IEngineHost host, string subscriptionId, IDictionary<string, PullIdentity>? cache = null)
        {
            _arm = arm;
            _host = host;
            _subscriptionId = subscriptionId;
            _cache = cache ?? new Dictionary<string, PullIdentity>(StringComparer.OrdinalIgnoreCase);
        }

        internal async Task<PullIdentity> ResolveAsync(string input, CancellationToken ct)
        {
            string text = input.Trim();
            string key = _subscriptionId + "|" + text;
            if (_cache.TryGetValue(key, out PullIdentity? cached)) return cached;
            PullIdentity found = await ResolveUncachedAsync(text, ct).ConfigureAwait(false);
            _cache[key] = found;
            return found;
        }

        private async Task<PullIdentity> ResolveUncachedAsync(string text, CancellationToken ct)
        {
            if (ArmIds.LooksLikeId(text))
            {
                ResourceIdentifier? id = ArmIds.TryParseResource(text);
                if (id is null)
                {
                    throw new EngineException("InvalidIdentityResourceId", EngineErrorCategory.InvalidArgument,
                        $"'{text}' is not a valid user-assigned identity resource ID.",
                        "Pass /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>, or the identity's name or client ID.", text);
                }
                if (!string.Equals(id.ResourceType.ToString(), IdentityType, StringComparison.OrdinalIgnoreCase))
                {
                    throw new EngineException("IdentityIdWrongKind", EngineErrorCategory.InvalidArgument,
                        $"'{text}' is the ID of a {id.ResourceType}, not of a user-assigned managed identity.",
                        "Pass the user-assigned identity's resource ID ((Get-AzUserAssignedIdentity -ResourceGroupName <group> -Name <name>).Id); for the target's own identity use -IdentityType SystemAssigned.", text);
                }
                ArmResponse? reply = await _arm.TryGetAsync(id.ToString(), ct).ConfigureAwait(false);
                if (reply?.Object == null) throw NotFound(text, "resource ID");
                _host.WriteVerbose($"Identity '{text}' is a resource ID.");
                return From(reply.Object);
            }

            if (Guid.TryParse(text, out _))
            {
                var all = await AllAsync(ct).ConfigureAwait(false);
                JsonObject? byClient = all.FirstOrDefault(i => string.Equals(Json.Str(i, "properties", "clientId"), text, StringComparison.OrdinalIgnoreCase));
                if (byClient != null)
                {
                    _host.WriteVerbose($"Identity '{text}' is the client ID of {Json.Str(byClient, "id")}.");
                    return From(byClient);
                }
                JsonObject? byPrincipal = all.FirstOrDefault(i => string.Equals(Json.Str(i, "properties", "principalId"), text, StringComparison.OrdinalIgnoreCase));
                if (byPrincipal != null)
                {
                    _host.WriteVerbose($"Identity '{text}' is the principal (object) ID of {Json.Str(byPrincipal, "id")}; using its client ID where a client ID is needed.");
                    return From(byPrincipal);
                }
                throw new EngineException("UserAssignedIdentityNotFound", EngineErrorCategory.ObjectNotFound,
                    $"No user-assigned identity has the client ID or principal ID '{text}' in the subscriptions you can see.",
                    "Pass the identity's resource ID or name. A GUID must be a user-assigned identity's client ID or principal ID — not an application, user or system-assigned principal.", text);
            }

            if (!NamePattern.IsMatch(text))
            {
                throw new EngineException("InvalidIdentityName", EngineErrorCategory.InvalidArgument,
                    $"'{text}' is not a user-assigned identity name, resource ID, client ID or principal ID.",
                    "Pass the identity's name (3–128 letters, digits, '-' or '_'), resource ID or client ID.", text);
            }
            var here = (await ListAsync(_subscriptionId, ct).ConfigureAwait(false)).Where(i => NameIs(i, text)).ToList();
            var hits = here.Count > 0 ? here : (await AllAsync(ct).ConfigureAwait(false)).Where(i => NameIs(i, text)).ToList();
            if (hits.Count == 0) throw NotFound(text, "name");
            if (hits.Count > 1)
            {
                throw new EngineException("AmbiguousIdentity", EngineErrorCategory.InvalidArgument,
                    $"More than one user-assigned identity is named '{text}': {string.Join(", ", hits.Select(h => Json.Str(h, "id")))}.",
                    "Pass the identity's resource ID instead.", text);
            }
            _host.WriteVerbose($"Identity '{text}' is a name: {Json.Str(hits[0], "id")}.");
            return From(hits[0]);
        }

        private static bool NameIs(JsonObject identity, string name) => string.Equals(Json.Str(identity, "name"), name, StringComparison.OrdinalIgnoreCase);

        private async Task<IReadOnlyList<JsonObject>> ListAsync(string subscriptionId, CancellationToken ct) =>
            await _arm.ListAsync($"/subscriptions/{subscriptionId}/providers/{IdentityType}", ct).ConfigureAwait(false);

        private async Task<List<JsonObject>> AllAsync(CancellationToken ct)
        {
            if (_all != null) return _all;
            var all = new List<JsonObject>(await ListAsync(_subscriptionId, ct).ConfigureAwait(false));
            foreach (JsonObject sub in await _arm.ListAsync("/subscriptions", ct).ConfigureAwait(false))
            {
                string? id = Json.Str(sub, "subscriptionId");
                if (string.IsNullOrEmpty(id) || string.Equals(id, _subscriptionId, StringComparison.OrdinalIgnoreCase)) continue;
                try
                {
                    all.AddRange(await ListAsync(id!, ct).ConfigureAwait(false));
                }
                catch (ArmRequestException ex) when (ex.Status == 403 || ex.Status == 404)
                {
                    // Visible but not listable: it holds no identity we could use anyway.
                    _host.WriteVerbose($"Skipping subscription {id} in the identity search: {ex.ArmCode ?? "HTTP " + ex.Status}.");
                }
            }
            _all = all;
            return all;
        }

        private static PullIdentity From(JsonObject identity)
        {
            string id = Json.Str(identity, "id") ?? throw new EngineException("InvalidArmReply", EngineErrorCategory.InvalidData, "An identity came back without an id.");
            return new PullIdentity(PullIdentityType.UserAssigned, id, Json.Str(identity, "properties", "clientId"), Json.Str(identity, "properties", "principalId"));
        }

        private static EngineException NotFound(string text, string what) =>
            new EngineException("UserAssignedIdentityNotFound", EngineErrorCategory.ObjectNotFound,
                $"No user-assigned identity with the {what} '{text}' was found in the subscriptions you can see.",
                "Check the name or ID and the subscription; create one with New-AzUserAssignedIdentity, or use -IdentityType SystemAssigned.", text);
    }
}
