using System;
using System.Linq;
using System.Text.Json.Nodes;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Checks
{
    internal abstract class RegistryCheck : PullAccessCheck
    {
        protected override PullCheck Evaluate(CheckContext ctx)
        {
            if (ctx.Registry == null || ctx.RegistryResource == null) return Skip("no registry.");
            return EvaluateRegistry(ctx, ctx.RegistryResource);
        }

        protected abstract PullCheck EvaluateRegistry(CheckContext ctx, JsonObject registry);
    }

    /// <summary>Network rules against where the target pulls from (pain point 8).</summary>
    internal sealed class NetworkAccessCheck : RegistryCheck
    {
        internal override string Id => "NetworkAccess";
        internal override string Name => "Registry network rules let the target in";

        protected override PullCheck EvaluateRegistry(CheckContext ctx, JsonObject registry)
        {
            string name = ctx.Registry!.Name;
            bool publicDisabled = string.Equals(Json.Str(registry, "properties", "publicNetworkAccess"), "Disabled", StringComparison.OrdinalIgnoreCase);
            string defaultAction = Json.Str(registry, "properties", "networkRuleSet", "defaultAction") ?? "Allow";
            int ipRules = Json.Arr(registry, "properties", "networkRuleSet", "ipRules")?.Count ?? 0;
            bool bypass = !string.Equals(Json.Str(registry, "properties", "networkRuleBypassOptions"), "None", StringComparison.OrdinalIgnoreCase);
            bool privateEndpoints = (Json.Arr(registry, "properties", "privateEndpointConnections")?.Count ?? 0) > 0;
            // Trusted services: only a container group's own (system-assigned) identity gets through the bypass.
            bool trusted = bypass && ctx.Strategy is ContainerGroupTarget && ctx.Identity?.Type == Targets.PullIdentityType.SystemAssigned;

            if (!publicDisabled && !string.Equals(defaultAction, "Deny", StringComparison.OrdinalIgnoreCase))
            {
                return Pass($"{name} accepts connections from any network (public access enabled, default action Allow).");
            }
            if (trusted) return Pass($"{name} restricts networks, but a container group's own identity comes in as a trusted service (networkRuleBypassOptions AzureServices).");
            string what = publicDisabled ? "public network access is disabled" : $"the firewall's default action is Deny{(ipRules > 0 ? $" with {ipRules} IP rule(s)" : " with no IP rule")}";
            string where = ctx.Strategy switch
            {
                WebAppTarget _ => "App Service is not a trusted service: it needs VNet integration with vnetImagePullEnabled and a private endpoint of the registry",
                ContainerGroupTarget _ => "Container Instances with a user-assigned identity is not let in as a trusted service",
                ContainerAppTarget _ => "the Container Apps environment needs a VNet that reaches a private endpoint of the registry",
                null => "the identity's workload must reach it through a private endpoint or an allowed IP",
                _ => $"the {ctx.Kind}'s network must reach a private endpoint of the registry",
            };
            string fix = publicDisabled
                ? $"Give the target a private path (private endpoint + private DNS zone privatelink.azurecr.io in its VNet), or enable public access: Update-AzContainerRegistry -Name {name} -ResourceGroupName {ctx.Registry.Id.ResourceGroupName} -PublicNetworkAccess Enabled"
                : $"Add the target's outbound IP addresses to the registry firewall (az acr network-rule add -n {name} --ip-address <ip>), or give it a private endpoint.";
            if (privateEndpoints || (!publicDisabled && ipRules > 0))
            {
                return Warn($"{name}: {what}; {where}. The module cannot see whether the target's network is covered{(privateEndpoints ? " (the registry has private endpoints)" : string.Empty)}.", fix);
            }
            return Fail($"{name}: {what}; {where}, so the pull is refused.", fix);
        }
    }

    /// <summary>Tokens with the ARM audience refused (azureADAuthenticationAsArmPolicy disabled, pain point 9).</summary>
    internal sealed class ArmAudiencePolicyCheck : RegistryCheck
    {
        internal override string Id => "ArmAudienceTokens";
        internal override string Name => "Registry accepts ARM-audience tokens";

        protected override PullCheck EvaluateRegistry(CheckContext ctx, JsonObject registry)
        {
            string? status = Json.Str(registry, "properties", "policies", "azureADAuthenticationAsArmPolicy", "status");
            if (!string.Equals(status, "disabled", StringComparison.OrdinalIgnoreCase)) return Pass("ARM-audience Entra tokens are accepted.");
            return Warn($"{ctx.Registry!.Name} disables authentication-as-ARM: only tokens for https://containerregistry.azure.net are exchanged. Clients that send ARM-audience tokens (older AKS kubelets, az acr check-health, scripts) fail with 'token validation failed'.",
                $"Re-enable it if such clients pull: az acr config authentication-as-arm update -r {ctx.Registry.Name} --status enabled");
        }
    }

    internal sealed class AnonymousPullCheck : RegistryCheck
    {
        internal override string Id => "AnonymousPull";
        internal override string Name => "Anonymous pull is off";

        protected override PullCheck EvaluateRegistry(CheckContext ctx, JsonObject registry)
        {
            if (Json.Bool(registry, "properties", "anonymousPullEnabled") != true) return Pass("Anonymous pull is disabled.");
            return Warn($"{ctx.Registry!.Name} allows anonymous pull: anyone who can reach it can pull every image, so a pull succeeding proves nothing about the identity.",
                $"Turn it off unless it is meant to be public: Update-AzContainerRegistry -Name {ctx.Registry.Name} -ResourceGroupName {ctx.Registry.Id.ResourceGroupName} -AnonymousPullEnabled:$false (az acr update -n {ctx.Registry.Name} --anonymous-pull-enabled false)");
        }
    }

    internal sealed class AdminUserCheck : RegistryCheck
    {
        internal override string Id => "AdminUser";
        internal override string Name => "Admin user is disabled";

        protected override PullCheck EvaluateRegistry(CheckContext ctx, JsonObject registry)
        {
            if (Json.Bool(registry, "properties", "adminUserEnabled") != true) return Pass("The admin user is disabled.");
            return Warn($"{ctx.Registry!.Name} has the admin user enabled: a shared password with push rights that identity pulls make unnecessary.",
                $"Disable it once nothing logs in with it: Update-AzContainerRegistry -Name {ctx.Registry.Name} -ResourceGroupName {ctx.Registry.Id.ResourceGroupName} -DisableAdminUser");
        }
    }
}
