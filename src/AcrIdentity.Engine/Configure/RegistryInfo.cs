using Azure.Core;

namespace AcrIdentity.Engine.Configure
{
    /// <summary>A registry as ARM reports it.</summary>
    public sealed class RegistryInfo
    {
        internal RegistryInfo(ResourceIdentifier id, string loginServer, bool abacMode, string? location)
        {
            ResourceId = id;
            LoginServer = loginServer;
            AbacMode = abacMode;
            Location = location;
        }

        /// <summary>The registry's resource ID. A string: the cmdlets must never see Azure.Core types (they load in isolation).</summary>
        public string Id => ResourceId.ToString();
        internal ResourceIdentifier ResourceId { get; }
        public string Name => ResourceId.Name;
        /// <summary>As ARM reports it, lowercased (login servers are case-insensitive host names).</summary>
        public string LoginServer { get; }
        /// <summary>roleAssignmentMode = AbacRepositoryPermissions: only the repository roles grant pulls.</summary>
        public bool AbacMode { get; }
        public string? Location { get; }

        public override string ToString() => $"{Name} ({LoginServer})";
    }
}
