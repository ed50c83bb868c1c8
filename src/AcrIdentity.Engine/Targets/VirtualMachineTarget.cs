using System;
using Azure.Core;

namespace AcrIdentity.Engine.Targets
{
    /// <summary>
    /// VMs: identity and role only. What runs on the VM (docker login with the identity's token) is the
    /// workload's business; nothing in ARM switches it.
    /// </summary>
    internal sealed class VirtualMachineTarget : TargetStrategy
    {
        internal override string Kind => "VirtualMachine";

        internal override bool Handles(ResourceType type) =>
            string.Equals(type.ToString(), "Microsoft.Compute/virtualMachines", StringComparison.OrdinalIgnoreCase);

        internal override bool HasPullConfiguration => false;
    }

    /// <summary>VM scale sets: as VMs; the identity is part of the scale set's model.</summary>
    internal sealed class VirtualMachineScaleSetTarget : TargetStrategy
    {
        internal override string Kind => "VirtualMachineScaleSet";

        internal override bool Handles(ResourceType type) =>
            string.Equals(type.ToString(), "Microsoft.Compute/virtualMachineScaleSets", StringComparison.OrdinalIgnoreCase);

        internal override bool HasPullConfiguration => false;
    }
}
