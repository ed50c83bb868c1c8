using System;
using System.Linq;
using System.Text.Json.Nodes;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Checks
{
    /// <summary>One check: a stable Id and Name and a verdict from what CheckContext read.</summary>
    internal abstract class PullAccessCheck
    {
        internal abstract string Id { get; }
        internal abstract string Name { get; }

        internal PullCheck Run(CheckContext ctx)
        {
            if (ctx.TargetMissing != null && !(this is TargetFoundCheck)) return Skip("the target could not be read.");
            // A Windows container group cannot have an identity at all, so its identity settings are moot.
            if (DependsOnIdentitySettings && ContainerInstanceLimitsCheck.IsWindowsGroup(ctx)) return Skip("decided by ContainerInstanceLimits.");
            return Evaluate(ctx);
        }

        protected abstract PullCheck Evaluate(CheckContext ctx);

        /// <summary>Checks about the target's identity and its pull settings.</summary>
        protected virtual bool DependsOnIdentitySettings => false;

        protected PullCheck Pass(string message) => new PullCheck(Id, Name, CheckResult.Pass, message);
        protected PullCheck Fail(string message, string? fix) => new PullCheck(Id, Name, CheckResult.Fail, message, fix);
        protected PullCheck Warn(string message, string? fix) => new PullCheck(Id, Name, CheckResult.Warning, message, fix);
        protected PullCheck Skip(string why) => new PullCheck(Id, Name, CheckResult.Skipped, "Skipped: " + why);
        protected PullCheck From(CheckContext ctx, Finding f) => new PullCheck(Id, Name, f.Result, f.Message, ctx.Expand(f.Fix));
    }

    internal sealed class TargetFoundCheck : PullAccessCheck
    {
        internal override string Id => "TargetFound";
        internal override string Name => "Target exists";

        protected override PullCheck Evaluate(CheckContext ctx)
        {
            if (!ctx.HasTarget) return Skip("no target was given; the identity is checked on its own.");
            if (ctx.TargetMissing != null) return From(ctx, ctx.TargetMissing);
            return Pass($"{ctx.Kind} {ctx.TargetId!.Name} exists.");
        }
    }

    internal sealed class IdentityAttachedCheck : PullAccessCheck
    {
        protected override bool DependsOnIdentitySettings => true;

        internal override string Id => "IdentityAttached";
        internal override string Name => "Target has the identity that pulls";

        protected override PullCheck Evaluate(CheckContext ctx)
        {
            if (!ctx.HasTarget)
            {
                return ctx.Identity?.PrincipalId != null
                    ? Pass($"Checking {ctx.Identity} (principal {ctx.Identity.PrincipalId}).")
                    : Fail($"No identity with the ID '{ctx.Request.Identity}' was found.", "Pass the principal (object) ID, client ID or resource ID of a managed identity.");
            }
            if (ctx.IdentityFinding != null) return From(ctx, ctx.IdentityFinding);
            if (ctx.ConfiguredIdentityFinding?.Result == CheckResult.Fail) return Skip("decided by ConfiguredIdentity.");
            return Skip("no identity could be determined from the pull settings.");
        }
    }

    internal sealed class PullConfigurationCheck : PullAccessCheck
    {
        protected override bool DependsOnIdentitySettings => true;

        internal override string Id => "PullConfiguration";
        internal override string Name => "Target is set to pull with a managed identity";

        protected override PullCheck Evaluate(CheckContext ctx)
        {
            if (!ctx.HasTarget) return Skip("no target.");
            if (ctx.Strategy?.HasPullConfiguration != true) return Skip($"{ctx.Kind} has no pull setting in ARM: the workload logs in with the identity itself.");
            return ctx.ConfigFinding != null ? From(ctx, ctx.ConfigFinding) : Skip("nothing to read.");
        }
    }

    internal sealed class ConfiguredIdentityCheck : PullAccessCheck
    {
        protected override bool DependsOnIdentitySettings => true;

        internal override string Id => "ConfiguredIdentity";
        internal override string Name => "Pull settings name the identity with the right ID";

        protected override PullCheck Evaluate(CheckContext ctx)
        {
            if (!ctx.HasTarget) return Skip("no target.");
            if (ctx.Strategy?.HasPullConfiguration != true) return Skip($"{ctx.Kind} names no identity in its settings.");
            if (ctx.ConfiguredIdentityFinding != null) return From(ctx, ctx.ConfiguredIdentityFinding);
            if (ctx.Identity?.Type == PullIdentityType.SystemAssigned) return Pass("The settings use the system-assigned identity.");
            return Skip("the settings name no identity.");
        }
    }

    /// <summary>Container Instances' documented limits for managed-identity pulls (seed 002, pain point 7).</summary>
    internal sealed class ContainerInstanceLimitsCheck : PullAccessCheck
    {
        internal override string Id => "ContainerInstanceLimits";
        internal override string Name => "Container Instances supports identity pulls here";

        internal static bool IsWindowsGroup(CheckContext ctx) =>
            ctx.Strategy is ContainerGroupTarget && ctx.State != null && string.Equals(Json.Str(ctx.State.Resource, "properties", "osType"), "Windows", StringComparison.OrdinalIgnoreCase);

        protected override PullCheck Evaluate(CheckContext ctx)
        {
            if (!(ctx.Strategy is ContainerGroupTarget)) return Skip("not a container group.");
            JsonObject r = ctx.State!.Resource;
            string name = ctx.TargetId!.Name;
            if (string.Equals(Json.Str(r, "properties", "osType"), "Windows", StringComparison.OrdinalIgnoreCase))
            {
                return Fail($"{name} runs Windows containers; Container Instances cannot pull with a managed identity for Windows groups (IdentityNotSupportedOnWindows).",
                    "Run it as a Linux group, or pull with a registry token (New-AzContainerRegistryToken) in imageRegistryCredentials username/password.");
            }
            if (Json.Arr(r, "properties", "subnetIds") is JsonArray subnets && subnets.Count > 0)
            {
                return Fail($"{name} is injected into a virtual network (subnetIds); Container Instances does not support managed-identity image pulls for VNet-injected groups.",
                    "Deploy the group without subnetIds, or pull with a registry token in imageRegistryCredentials.");
            }
            string location = (ctx.State.Location ?? string.Empty).Replace(" ", string.Empty).ToLowerInvariant();
            if (ContainerGroupTarget.UnsupportedRegions.Contains(location))
            {
                return Fail($"{name} is in {ctx.State.Location}, where Container Instances does not support managed-identity image pulls.",
                    "Deploy the group in another region (not Canada Central, South India or West Central US), or pull with a registry token.");
            }
            return Pass($"Linux, no VNet injection, {ctx.State.Location}: identity pulls are supported.");
        }
    }

    internal sealed class RegistryFoundCheck : PullAccessCheck
    {
        internal override string Id => "RegistryFound";
        internal override string Name => "Registry exists";

        protected override PullCheck Evaluate(CheckContext ctx)
        {
            if (ctx.RegistryMissing != null) return From(ctx, ctx.RegistryMissing);
            if (ctx.Registry == null) return Skip("no registry.");
            return Pass($"{ctx.Registry.Name} ({ctx.Registry.LoginServer}), {(ctx.Abac ? "ABAC mode (AbacRepositoryPermissions)" : "legacy RBAC mode")}.");
        }
    }

    internal sealed class ImageRegistryCheck : PullAccessCheck
    {
        internal override string Id => "ImageRegistry";
        internal override string Name => "Image is in this registry";

        protected override PullCheck Evaluate(CheckContext ctx)
        {
            if (ctx.Registry == null) return Skip("no registry.");
            if (ctx.Image == null)
            {
                return ctx.HasTarget ? Skip($"{ctx.Kind} names no image in ARM; pass -Image to check one.") : Skip("no image given (-Image).");
            }
            string login = ctx.Registry.LoginServer;
            if (ctx.Image.Host == null)
            {
                return Fail($"The image '{ctx.Image.Text}' is a Docker Hub name, not an image in {login}; the identity's role on {ctx.Registry.Name} does not apply to it.",
                    $"Run {login}/{ctx.Image.Repository}:{ctx.Image.Reference} instead (import it with Import-AzContainerRegistryImage or az acr import).");
            }
            if (!string.Equals(ctx.Image.Host, login, StringComparison.OrdinalIgnoreCase))
            {
                return Fail($"The image '{ctx.Image.Text}' names the host {ctx.Image.Host}, but {ctx.Registry.Name}'s login server is {login}.",
                    $"Change the image to {login}/{ctx.Image.Repository}:{ctx.Image.Reference}, or test against the registry behind {ctx.Image.Host} (-Registry {ctx.Image.Host}).");
            }
            string source = ctx.Request.Image != null ? "given" : "configured";
            return Pass($"The {source} image {ctx.Image.Text} is in {login} (repository {ctx.Image.Repository}).");
        }
    }
}
