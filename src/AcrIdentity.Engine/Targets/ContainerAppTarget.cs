using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Configure;
using Azure.Core;

namespace AcrIdentity.Engine.Targets
{
    /// <summary>
    /// Container Apps: configuration.registries[] with identity = the user-assigned identity's resource ID or
    /// "system". PATCH is a JSON merge patch, which replaces arrays whole, so the full registries list is sent.
    /// </summary>
    internal sealed class ContainerAppTarget : TargetStrategy
    {
        internal override string Kind => "ContainerApp";

        internal override bool Handles(ResourceType type) =>
            string.Equals(type.ToString(), "Microsoft.App/containerApps", StringComparison.OrdinalIgnoreCase);

        internal override string CombinedIdentityType => "SystemAssigned,UserAssigned";

        private static string IdentityValue(PullIdentity want) =>
            want.Type == PullIdentityType.UserAssigned ? want.ResourceId! : "system";

        private static IEnumerable<JsonObject> Registries(JsonNode? resource) =>
            (Json.Arr(resource, "properties", "configuration", "registries") ?? new JsonArray()).OfType<JsonObject>();

        internal override IReadOnlyList<string> FindImages(TargetState state) =>
            (Json.Arr(state.Resource, "properties", "template", "containers") ?? new JsonArray())
                .Select(c => Json.Str(c, "image")).Where(i => !string.IsNullOrEmpty(i)).Select(i => i!).ToList();

        internal override PullConfigCheck CheckPullConfig(TargetState state, PullIdentity want, RegistryInfo registry)
        {
            JsonObject? entry = Registries(state.Resource).FirstOrDefault(r => IsEntryFor(r, registry));
            string? identity = Json.Str(entry, "identity");
            string current = entry == null ? $"no registry entry for {registry.LoginServer}" :
                identity != null ? $"{registry.LoginServer} with identity {identity}" : $"{registry.LoginServer} with username {Json.Str(entry, "username")}";
            string wanted = IdentityValue(want);
            bool ok = entry != null && (wanted == "system" ? string.Equals(identity, "system", StringComparison.OrdinalIgnoreCase) : Json.SameId(identity, wanted));
            return new PullConfigCheck(ok, current, $"configuration.registries: {registry.LoginServer} with identity {wanted}");
        }

        internal override async Task<TargetState?> WritePullConfigAsync(ArmGateway arm, TargetState state, PullIdentity want, RegistryInfo registry, CancellationToken ct)
        {
            var list = new JsonArray();
            bool found = false;
            foreach (JsonObject entry in Registries(state.Resource))
            {
                if (!found && IsEntryFor(entry, registry))
                {
                    found = true;
                    list.Add(new JsonObject { ["server"] = Json.Str(entry, "server"), ["identity"] = IdentityValue(want) });
                }
                else
                {
                    list.Add(Json.Clone(entry));
                }
            }
            if (!found) list.Add(new JsonObject { ["server"] = registry.LoginServer, ["identity"] = IdentityValue(want) });
            var body = new JsonObject { ["properties"] = new JsonObject { ["configuration"] = new JsonObject { ["registries"] = list } } };
            return Replied(state, await arm.PatchAsync(state.Id.ToString(), body, ct).ConfigureAwait(false));
        }

        private static JsonObject? IdentityEntry(JsonNode? resource, RegistryInfo registry) =>
            Registries(resource).FirstOrDefault(r => IsIdentityEntryFor(r, registry));

        internal override PullConfigCheck CheckPullOff(TargetState state, RegistryInfo registry)
        {
            JsonObject? entry = IdentityEntry(state.Resource, registry);
            return new PullConfigCheck(entry == null, entry == null ? $"no identity entry for {registry.LoginServer}" : $"{registry.LoginServer} with identity {Json.Str(entry, "identity")}",
                $"configuration.registries without {registry.LoginServer}");
        }

        internal override async Task<TargetState?> WritePullOffAsync(ArmGateway arm, TargetState state, RegistryInfo registry, CancellationToken ct)
        {
            var list = new JsonArray();
            foreach (JsonObject entry in Registries(state.Resource))
            {
                bool ours = IsIdentityEntryFor(entry, registry);
                if (!ours) list.Add(Json.Clone(entry));
            }
            var body = new JsonObject { ["properties"] = new JsonObject { ["configuration"] = new JsonObject { ["registries"] = list } } };
            return Replied(state, await arm.PatchAsync(state.Id.ToString(), body, ct).ConfigureAwait(false));
        }

        internal override IEnumerable<string> PullPrincipals(TargetState state, RegistryInfo registry)
        {
            JsonObject? entry = IdentityEntry(state.Resource, registry);
            string? principal = entry == null ? null : PrincipalOf(state.Identity, Json.Str(entry, "identity"));
            if (principal != null) yield return principal;
        }
    }
}
