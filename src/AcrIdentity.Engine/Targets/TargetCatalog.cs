using System.Collections.Generic;
using System.Linq;
using Azure.Core;

namespace AcrIdentity.Engine.Targets
{
    /// <summary>Every target kind the module configures; the first strategy that handles a type wins.</summary>
    internal static class TargetCatalog
    {
        internal static readonly IReadOnlyList<TargetStrategy> All = new TargetStrategy[]
        {
            new WebAppTarget(),
            new ContainerGroupTarget(),
            new VirtualMachineTarget(),
            new VirtualMachineScaleSetTarget(),
            new AksTarget(),
            new ContainerAppTarget(),
        };

        internal static TargetStrategy? For(ResourceType type) => All.FirstOrDefault(s => s.Handles(type));

        internal static string SupportedTypes =>
            "Microsoft.Web/sites (and /slots), Microsoft.ContainerInstance/containerGroups, Microsoft.Compute/virtualMachines, " +
            "Microsoft.Compute/virtualMachineScaleSets, Microsoft.ContainerService/managedClusters, Microsoft.App/containerApps";
    }
}
