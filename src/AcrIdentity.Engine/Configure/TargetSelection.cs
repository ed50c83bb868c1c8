using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Targets;
using Azure.Core;

namespace AcrIdentity.Engine.Configure
{
    /// <summary>The targets one input names: the resource, one of its slots (-Slot), or the site and every slot (-IncludeSlots).</summary>
    internal sealed class TargetSelection
    {
        private TargetSelection(ResourceIdentifier id, TargetStrategy strategy, List<ResourceIdentifier> targets, bool includeSlots)
        {
            Id = id;
            Strategy = strategy;
            Targets = targets;
            IncludeSlots = includeSlots;
        }

        internal ResourceIdentifier Id { get; }
        internal TargetStrategy Strategy { get; }
        internal List<ResourceIdentifier> Targets { get; }
        private bool IncludeSlots { get; }

        /// <summary>Checks the ID and slot parameters without any request.</summary>
        internal static TargetSelection Parse(string? resourceId, string? slot, bool includeSlots, IEngineHost host)
        {
            if (slot != null && includeSlots)
            {
                throw new EngineException("ConflictingSlotParameters", EngineErrorCategory.InvalidArgument,
                    "-Slot picks one slot and -IncludeSlots picks the site and every slot; use one of them.", "Leave out -Slot or -IncludeSlots.");
            }
            ResourceIdentifier id = ArmIds.ParseTarget(resourceId);
            TargetStrategy strategy = TargetCatalog.For(id.ResourceType) ?? throw UnsupportedKind(id);
            host.WriteVerbose($"Target {id.Name} is a {strategy.Kind} ({id.ResourceType}).");
            var targets = new List<ResourceIdentifier> { id };
            if (slot != null || includeSlots)
            {
                if (!(strategy is WebAppTarget) || !string.Equals(id.ResourceType.ToString(), WebAppTarget.SiteType, StringComparison.OrdinalIgnoreCase))
                {
                    throw new EngineException("SlotsNotApplicable", EngineErrorCategory.InvalidArgument,
                        $"-Slot and -IncludeSlots apply to a web or function app's site ID; '{id}' is a {id.ResourceType}.",
                        "Pass the site's resource ID (…/providers/Microsoft.Web/sites/<name>) with -Slot or -IncludeSlots, or a slot's own resource ID without them.", id.ToString());
                }
                if (slot != null)
                {
                    string name = slot.Trim();
                    if (name.Length == 0 || name.IndexOf('/') >= 0)
                    {
                        throw new EngineException("InvalidSlotName", EngineErrorCategory.InvalidArgument, $"'{slot}' is not a slot name.",
                            "Pass the slot's name, e.g. -Slot staging.", id.ToString());
                    }
                    targets[0] = new ResourceIdentifier($"{id}/slots/{name}");
                }
            }
            return new TargetSelection(id, strategy, targets, includeSlots);
        }

        /// <summary>With -IncludeSlots, adds every slot of the site (each slot has its own identity and settings, and they are not swapped).</summary>
        internal async Task ExpandAsync(ArmGateway arm, IEngineHost host, CancellationToken ct)
        {
            if (!IncludeSlots) return;
            foreach (JsonObject slot in await arm.ListAsync(Id + "/slots", ct).ConfigureAwait(false))
            {
                string? slotId = Json.Str(slot, "id");
                if (slotId != null) Targets.Add(new ResourceIdentifier(slotId));
            }
            host.WriteVerbose($"{Id.Name} has {Targets.Count - 1} slot(s); each has its own identity and settings.");
        }

        internal static EngineException UnsupportedKind(ResourceIdentifier id) =>
            new EngineException("UnsupportedTargetKind", EngineErrorCategory.InvalidArgument,
                $"'{id}' is a {id.ResourceType}, which does not pull container images with a managed identity this module can configure.",
                "Pass the ID of one of: " + TargetCatalog.SupportedTypes + ".", id.ToString());
    }
}
