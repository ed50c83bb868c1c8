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

namespace AcrIdentity.Engine.Configure
{
    /// <summary>
    /// A user-assigned identity from its resource ID, name, client ID or principal (object) ID — users mix the
    /// three IDs up more than anything else (pain point 3), so a GUID is matched against both and -Verbose says
    /// which it was.
    /// </summary>
    internal sealed class IdentityResolver : CrossSubscriptionResolver<PullIdentity>
    {
        internal const string IdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";
        private static readonly Regex NamePattern = new Regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$", RegexOptions.CultureInvariant);

        private List<JsonObject>? _all;

        internal IdentityResolver(ArmGateway arm, IEngineHost host, string subscriptionId, IDictionary<string, PullIdentity>? cache = null)
            : base(IdentityType, "Identity", arm, host, subscriptionId, cache)
        {
        }

        internal Task<PullIdentity> ResolveAsync(string input, CancellationToken ct) => ResolveCachedAsync(input.Trim(), ct);

        protected override async Task<PullIdentity> ResolveOtherAsync(string text, CancellationToken ct)
        {
            if (Guid.TryParse(text, out _))
            {
                var all = await AllAsync(ct).ConfigureAwait(false);
                JsonObject? byClient = all.FirstOrDefault(i => string.Equals(Json.Str(i, "properties", "clientId"), text, StringComparison.OrdinalIgnoreCase));
                if (byClient != null)
                {
                    Host.WriteVerbose($"Identity '{text}' is the client ID of {Json.Str(byClient, "id")}.");
                    return From(byClient);
                }
                JsonObject? byPrincipal = all.FirstOrDefault(i => string.Equals(Json.Str(i, "properties", "principalId"), text, StringComparison.OrdinalIgnoreCase));
                if (byPrincipal != null)
                {
                    Host.WriteVerbose($"Identity '{text}' is the principal (object) ID of {Json.Str(byPrincipal, "id")}; using its client ID where a client ID is needed.");
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
            JsonObject hit = await FindOneAsync(i => string.Equals(Json.Str(i, "name"), text, StringComparison.OrdinalIgnoreCase), text, "name",
                ids => new EngineException("AmbiguousIdentity", EngineErrorCategory.InvalidArgument,
                    $"More than one user-assigned identity is named '{text}': {ids}.", "Pass the identity's resource ID instead.", text), ct).ConfigureAwait(false);
            Host.WriteVerbose($"Identity '{text}' is a name: {Json.Str(hit, "id")}.");
            return From(hit);
        }

        /// <summary>Every identity the caller sees, listed once: client and principal IDs can only be matched this way.</summary>
        private async Task<List<JsonObject>> AllAsync(CancellationToken ct) =>
            _all ??= (await ListHereAsync(ct).ConfigureAwait(false)).Concat(await ListOthersAsync(ct).ConfigureAwait(false)).ToList();

        protected override EngineException InvalidId(string text) =>
            new EngineException("InvalidIdentityResourceId", EngineErrorCategory.InvalidArgument,
                $"'{text}' is not a valid user-assigned identity resource ID.",
                "Pass /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>, or the identity's name or client ID.", text);

        protected override EngineException WrongKind(string text, string actualType) =>
            new EngineException("IdentityIdWrongKind", EngineErrorCategory.InvalidArgument,
                $"'{text}' is the ID of a {actualType}, not of a user-assigned managed identity.",
                "Pass the user-assigned identity's resource ID ((Get-AzUserAssignedIdentity -ResourceGroupName <group> -Name <name>).Id); for the target's own identity use -IdentityType SystemAssigned.", text);

        protected override PullIdentity From(JsonObject identity)
        {
            string id = Json.Str(identity, "id") ?? throw new EngineException("InvalidArmReply", EngineErrorCategory.InvalidData, "An identity came back without an id.");
            return new PullIdentity(PullIdentityType.UserAssigned, id, Json.Str(identity, "properties", "clientId"), Json.Str(identity, "properties", "principalId"));
        }

        protected override EngineException NotFound(string text, string what) =>
            new EngineException("UserAssignedIdentityNotFound", EngineErrorCategory.ObjectNotFound,
                $"No user-assigned identity with the {what} '{text}' was found in the subscriptions you can see.",
                "Check the name or ID and the subscription; create one with New-AzUserAssignedIdentity, or use -IdentityType SystemAssigned.", text);
    }
}
