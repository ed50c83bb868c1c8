using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Configure
{
    public enum StepKind
    {
        Identity,
        RoleAssignment,
        PullConfiguration,
    }

    /// <summary>What the plan says a step must do.</summary>
    public enum StepAction
    {
        /// <summary>Already in place; nothing is written.</summary>
        None,
        Create,
        Update,
        /// <summary>Disable -RemoveRoleAssignment: a role assignment to delete.</summary>
        Remove,
    }

    /// <summary>What happened to a step.</summary>
    public enum StepOutcome
    {
        /// <summary>Planned, not run (e.g. -WhatIf).</summary>
        Planned,
        Done,
        AlreadyDone,
        Failed,
        /// <summary>Not run because an earlier step failed or was declined.</summary>
        NotRun,
        /// <summary>Declined at the ShouldProcess prompt.</summary>
        Declined,
    }

    public sealed class PullStep
    {
        internal PullStep(StepKind kind, StepAction action, string description, string? resourceId, string? detail)
        {
            Kind = kind;
            Action = action;
            Description = description;
            ResourceId = resourceId;
            Detail = detail;
            Outcome = action == StepAction.None ? StepOutcome.AlreadyDone : StepOutcome.Planned;
        }

        public StepKind Kind { get; }
        public StepAction Action { get; }
        public StepOutcome Outcome { get; internal set; }
        /// <summary>The change in words ("Grant AcrPull to … on …").</summary>
        public string Description { get; internal set; }
        /// <summary>The resource the step writes (the target, its config, or the role assignment).</summary>
        public string? ResourceId { get; internal set; }
        /// <summary>What was found or why nothing changed.</summary>
        public string? Detail { get; internal set; }
        public EngineException? Error { get; internal set; }

        public override string ToString() => $"{Kind}: {Outcome} — {Description}";
    }

    /// <summary>Enable-AcrManagedIdentityPull's parameters, in engine terms.</summary>
    public sealed class EnableRequest
    {
        public string? ResourceId { get; set; }
        public string? Registry { get; set; }
        /// <summary>Null = system-assigned unless UserAssignedIdentity is given.</summary>
        public PullIdentityType? IdentityType { get; set; }
        /// <summary>Name, resource ID, client ID or principal ID of a user-assigned identity.</summary>
        public string? UserAssignedIdentity { get; set; }
        public string? Slot { get; set; }
        public bool IncludeSlots { get; set; }
        public string? Repository { get; set; }
        public TimeSpan PropagationTimeout { get; set; } = TimeSpan.FromMinutes(5);
        /// <summary>Assign the pull role even when a broader role already grants pull.</summary>
        public bool Force { get; set; }

        /// <summary>
        /// Asked before each write with (target, action); false skips it and everything after it. The cmdlet runs
        /// ShouldProcess on the pipeline thread here. Null approves everything.
        /// </summary>
        public Func<string, string, CancellationToken, Task<bool>>? Approve { get; set; }

        /// <summary>Read and plan only (-WhatIf): no step is run, each stays Planned.</summary>
        public bool PlanOnly { get; set; }

        /// <summary>First wait after PrincipalNotFound (doubles up to 30 s).</summary>
        public TimeSpan PropagationRetryDelay { get; set; } = TimeSpan.FromSeconds(2);
    }

    /// <summary>The result for one target (a web app and each of its slots are separate targets).</summary>
    public sealed class EnableOutcome
    {
        internal EnableOutcome(string targetId)
        {
            TargetId = targetId;
        }

        public string TargetId { get; }
        public string TargetKind { get; internal set; } = string.Empty;
        public RegistryInfo? Registry { get; internal set; }
        public PullIdentity? Identity { get; internal set; }
        public PullRole? Role { get; internal set; }
        /// <summary>The assignment that grants pull: created, found, or the broader one that already covers it.</summary>
        public string? RoleAssignmentId { get; internal set; }
        public IReadOnlyList<string> Images { get; internal set; } = Array.Empty<string>();
        public List<PullStep> Steps { get; } = new List<PullStep>();
        /// <summary>Why this target stopped (plan or apply); the steps show how far it got.</summary>
        public EngineException? Error { get; internal set; }
        public bool Declined { get; internal set; }
        public bool Changed => Steps.Exists(s => s.Outcome == StepOutcome.Done);
    }
}

namespace AcrIdentity.Engine.Configure
{
    /// <summary>Disable-AcrManagedIdentityPull's parameters, in engine terms.</summary>
    public sealed class DisableRequest
    {
        public string? ResourceId { get; set; }
        public string? Registry { get; set; }
        public string? Slot { get; set; }
        public bool IncludeSlots { get; set; }
        /// <summary>Also delete the pull role assignments (AcrPull / Repository Reader at the registry) of the identity the target used.</summary>
        public bool RemoveRoleAssignment { get; set; }
        public bool PlanOnly { get; set; }
        public System.Func<string, string, System.Threading.CancellationToken, System.Threading.Tasks.Task<bool>>? Approve { get; set; }
    }
}

namespace AcrIdentity.Engine.Configure
{
    /// <summary>
    /// Lookups shared by every input of one command (`Get-AzWebApp | Enable-…` resolves the registry and the
    /// identity once, not per app). Holds plain results only; the cmdlet keeps one per invocation.
    /// </summary>
    public sealed class EnableCache
    {
        internal System.Collections.Concurrent.ConcurrentDictionary<string, RegistryInfo> Registries { get; } =
            new System.Collections.Concurrent.ConcurrentDictionary<string, RegistryInfo>(System.StringComparer.OrdinalIgnoreCase);
        internal System.Collections.Concurrent.ConcurrentDictionary<string, Targets.PullIdentity> Identities { get; } =
            new System.Collections.Concurrent.ConcurrentDictionary<string, Targets.PullIdentity>(System.StringComparer.OrdinalIgnoreCase);
    }
}
