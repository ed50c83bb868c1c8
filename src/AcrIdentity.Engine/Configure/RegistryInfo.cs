using Azure.Core;

namespace AcrIdentity.Engine.Configure
{
    /// <summary>A registry as ARM reports it.</summary>
    public sealed class RegistryInfo
    {
        internal RegistryInfo(ResourceIdentifier id, string loginServer, bool abacMode, string? location, bool? armAudienceTokensAllowed = null)
        {
            ArmAudienceTokensAllowed = armAudienceTokensAllowed;
            Id = id;
            LoginServer = loginServer;
            AbacMode = abacMode;
            Location = location;
        }

        /// <summary>For engine code. Cmdlets read RegistryId instead: no Azure.Core type may appear in the thin assembly's IL.</summary>
        public ResourceIdentifier Id { get; }
        /// <summary>The registry's resource ID as text, for the cmdlets.</summary>
        public string RegistryId => Id.ToString();
        public string Name => Id.Name;
        /// <summary>As ARM reports it, lowercased (login servers are case-insensitive host names).</summary>
        public string LoginServer { get; }
        /// <summary>roleAssignmentMode = AbacRepositoryPermissions: only the repository roles grant pulls.</summary>
        public bool AbacMode { get; }
        public string? Location { get; }
        /// <summary>policies.azureADAuthenticationAsArmPolicy.status: false when disabled (ARM-audience tokens refused), null when absent.</summary>
        public bool? ArmAudienceTokensAllowed { get; }

        public override string ToString() => $"{Name} ({LoginServer})";
    }
}
