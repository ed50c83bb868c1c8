namespace AcrIdentity.Engine.Targets
{
    public enum PullIdentityType
    {
        SystemAssigned,
        UserAssigned,
        /// <summary>AKS: the kubelet identity of the node pools, which is what pulls (never the control plane's).</summary>
        Kubelet,
    }

    /// <summary>
    /// The identity that will pull. The three IDs are not interchangeable: role assignments need the principal
    /// (object) ID, App Service the client ID, Container Instances and Container Apps the resource ID.
    /// </summary>
    public sealed class PullIdentity
    {
        public PullIdentity(PullIdentityType type, string? resourceId = null, string? clientId = null, string? principalId = null)
        {
            Type = type;
            ResourceId = resourceId;
            ClientId = clientId;
            PrincipalId = principalId;
        }

        public PullIdentityType Type { get; }
        /// <summary>The user-assigned (or kubelet) identity's resource ID; null for system-assigned.</summary>
        public string? ResourceId { get; }
        public string? ClientId { get; }
        /// <summary>Null for a system-assigned identity that does not exist yet.</summary>
        public string? PrincipalId { get; internal set; }

        public override string ToString() => Type switch
        {
            PullIdentityType.SystemAssigned => "system-assigned identity",
            PullIdentityType.Kubelet => $"kubelet identity {ManagedIdentityBlock.ShortName(ResourceId ?? PrincipalId ?? "")}",
            _ => $"user-assigned identity {ManagedIdentityBlock.ShortName(ResourceId ?? "")}",
        };
    }
}
