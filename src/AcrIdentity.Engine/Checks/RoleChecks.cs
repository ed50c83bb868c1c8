using System;
using System.Collections.Generic;
using System.Linq;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Checks
{
    /// <summary>Shared wording for the role checks.</summary>
    internal static class RoleText
    {
        internal static string List(IEnumerable<Grant> grants) => string.Join("; ", grants.Select(g => g.Describe()));

        internal static string WantedRole(CheckContext ctx) => ctx.Abac ? PullRoles.NameOf(PullRoles.RepositoryReader) : "AcrPull";

        /// <summary>The command that grants the right role to the identity that pulls.</summary>
        internal static string GrantFix(CheckContext ctx)
        {
            if (ctx.HasTarget && !(ctx.Strategy is null)) return ctx.EnableCommand;
            string fix = $"New-AzRoleAssignment -ObjectId {ctx.Identity?.PrincipalId} -ObjectType ServicePrincipal -RoleDefinitionName '{WantedRole(ctx)}' -Scope '{ctx.RegistryArg}'";
            if (ctx.Abac && ctx.Repository != null)
            {
                fix += $" -Condition \"{PullRoles.Condition(ctx.Repository)}\" -ConditionVersion 2.0";
            }
            return fix;
        }

        /// <summary>Assignments for principals that no longer exist (see OrphanedAssignmentsCheck).</summary>
        internal static List<Grant> Orphans(CheckContext ctx) =>
            ctx.OtherTenant ? new List<Grant>() :
            ctx.AllGrants.Where(g => g.GrantsPullSomehow
                    && (ctx.DirectoryChecked ? g.IsDirectoryPrincipal : g.IsServicePrincipal)
                    && !ctx.KnownPrincipals.Contains(g.PrincipalId)
                    && !string.Equals(g.PrincipalId, ctx.Identity?.PrincipalId, StringComparison.OrdinalIgnoreCase)
                    && AtRegistryOrGroup(g.Scope, ctx.Registry!))
                .ToList();

        // Per-workload grants sit on the registry or its group; subscription-wide ones are people and pipelines.
        private static bool AtRegistryOrGroup(string scope, RegistryInfo registry)
        {
            string s = scope.TrimEnd('/');
            string id = registry.Id.ToString();
            string group = $"/subscriptions/{registry.Id.SubscriptionId}/resourceGroups/{registry.Id.ResourceGroupName}";
            return string.Equals(s, id, StringComparison.OrdinalIgnoreCase) || string.Equals(s, group, StringComparison.OrdinalIgnoreCase);
        }

        internal static List<Grant> ControlPlaneGrants(CheckContext ctx) =>
            ctx.AllGrants.Where(g => g.GrantsPullSomehow && ctx.ControlPlanePrincipals.Contains(g.PrincipalId, StringComparer.OrdinalIgnoreCase)).ToList();
    }

    internal abstract class RoleCheck : PullAccessCheck
    {
        protected override PullCheck Evaluate(CheckContext ctx)
        {
            if (ctx.Registry == null) return Skip("no registry.");
            if (ctx.Identity?.PrincipalId == null) return Skip("no identity (with a principal ID) to evaluate.");
            return EvaluateRoles(ctx);
        }

        protected abstract PullCheck EvaluateRoles(CheckContext ctx);
    }

    /// <summary>Is there any role at the registry or above whose permissions include pulling (in either registry mode)?</summary>
    internal sealed class PullRoleCheck : RoleCheck
    {
        internal override string Id => "PullRole";
        internal override string Name => "A role grants pull at the registry or above";

        protected override PullCheck EvaluateRoles(CheckContext ctx)
        {
            var pull = ctx.PullGrants.ToList();
            if (pull.Count > 0) return Pass($"{ctx.Identity} holds {RoleText.List(pull)}.");
            if (ctx.Strategy is AksTarget && RoleText.ControlPlaneGrants(ctx).Count > 0) return Skip("decided by KubeletIdentity.");
            if (RoleText.Orphans(ctx).Count > 0) return Skip("decided by OrphanedAssignments.");
            string held = ctx.Grants.Count == 0
                ? "it holds no role there"
                : $"it holds {RoleText.List(ctx.Grants)}, whose actions and dataActions (after notActions) include neither registries/pull/read nor repositories/content/read";
            return Fail($"No role at {ctx.Registry!.Name} or above lets {ctx.Identity} (principal {ctx.Identity!.PrincipalId}) pull: {held}.",
                $"Grant {RoleText.WantedRole(ctx)}: {RoleText.GrantFix(ctx)}");
        }
    }

    /// <summary>Roles the registry's mode ignores: legacy roles on an ABAC registry (pain point 10), conditions on a legacy one.</summary>
    internal sealed class RegistryModeRolesCheck : RoleCheck
    {
        internal override string Id => "RoleMatchesRegistryMode";
        internal override string Name => "The role counts in the registry's permission mode";

        protected override PullCheck EvaluateRoles(CheckContext ctx)
        {
            var pull = ctx.PullGrants.ToList();
            if (pull.Count == 0) return Skip("no role grants pull (PullRole).");
            var honoured = ctx.Honoured.ToList();
            if (ctx.Abac)
            {
                if (honoured.Count > 0 || pull.Any(g => g.DataPull)) return honoured.Count > 0
                    ? Pass($"ABAC mode honours {RoleText.List(honoured)}.")
                    : Skip("decided by RepositoryCondition.");
                return Fail($"{ctx.Registry!.Name} is in ABAC mode (AbacRepositoryPermissions), where {RoleText.List(pull)} grants no pulls; only the repository roles (Container Registry Repository Reader/Writer/Contributor) do.",
                    $"Grant Container Registry Repository Reader: {RoleText.GrantFix(ctx)}");
            }
            if (honoured.Count > 0) return Pass($"Legacy mode honours {RoleText.List(honoured)}.");
            return Fail($"{ctx.Registry!.Name} is in legacy mode, where repository roles with a condition ({RoleText.List(pull)}) grant nothing; conditions work only in ABAC mode.",
                $"Grant AcrPull: {RoleText.GrantFix(ctx)} — or switch the registry to ABAC mode (az acr update --role-assignment-mode rbac-abac).");
        }
    }

    /// <summary>ABAC conditions evaluated against the image's repository.</summary>
    internal sealed class RepositoryConditionCheck : RoleCheck
    {
        internal override string Id => "RepositoryCondition";
        internal override string Name => "ABAC conditions cover the image's repository";

        protected override PullCheck EvaluateRoles(CheckContext ctx)
        {
            if (!ctx.Abac) return Skip("legacy mode: conditions do not apply.");
            var data = ctx.PullGrants.Where(g => g.DataPull).ToList();
            if (data.Count == 0) return Skip("no repository role (RoleMatchesRegistryMode).");
            if (data.Any(g => g.Condition == null)) return Pass($"{RoleText.List(data.Where(g => g.Condition == null))} covers every repository.");
            if (ctx.Repository == null)
            {
                return Warn($"Every repository role is limited by a condition ({string.Join(", ", data.Select(g => PermissionEvaluator.ConditionTargets(g.Condition!)))}) and no image is known to check it against.",
                    "Pass -Image with the image the workload pulls.");
            }
            var covering = data.Where(g => PermissionEvaluator.ConditionCovers(g.Condition!, ctx.Repository)).ToList();
            if (covering.Count > 0) return Pass($"The condition of {RoleText.List(covering)} admits '{ctx.Repository}'.");
            return Fail($"{ctx.Identity}'s repository roles are limited to {string.Join(", ", data.Select(g => PermissionEvaluator.ConditionTargets(g.Condition!)))}, which does not include '{ctx.Repository}'.",
                $"Grant Container Registry Repository Reader for '{ctx.Repository}': {RoleText.GrantFix(ctx)}");
        }
    }

    /// <summary>AKS: the role must be on the kubelet identity; the control plane's never pulls (pain point 5).</summary>
    internal sealed class KubeletIdentityCheck : RoleCheck
    {
        internal override string Id => "KubeletIdentity";
        internal override string Name => "AKS: role on the kubelet identity, not the control plane";

        protected override PullCheck EvaluateRoles(CheckContext ctx)
        {
            if (!(ctx.Strategy is AksTarget)) return Skip("not an AKS cluster.");
            if (ctx.PullGrants.Any()) return Pass($"The kubelet identity (object ID {ctx.Identity!.PrincipalId}) holds the pull role.");
            var controlPlane = RoleText.ControlPlaneGrants(ctx);
            if (controlPlane.Count == 0) return Skip("no pull role on either identity (PullRole).");
            return Fail($"{RoleText.List(controlPlane)} is held by {ctx.TargetId!.Name}'s control-plane identity ({controlPlane[0].PrincipalId}), which never pulls images; the kubelet identity (object ID {ctx.Identity!.PrincipalId}) has no pull role.",
                $"Grant the role to the kubelet identity (as az aks update --attach-acr does): {ctx.EnableCommand}; then remove the control-plane assignment (Remove-AzRoleAssignment -ObjectId {controlPlane[0].PrincipalId} -RoleDefinitionName '{controlPlane[0].RoleName}' -Scope '{controlPlane[0].Scope}').");
        }
    }

    /// <summary>
    /// Assignments whose principal no longer exists: what is left when an identity is deleted and recreated (a new
    /// principal ID). Entra ID (Graph) says which principals exist; when it cannot be asked, a service principal counts
    /// as gone when no managed identity in any visible subscription has it. Only assignments on the registry or its
    /// resource group count.
    /// </summary>
    internal sealed class OrphanedAssignmentsCheck : RoleCheck
    {
        internal override string Id => "OrphanedAssignments";
        internal override string Name => "No pull role left for a deleted identity";

        protected override PullCheck EvaluateRoles(CheckContext ctx)
        {
            if (ctx.OtherTenant) return Skip($"{ctx.Registry!.Name}'s subscription belongs to another tenant, whose directory holds its principals.");
            var orphans = RoleText.Orphans(ctx);
            if (orphans.Count == 0) return Pass($"Every pull assignment on {ctx.Registry!.Name} names an existing identity.");
            string list = string.Join("; ", orphans.Select(o => $"{o.RoleName} for principal {o.PrincipalId} ({o.Id})"));
            string remove = string.Join("; ", orphans.Select(o => $"Remove-AzRoleAssignment -ObjectId {o.PrincipalId} -RoleDefinitionName '{o.RoleName}' -Scope '{o.Scope}'"));
            string gone = ctx.DirectoryChecked
                ? "names a principal that no longer exists in Entra ID"
                : "names a principal that is no managed identity in any subscription you can see";
            if (!ctx.PullGrants.Any())
            {
                return Fail($"{ctx.Identity} (principal {ctx.Identity!.PrincipalId}) has no pull role, but {list} {gone} — typically this target's identity deleted and recreated, which gives it a new principal ID.",
                    $"Grant the role to the current identity: {RoleText.GrantFix(ctx)}; then delete the orphan: {remove}");
            }
            return ctx.DirectoryChecked
                ? Warn($"Pull assignments for principals deleted from Entra ID: {list}.", $"Delete them: {remove}")
                : Warn($"Pull assignments for principals that are no managed identity in any subscription you can see (deleted identities, unless they are applications): {list}.", $"Delete the ones left by deleted identities: {remove}");
        }
    }

    /// <summary>Broader roles than pulling needs (issue 5: over-privilege warnings).</summary>
    internal sealed class OverPrivilegeCheck : RoleCheck
    {
        internal override string Id => "LeastPrivilege";
        internal override string Name => "No broader role than pull";

        private static readonly string[] Broad =
        {
            PullRoles.Owner, PullRoles.Contributor, PullRoles.AcrPush, PullRoles.RepositoryWriter, PullRoles.RepositoryContributor,
            "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", // User Access Administrator
        };

        protected override PullCheck EvaluateRoles(CheckContext ctx)
        {
            var broad = ctx.Grants.Where(g => Broad.Contains(g.RoleGuid, StringComparer.OrdinalIgnoreCase)
                || (g.RoleType == "CustomRole" && g.WritesToo)).ToList();
            if (broad.Count == 0) return Pass($"{ctx.Identity} holds no role broader than pull on {ctx.Registry!.Name}.");
            return Warn($"{ctx.Identity} holds {RoleText.List(broad)}, more than pulling needs.",
                $"Grant {RoleText.WantedRole(ctx)} ({RoleText.GrantFix(ctx)}) and remove the broader assignment(s): {string.Join("; ", broad.Select(b => $"Remove-AzRoleAssignment -ObjectId {b.PrincipalId} -RoleDefinitionName '{b.RoleName}' -Scope '{b.Scope}'"))}");
        }
    }
}
