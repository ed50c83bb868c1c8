using System;
using System.Linq;

namespace AcrIdentity
{
    /// <summary>What Test-AcrPullAccess found for one target (a site and each slot are separate) or one identity.</summary>
    public sealed class AcrPullAccessReport
    {
        /// <summary>True when no check failed.</summary>
        public bool CanPull { get; set; }

        /// <summary>The target's resource ID; empty for a bare identity.</summary>
        public string Target { get; set; } = string.Empty;

        /// <summary>WebApp, WebAppSlot, FunctionApp, ContainerGroup, VirtualMachine, VirtualMachineScaleSet, AksCluster, ContainerApp, or Identity.</summary>
        public string TargetKind { get; set; } = string.Empty;

        /// <summary>The registry's resource ID (empty when it could not be found).</summary>
        public string Registry { get; set; } = string.Empty;

        public string RegistryLoginServer { get; set; } = string.Empty;

        /// <summary>The identity that pulls: a user-assigned (or kubelet) identity's resource ID, or a description.</summary>
        public string Identity { get; set; } = string.Empty;

        public string? PrincipalId { get; set; }

        /// <summary>The image checked (configured on the target, or -Image).</summary>
        public string? Image { get; set; }

        public string? Repository { get; set; }

        /// <summary>Every check in order; a failed one says what to do in Fix.</summary>
        public AcrPullAccessCheck[] Checks { get; set; } = Array.Empty<AcrPullAccessCheck>();

        /// <summary>The Ids of the failed checks (for tables and quick asserts).</summary>
        public string[] Failed => Checks.Where(c => c.Result == "Fail").Select(c => c.Id).ToArray();

        public override string ToString() => $"{(Target.Length > 0 ? Target : Identity)}: CanPull={CanPull}";
    }

    /// <summary>One check: a stable Id, Pass/Fail/Warning/Skipped, why, and the exact fix.</summary>
    public sealed class AcrPullAccessCheck
    {
        public string Id { get; set; } = string.Empty;

        public string Name { get; set; } = string.Empty;

        /// <summary>Pass, Fail, Warning or Skipped.</summary>
        public string Result { get; set; } = string.Empty;

        public string Message { get; set; } = string.Empty;

        /// <summary>The change that makes it pass (a command where there is one); empty when nothing is to be done.</summary>
        public string? Fix { get; set; }

        public override string ToString() => $"{Id}: {Result}";
    }
}
