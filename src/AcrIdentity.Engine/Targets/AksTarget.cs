using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using AcrIdentity.Engine.Configure;
using Azure.Core;

namespace AcrIdentity.Engine.Targets
{
    /// <summary>
    /// AKS: what `az aks update --attach-acr` does — the pull role for the kubelet identity's object ID. Never the
    /// cluster's own (control-plane) identity: granting that is the classic mistake (pain point 5).
    /// </summary>
    internal sealed class AksTarget : TargetStrategy
    {
        internal override string Kind => "AksCluster";

        internal override bool Handles(ResourceType type) =>
            string.Equals(type.ToString(), "Microsoft.ContainerService/managedClusters", StringComparison.OrdinalIgnoreCase);

        internal override bool HasPullConfiguration => false;

        internal override bool FixedIdentity => true;

        internal override PullIdentity? FixedPullIdentity(TargetState state)
        {
            JsonObject? kubelet = Json.Obj(state.Resource, "properties", "identityProfile", "kubeletidentity");
            string? objectId = Json.Str(kubelet, "objectId");
            if (string.IsNullOrEmpty(objectId))
            {
                throw Errors.Unsupported("KubeletIdentityMissing",
                    $"The AKS cluster '{state.Id.Name}' has no kubelet managed identity (it may use a service principal).",
                    "Migrate the cluster to managed identities (az aks update --enable-managed-identity), then run the command again; a service principal cluster pulls with the service principal's own role.",
                    state.Id.ToString());
            }
            return new PullIdentity(PullIdentityType.Kubelet, Json.Str(kubelet, "resourceId"), Json.Str(kubelet, "clientId"), objectId);
        }

        internal override IReadOnlyList<string> FindImages(TargetState state) => Array.Empty<string>();

        internal override IEnumerable<string> PullPrincipals(TargetState state, RegistryInfo registry)
        {
            string? objectId = Json.Str(state.Resource, "properties", "identityProfile", "kubeletidentity", "objectId");
            if (!string.IsNullOrEmpty(objectId)) yield return objectId!;
        }
    }
}
