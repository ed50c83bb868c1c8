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
    /// App Service web and function apps and their slots (Linux and Windows containers). Each slot has its own
    /// identity and config/web, and neither is swapped, so a slot is a target of its own.
    /// </summary>
    internal sealed class WebAppTarget : TargetStrategy
    {
        internal const string SiteType = "Microsoft.Web/sites";
        internal const string SlotType = "Microsoft.Web/sites/slots";

        internal override string Kind => "WebApp";

        internal override bool Handles(ResourceType type) =>
            string.Equals(type.ToString(), SiteType, StringComparison.OrdinalIgnoreCase) ||
            string.Equals(type.ToString(), SlotType, StringComparison.OrdinalIgnoreCase);

        internal static string ConfigPath(ResourceIdentifier id) => id + "/config/web";

        internal override async Task<TargetState> ReadAsync(ArmGateway arm, ResourceIdentifier id, CancellationToken ct)
        {
            TargetState site = await base.ReadAsync(arm, id, ct).ConfigureAwait(false);
            // Only the config/web resource reliably carries the acr* settings (the site's siteConfig is often null).
            ArmResponse config = await arm.GetAsync(ConfigPath(id), ct).ConfigureAwait(false);
            return new TargetState(id, site.Resource, config.Object ?? new JsonObject());
        }

        internal static string KindOf(TargetState state)
        {
            string kind = Json.Str(state.Resource, "kind") ?? string.Empty;
            string baseKind = kind.IndexOf("functionapp", StringComparison.OrdinalIgnoreCase) >= 0 ? "FunctionApp" : "WebApp";
            return string.Equals(state.Id.ResourceType.ToString(), SlotType, StringComparison.OrdinalIgnoreCase) ? baseKind + "Slot" : baseKind;
        }

        internal override IReadOnlyList<string> FindImages(TargetState state)
        {
            var images = new List<string>();
            foreach (string key in new[] { "linuxFxVersion", "windowsFxVersion" })
            {
                string? fx = Json.Str(state.Config, "properties", key);
                if (fx != null && fx.StartsWith("DOCKER|", StringComparison.OrdinalIgnoreCase)) images.Add(fx.Substring(7));
            }
            return images;
        }

        internal override IEnumerable<string> Warnings(TargetState state, RegistryInfo registry)
        {
            foreach (string w in base.Warnings(state, registry)) yield return w;
            string? linux = Json.Str(state.Config, "properties", "linuxFxVersion");
            string? windows = Json.Str(state.Config, "properties", "windowsFxVersion");
            string fx = !string.IsNullOrEmpty(linux) ? linux! : windows ?? string.Empty;
            if (fx.Length > 0 && !fx.StartsWith("DOCKER|", StringComparison.OrdinalIgnoreCase))
            {
                yield return $"{state.Id.Name} runs '{fx}', not a container image; the ACR pull settings take effect once it runs an image from {registry.LoginServer}.";
            }
            string? configured = Json.Str(state.Config, "properties", "acrUserManagedIdentityID");
            AttachedIdentity? byPrincipal = string.IsNullOrEmpty(configured) ? null :
                state.Identity.UserAssigned.FirstOrDefault(u => string.Equals(u.PrincipalId, configured, StringComparison.OrdinalIgnoreCase));
            if (byPrincipal != null)
            {
                yield return $"acrUserManagedIdentityID on {state.Id.Name} holds '{configured}', the principal (object) ID of {ManagedIdentityBlock.ShortName(byPrincipal.ResourceId)}; App Service needs its client ID ({byPrincipal.ClientId}), so pulls fail until it is replaced.";
            }
        }

        internal override PullConfigCheck CheckPullConfig(TargetState state, PullIdentity want, RegistryInfo registry)
        {
            bool? use = Json.Bool(state.Config, "properties", "acrUseManagedIdentityCreds");
            string? clientId = Json.Str(state.Config, "properties", "acrUserManagedIdentityID");
            string current = $"acrUseManagedIdentityCreds={(use?.ToString().ToLowerInvariant() ?? "null")}, acrUserManagedIdentityID={(string.IsNullOrEmpty(clientId) ? "(system)" : clientId)}";
            bool identityOk = want.Type == PullIdentityType.UserAssigned
                ? string.Equals(clientId, want.ClientId, StringComparison.OrdinalIgnoreCase)
                : string.IsNullOrEmpty(clientId);
            string change = want.Type == PullIdentityType.UserAssigned
                ? $"acrUseManagedIdentityCreds=true, acrUserManagedIdentityID={want.ClientId} (client ID)"
                : "acrUseManagedIdentityCreds=true (system-assigned identity)";
            return new PullConfigCheck(use == true && identityOk, current, change);
        }

        internal override async Task<TargetState?> WritePullConfigAsync(ArmGateway arm, TargetState state, PullIdentity want, RegistryInfo registry, CancellationToken ct)
        {
            // A PATCH of the two settings only: a full siteConfig PUT would reset everything else (pain point 4).
            var properties = new JsonObject { ["acrUseManagedIdentityCreds"] = true };
            if (want.Type == PullIdentityType.UserAssigned)
            {
                properties["acrUserManagedIdentityID"] = want.ClientId;
            }
            else if (!string.IsNullOrEmpty(Json.Str(state.Config, "properties", "acrUserManagedIdentityID")))
            {
                // Empty means "the system-assigned identity" to App Service.
                properties["acrUserManagedIdentityID"] = string.Empty;
            }
            return ConfigReplied(state, await arm.PatchAsync(ConfigPath(state.Id), new JsonObject { ["properties"] = properties }, ct).ConfigureAwait(false));
        }

        /// <summary>config/web answers a write with the whole config resource: the new state, site unchanged.</summary>
        private static TargetState? ConfigReplied(TargetState state, ArmResponse reply) =>
            IsResource(reply.Object, ConfigPath(state.Id)) ? new TargetState(state.Id, state.Resource, reply.Object) : null;

        internal override PullConfigCheck CheckPullOff(TargetState state, RegistryInfo registry)
        {
            bool? use = Json.Bool(state.Config, "properties", "acrUseManagedIdentityCreds");
            return new PullConfigCheck(use != true, $"acrUseManagedIdentityCreds={(use?.ToString().ToLowerInvariant() ?? "null")}", "acrUseManagedIdentityCreds=false");
        }

        internal override async Task<TargetState?> WritePullOffAsync(ArmGateway arm, TargetState state, RegistryInfo registry, CancellationToken ct)
        {
            var body = new JsonObject { ["properties"] = new JsonObject { ["acrUseManagedIdentityCreds"] = false } };
            return ConfigReplied(state, await arm.PatchAsync(ConfigPath(state.Id), body, ct).ConfigureAwait(false));
        }

        internal override IEnumerable<string> PullPrincipals(TargetState state, RegistryInfo registry)
        {
            if (Json.Bool(state.Config, "properties", "acrUseManagedIdentityCreds") != true) yield break;
            string? principal = PrincipalOf(state.Identity, Json.Str(state.Config, "properties", "acrUserManagedIdentityID"));
            if (principal != null) yield return principal;
        }
    }
}
