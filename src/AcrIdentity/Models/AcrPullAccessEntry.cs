using System;

namespace AcrIdentity
{
    /// <summary>
    /// Get-AcrPullAccess: one role assignment that lets a principal pull from (or more on) one registry, with the
    /// resources behind the principal. Pipes into Grant-/Revoke-AcrPullAccess by PrincipalId, Registry and AssignmentId.
    /// </summary>
    public sealed class AcrPullAccessEntry
    {
        /// <summary>The registry's name.</summary>
        public string Registry { get; set; } = string.Empty;
        public string RegistryId { get; set; } = string.Empty;
        public string PrincipalId { get; set; } = string.Empty;
        /// <summary>ServicePrincipal, User, Group or ForeignGroup, as the assignment says.</summary>
        public string PrincipalType { get; set; } = string.Empty;
        /// <summary>The principal's display name in Entra ID (an identity's or app's name, a user's or group's display name); empty when unknown or deleted.</summary>
        public string? PrincipalName { get; set; }
        /// <summary>ManagedIdentity, Application, User or Group, as Entra ID says; empty when unknown or deleted.</summary>
        public string? PrincipalKind { get; set; }
        /// <summary>SystemAssigned, UserAssigned, Kubelet; empty when no managed identity has the principal.</summary>
        public string? IdentityType { get; set; }
        /// <summary>The user-assigned identity, or the resource whose system-assigned identity it is.</summary>
        public string? IdentityResourceId { get; set; }
        /// <summary>The resources that pull as this principal.</summary>
        public string[] Resources { get; set; } = Array.Empty<string>();
        public string Role { get; set; } = string.Empty;
        public string RoleDefinitionId { get; set; } = string.Empty;
        /// <summary>BuiltInRole or CustomRole.</summary>
        public string RoleType { get; set; } = string.Empty;
        public string Scope { get; set; } = string.Empty;
        /// <summary>Registry, ResourceGroup, Subscription, ManagementGroup or Root.</summary>
        public string ScopeLevel { get; set; } = string.Empty;
        /// <summary>The scope the assignment is inherited from; empty when it is on the registry itself.</summary>
        public string? InheritedFrom { get; set; }
        public string? Condition { get; set; }
        /// <summary>The registry's permission mode (legacy or ABAC) honours this assignment for pulls.</summary>
        public bool GrantsPull { get; set; }
        public bool RegistryAbacMode { get; set; }
        /// <summary>
        /// The principal no longer exists in Entra ID (deleted). When Entra ID cannot be read (a warning says so), a guess:
        /// no managed identity you can see has this service principal.
        /// </summary>
        public bool IsOrphaned { get; set; }
        /// <summary>The role allows more than pulling (push, registry or role-assignment writes).</summary>
        public bool IsOverPrivileged { get; set; }
        public string AssignmentId { get; set; } = string.Empty;
        public string? Note { get; set; }
    }

    /// <summary>What Grant- or Revoke-AcrPullAccess did for one assignment.</summary>
    public sealed class AcrPullAccessChange
    {
        public string Registry { get; set; } = string.Empty;
        public string RegistryId { get; set; } = string.Empty;
        public string PrincipalId { get; set; } = string.Empty;
        /// <summary>How the -Principal input was understood.</summary>
        public string PrincipalSource { get; set; } = string.Empty;
        public string Role { get; set; } = string.Empty;
        public string Scope { get; set; } = string.Empty;
        public string? AssignmentId { get; set; }
        /// <summary>Created, AlreadyGranted, CoveredByBroaderRole, Removed, AlreadyAbsent, Declined.</summary>
        public string Status { get; set; } = string.Empty;
        public string? Detail { get; set; }
    }

    /// <summary>
    /// New-AcrPullIdentity: the user-assigned identity and its pull grant. Pass it to
    /// Enable-AcrManagedIdentityPull -UserAssignedIdentity (its Id binds there).
    /// </summary>
    public sealed class AcrPullIdentity
    {
        /// <summary>The identity's resource ID.</summary>
        public string Id { get; set; } = string.Empty;
        public string Name { get; set; } = string.Empty;
        public string ResourceGroupName { get; set; } = string.Empty;
        public string? Location { get; set; }
        public string? ClientId { get; set; }
        public string? PrincipalId { get; set; }
        /// <summary>The identity's resource ID again, under the name of Enable-AcrManagedIdentityPull's parameter.</summary>
        public string UserAssignedIdentity => Id;
        /// <summary>Created, AlreadyExisted, Declined.</summary>
        public string Status { get; set; } = string.Empty;
        /// <summary>The registry's resource ID.</summary>
        public string? Registry { get; set; }
        public string? Role { get; set; }
        public string? RoleAssignmentId { get; set; }
        /// <summary>Created, AlreadyGranted, CoveredByBroaderRole, Declined.</summary>
        public string? GrantStatus { get; set; }
    }
}
