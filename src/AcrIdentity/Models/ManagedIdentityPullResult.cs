using System;

namespace AcrIdentity
{
    /// <summary>
    /// What Enable-AcrManagedIdentityPull did for one target (a site and each slot are separate targets). Pipes into
    /// Test-AcrPullAccess by ResourceId and Registry.
    /// </summary>
    public sealed class ManagedIdentityPullResult
    {
        /// <summary>The target's resource ID (binds to -ResourceId of the next command).</summary>
        public string ResourceId { get; set; } = string.Empty;

        /// <summary>WebApp, WebAppSlot, FunctionApp, ContainerGroup, VirtualMachine, VirtualMachineScaleSet, AksCluster, ContainerApp.</summary>
        public string TargetKind { get; set; } = string.Empty;

        /// <summary>The registry's resource ID (binds to -Registry of the next command).</summary>
        public string Registry { get; set; } = string.Empty;

        public string RegistryLoginServer { get; set; } = string.Empty;

        /// <summary>SystemAssigned, UserAssigned or Kubelet (AKS).</summary>
        public string IdentityType { get; set; } = string.Empty;

        /// <summary>The user-assigned (or kubelet) identity's resource ID; empty for system-assigned.</summary>
        public string? IdentityResourceId { get; set; }

        /// <summary>The principal (object) ID that holds the role.</summary>
        public string? PrincipalId { get; set; }

        /// <summary>The client ID (what App Service's acrUserManagedIdentityID holds).</summary>
        public string? ClientId { get; set; }

        /// <summary>AcrPull, or Container Registry Repository Reader on an ABAC-mode registry.</summary>
        public string RoleName { get; set; } = string.Empty;

        /// <summary>The repository (or prefix ending in '/') the role is limited to, on an ABAC-mode registry.</summary>
        public string? Repository { get; set; }

        /// <summary>The role assignment that grants pull (created, found, or a broader one already in place).</summary>
        public string? RoleAssignmentId { get; set; }

        /// <summary>Configured (something changed), AlreadyConfigured (nothing to do), Failed, or Declined; Disable: Disabled or AlreadyDisabled.</summary>
        public string Status { get; set; } = string.Empty;

        /// <summary>Images the target is configured to run.</summary>
        public string[] Images { get; set; } = Array.Empty<string>();

        /// <summary>Every step in order, with what happened: a failure shows where it stopped; a rerun finishes it.</summary>
        public ManagedIdentityPullStep[] Steps { get; set; } = Array.Empty<ManagedIdentityPullStep>();

        /// <summary>The error that stopped this target, if any (also written to the error stream).</summary>
        public string? Error { get; set; }

        public override string ToString() => $"{TargetKind} {ResourceId}: {Status}";
    }

    /// <summary>One planned change and what happened to it.</summary>
    public sealed class ManagedIdentityPullStep
    {
        public int Order { get; set; }

        /// <summary>Identity, RoleAssignment or PullConfiguration.</summary>
        public string Step { get; set; } = string.Empty;

        /// <summary>What the plan said: Create, Update, Remove, or None (already in place).</summary>
        public string Action { get; set; } = string.Empty;

        /// <summary>Done, AlreadyDone, Failed, NotRun, Declined.</summary>
        public string Outcome { get; set; } = string.Empty;

        public string Description { get; set; } = string.Empty;

        /// <summary>The resource the step wrote or found (the target, its config, the role assignment).</summary>
        public string? ResourceId { get; set; }

        public string? Detail { get; set; }

        public string? Error { get; set; }

        public override string ToString() => $"{Order}. {Step}: {Outcome} — {Description}";
    }
}
