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
    /// Container Instances: identity + imageRegistryCredentials[].identity (a user-assigned identity's resource
    /// ID). The group's PATCH only takes tags, so both go in one re-PUT of the group's own spec — one restart, and
    /// after the role exists, since ACI pulls as soon as the PUT lands.
    /// </summary>
    internal sealed class ContainerGroupTarget : TargetStrategy
    {
        // Seed 002's limitations list: managed-identity pulls are not offered in these regions.
        internal static readonly IReadOnlyCollection<string> UnsupportedRegions = new[] { "canadacentral", "southindia", "westcentralus" };

        internal override string Kind => "ContainerGroup";

        internal override bool Handles(ResourceType type) =>
            string.Equals(type.ToString(), "Microsoft.ContainerInstance/containerGroups", StringComparison.OrdinalIgnoreCase);

        internal override void Validate(TargetState state, PullIdentity want, RegistryInfo registry)
        {
            string id = state.Id.ToString();
            string? os = Json.Str(state.Resource, "properties", "osType");
            if (string.Equals(os, "Windows", StringComparison.OrdinalIgnoreCase))
            {
                throw Errors.Unsupported("ContainerGroupWindowsUnsupported",
                    $"The container group '{state.Id.Name}' runs Windows containers; Container Instances cannot pull with a managed identity for Windows groups (IdentityNotSupportedOnWindows).",
                    "Use a registry token or the admin credentials for this group, or run it as a Linux group.", id);
            }
            if (Json.Arr(state.Resource, "properties", "subnetIds") is JsonArray subnets && subnets.Count > 0)
            {
                throw Errors.Unsupported("ContainerGroupVNetUnsupported",
                    $"The container group '{state.Id.Name}' is injected into a virtual network; Container Instances does not support managed-identity image pulls for VNet-injected groups.",
                    "Use a registry token for this group, or deploy it without subnetIds.", id);
            }
            string location = (state.Location ?? string.Empty).Replace(" ", string.Empty).ToLowerInvariant();
            if (UnsupportedRegions.Contains(location))
            {
                throw Errors.Unsupported("ContainerGroupRegionUnsupported",
                    $"The container group '{state.Id.Name}' is in {state.Location}, where Container Instances does not support managed-identity image pulls.",
                    "Deploy the group in another region, or use a registry token here.", id);
            }
            if (want.Type != PullIdentityType.UserAssigned)
            {
                throw Errors.Unsupported("ContainerGroupNeedsUserAssignedIdentity",
                    $"Container Instances pulls only with a user-assigned identity (imageRegistryCredentials[].identity takes its resource ID); a system-assigned one does not exist before the first pull.",
                    "Pass -UserAssignedIdentity with the identity's name or resource ID (New-AzUserAssignedIdentity creates one).", id);
            }
            // A re-PUT must resend every credential; ARM never returns passwords, so such groups cannot be re-PUT safely.
            foreach (JsonObject cred in Credentials(state.Resource))
            {
                string? server = Json.Str(cred, "server");
                bool ours = string.Equals(server, registry.LoginServer, StringComparison.OrdinalIgnoreCase);
                if (!ours && !string.IsNullOrEmpty(Json.Str(cred, "username")) && string.IsNullOrEmpty(Json.Str(cred, "identity")))
                {
                    throw Errors.Unsupported("ContainerGroupHasPasswordCredentials",
                        $"The container group '{state.Id.Name}' also pulls from '{server}' with a password, which ARM does not return; re-sending the group's spec would drop it.",
                        "Redeploy the group from its template with imageRegistryCredentials[].identity set, or move the other registry to an identity too.", id);
                }
            }
        }

        internal override IReadOnlyList<string> FindImages(TargetState state) =>
            (Json.Arr(state.Resource, "properties", "containers") ?? new JsonArray())
                .Select(c => Json.Str(c, "properties", "image")).Where(i => !string.IsNullOrEmpty(i)).Select(i => i!).ToList();

        private static IEnumerable<JsonObject> Credentials(JsonNode? resource) =>
            (Json.Arr(resource, "properties", "imageRegistryCredentials") ?? new JsonArray()).OfType<JsonObject>();

        internal override PullConfigCheck CheckPullConfig(TargetState state, PullIdentity want, RegistryInfo registry)
        {
            JsonObject? cred = Credentials(state.Resource).FirstOrDefault(c => IsEntryFor(c, registry));
            string? identity = Json.Str(cred, "identity");
            string current = cred == null ? $"no credential for {registry.LoginServer}" :
                identity != null ? $"{registry.LoginServer} with identity {identity}" : $"{registry.LoginServer} with username {Json.Str(cred, "username")}";
            bool ok = cred != null && Json.SameId(identity, want.ResourceId) && string.IsNullOrEmpty(Json.Str(cred, "username"));
            return new PullConfigCheck(ok, current, $"imageRegistryCredentials: {registry.LoginServer} with identity {want.ResourceId}");
        }

        internal override Task<TargetState?> AddIdentityAsync(ArmGateway arm, TargetState state, PullIdentity want, RegistryInfo registry, CancellationToken ct) =>
            PutAsync(arm, state, want, registry, ct);

        internal override Task<TargetState?> WritePullConfigAsync(ArmGateway arm, TargetState state, PullIdentity want, RegistryInfo registry, CancellationToken ct) =>
            PutAsync(arm, state, want, registry, ct);

        /// <summary>The group's own spec with the identity added and the registry's credential switched to it.</summary>
        internal JsonObject DesiredSpec(TargetState state, PullIdentity want, RegistryInfo registry)
        {
            JsonObject spec = Json.Clone(state.Resource);
            foreach (string readOnly in new[] { "id", "name", "type" }) Json.Remove(spec, readOnly);
            Json.Set(spec, "identity", state.Identity.WithAdded(want, CombinedIdentityType));
            JsonObject properties = Json.Obj(spec, "properties") ?? new JsonObject();
            Json.Set(spec, "properties", properties);
            Json.Remove(properties, "provisioningState");
            Json.Remove(properties, "instanceView");
            foreach (JsonObject container in (Json.Arr(properties, "containers") ?? new JsonArray()).OfType<JsonObject>())
            {
                Json.Remove(Json.Obj(container, "properties"), "instanceView");
            }
            var creds = new JsonArray();
            bool found = false;
            foreach (JsonObject cred in (Json.Arr(properties, "imageRegistryCredentials") ?? new JsonArray()).OfType<JsonObject>())
            {
                if (IsEntryFor(cred, registry))
                {
                    if (found) continue;
                    found = true;
                    creds.Add(new JsonObject { ["server"] = Json.Str(cred, "server"), ["identity"] = want.ResourceId });
                }
                else
                {
                    creds.Add(Json.Clone(cred));
                }
            }
            if (!found) creds.Add(new JsonObject { ["server"] = registry.LoginServer, ["identity"] = want.ResourceId });
            Json.Set(properties, "imageRegistryCredentials", creds);
            return spec;
        }

        private async Task<TargetState?> PutAsync(ArmGateway arm, TargetState state, PullIdentity want, RegistryInfo registry, CancellationToken ct) =>
            Replied(state, await arm.PutAsync(state.Id.ToString(), DesiredSpec(state, want, registry), ct).ConfigureAwait(false));

        private static JsonObject? IdentityCredential(JsonNode? resource, RegistryInfo registry) =>
            Credentials(resource).FirstOrDefault(c => IsIdentityEntryFor(c, registry));

        internal override PullConfigCheck CheckPullOff(TargetState state, RegistryInfo registry)
        {
            JsonObject? cred = IdentityCredential(state.Resource, registry);
            return new PullConfigCheck(cred == null, cred == null ? $"no identity credential for {registry.LoginServer}" : $"{registry.LoginServer} with identity {Json.Str(cred, "identity")}",
                $"imageRegistryCredentials without {registry.LoginServer}");
        }

        internal override async Task<TargetState?> WritePullOffAsync(ArmGateway arm, TargetState state, RegistryInfo registry, CancellationToken ct)
        {
            JsonObject spec = DesiredSpec(state, new PullIdentity(PullIdentityType.UserAssigned, "unused"), registry);
            // DesiredSpec adds our identity and credential; take both back out, keeping the group's own identities.
            Json.Set(spec, "identity", Json.Obj(state.Resource, "identity") is JsonObject own ? Json.Clone(own) : null);
            if (Json.Obj(spec, "identity") is JsonObject identity)
            {
                Json.Remove(identity, "principalId");
                Json.Remove(identity, "tenantId");
                if (Json.Obj(identity, "userAssignedIdentities") is JsonObject map)
                {
                    foreach (string key in map.Select(kv => kv.Key).ToList()) map[key] = new JsonObject();
                }
            }
            else
            {
                Json.Remove(spec, "identity");
            }
            JsonObject properties = Json.Obj(spec, "properties")!;
            var kept = new JsonArray();
            foreach (JsonObject cred in (Json.Arr(properties, "imageRegistryCredentials") ?? new JsonArray()).OfType<JsonObject>())
            {
                if (!IsEntryFor(cred, registry)) kept.Add(Json.Clone(cred));
            }
            Json.Set(properties, "imageRegistryCredentials", kept);
            return Replied(state, await arm.PutAsync(state.Id.ToString(), spec, ct).ConfigureAwait(false));
        }

        internal override IEnumerable<string> PullPrincipals(TargetState state, RegistryInfo registry)
        {
            string? principal = PrincipalOf(state.Identity, Json.Str(IdentityCredential(state.Resource, registry), "identity"));
            if (principal != null) yield return principal;
        }
    }
}
