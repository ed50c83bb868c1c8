using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace AcrIdentity.Engine.Audit
{
    /// <summary>Get-AcrPullAccess's parameters. Registry and Scope are alternatives; neither = the context's subscription.</summary>
    public sealed class AuditRequest
    {
        /// <summary>Name, login server or resource ID of one registry.</summary>
        public string? Registry { get; set; }
        /// <summary>/subscriptions/{s}, /subscriptions/{s}/resourceGroups/{g}, /providers/Microsoft.Management/managementGroups/{mg}, or a bare subscription ID.</summary>
        public string? Scope { get; set; }
        /// <summary>Only rows whose principal is this object ID.</summary>
        public string? PrincipalId { get; set; }
        /// <summary>Use ARM lists even when Resource Graph answers (tests, clouds without ARG).</summary>
        public bool ForceArm { get; set; }
    }

    /// <summary>One assignment that lets a principal pull from (or more on) one registry.</summary>
    public sealed class PullAccessEntry
    {
        public string Registry { get; internal set; } = string.Empty;
        public string RegistryId { get; internal set; } = string.Empty;
        public string PrincipalId { get; internal set; } = string.Empty;
        /// <summary>As the assignment says: ServicePrincipal, User, Group, ForeignGroup.</summary>
        public string PrincipalType { get; internal set; } = string.Empty;
        /// <summary>Entra ID's display name (a managed identity's: its identity or resource name); null when unknown or deleted.</summary>
        public string? PrincipalName { get; internal set; }
        /// <summary>What Entra ID says the principal is: ManagedIdentity, Application, User or Group; null when unknown or deleted.</summary>
        public string? PrincipalKind { get; internal set; }
        /// <summary>SystemAssigned, UserAssigned, Kubelet, or null when no managed identity has the principal.</summary>
        public string? IdentityType { get; internal set; }
        /// <summary>The user-assigned identity's resource ID, or the resource whose system-assigned identity it is.</summary>
        public string? IdentityResourceId { get; internal set; }
        /// <summary>The resources that pull as this principal (the system identity's owner, or every resource carrying the user-assigned identity).</summary>
        public IReadOnlyList<string> Resources { get; internal set; } = Array.Empty<string>();
        public string Role { get; internal set; } = string.Empty;
        public string RoleDefinitionId { get; internal set; } = string.Empty;
        /// <summary>BuiltInRole or CustomRole.</summary>
        public string RoleType { get; internal set; } = string.Empty;
        public string Scope { get; internal set; } = string.Empty;
        /// <summary>Registry, ResourceGroup, Subscription, ManagementGroup or Root.</summary>
        public string ScopeLevel { get; internal set; } = string.Empty;
        /// <summary>The scope the assignment is inherited from; null when it is made on the registry itself.</summary>
        public string? InheritedFrom { get; internal set; }
        public string? Condition { get; internal set; }
        /// <summary>The registry's current permission mode honours this assignment for pulls.</summary>
        public bool GrantsPull { get; internal set; }
        /// <summary>The registry is in ABAC mode (AbacRepositoryPermissions).</summary>
        public bool RegistryAbacMode { get; internal set; }
        /// <summary>
        /// The principal no longer exists in Entra ID. When Entra ID cannot be asked (see <see cref="AuditResult.DirectoryChecked"/>),
        /// a guess: a service principal that no managed identity visible to the caller has.
        /// </summary>
        public bool IsOrphaned { get; internal set; }
        /// <summary>The role allows more than pulling (push, registry or role-assignment writes).</summary>
        public bool IsOverPrivileged { get; internal set; }
        public string AssignmentId { get; internal set; } = string.Empty;
        /// <summary>Why a flag is set, in words.</summary>
        public string? Note { get; internal set; }
    }

    /// <summary>The audit's rows, and what it cost.</summary>
    public sealed class AuditResult
    {
        internal AuditResult(IReadOnlyList<PullAccessEntry> entries, bool usedResourceGraph, int resourceGraphPages, bool directoryChecked)
        {
            Entries = entries;
            UsedResourceGraph = usedResourceGraph;
            ResourceGraphPages = resourceGraphPages;
            DirectoryChecked = directoryChecked;
        }

        public IReadOnlyList<PullAccessEntry> Entries { get; }
        public bool UsedResourceGraph { get; }
        public int ResourceGraphPages { get; }
        /// <summary>Principals no visible managed identity has were looked up in Entra ID (or there were none): IsOrphaned is exact.</summary>
        public bool DirectoryChecked { get; }
    }

    /// <summary>Grant-/Revoke-AcrPullAccess's parameters.</summary>
    public sealed class AccessRequest
    {
        /// <summary>Principal (object) ID, client ID, user-assigned identity name or ID, or the ID of a resource whose managed identity is meant.</summary>
        public string? Principal { get; set; }
        public string? Registry { get; set; }
        /// <summary>ABAC-mode registries: limit the grant to this repository (or a prefix ending in '/').</summary>
        public string? Repository { get; set; }
        /// <summary>Revoke: exactly this assignment (a Get-AcrPullAccess row).</summary>
        public string? AssignmentId { get; set; }
        public TimeSpan PropagationTimeout { get; set; } = TimeSpan.FromMinutes(5);
        public TimeSpan PropagationRetryDelay { get; set; } = TimeSpan.FromSeconds(2);
        /// <summary>Grant: assign the pull role even when a broader role already grants pull.</summary>
        public bool Force { get; set; }
        public bool PlanOnly { get; set; }
        /// <summary>Asked before each write with (target, action); false skips it.</summary>
        public Func<string, string, CancellationToken, Task<bool>>? Approve { get; set; }
    }

    /// <summary>What Grant/Revoke did (or would do) for one assignment.</summary>
    public sealed class AccessChange
    {
        public string Registry { get; internal set; } = string.Empty;
        public string RegistryId { get; internal set; } = string.Empty;
        public string PrincipalId { get; internal set; } = string.Empty;
        /// <summary>How the principal input was understood (principal ID, client ID of …, system identity of …).</summary>
        public string PrincipalSource { get; internal set; } = string.Empty;
        public string Role { get; internal set; } = string.Empty;
        public string Scope { get; internal set; } = string.Empty;
        public string? AssignmentId { get; internal set; }
        /// <summary>Created, AlreadyGranted, CoveredByBroaderRole, Removed, AlreadyAbsent, WouldCreate, WouldRemove, Declined.</summary>
        public string Status { get; internal set; } = string.Empty;
        public string? Detail { get; internal set; }
    }

    /// <summary>New-AcrPullIdentity's parameters.</summary>
    public sealed class NewIdentityRequest
    {
        public string? Name { get; set; }
        public string? ResourceGroupName { get; set; }
        /// <summary>Default: the resource group's location.</summary>
        public string? Location { get; set; }
        /// <summary>Default: the context's subscription.</summary>
        public string? SubscriptionId { get; set; }
        public string? Registry { get; set; }
        public string? Repository { get; set; }
        public TimeSpan PropagationTimeout { get; set; } = TimeSpan.FromMinutes(5);
        public TimeSpan PropagationRetryDelay { get; set; } = TimeSpan.FromSeconds(2);
        public bool PlanOnly { get; set; }
        public Func<string, string, CancellationToken, Task<bool>>? Approve { get; set; }
    }

    /// <summary>The identity New-AcrPullIdentity made (or found) and its grant.</summary>
    public sealed class NewIdentityOutcome
    {
        public string Id { get; internal set; } = string.Empty;
        public string Name { get; internal set; } = string.Empty;
        public string ResourceGroupName { get; internal set; } = string.Empty;
        public string? Location { get; internal set; }
        public string? ClientId { get; internal set; }
        public string? PrincipalId { get; internal set; }
        /// <summary>Created, AlreadyExisted, WouldCreate, Declined.</summary>
        public string IdentityStatus { get; internal set; } = string.Empty;
        public AccessChange? Grant { get; internal set; }
    }
}
