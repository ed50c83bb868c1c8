using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using AcrIdentity.Engine.Audit;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Checks
{
    /// <summary>
    /// What one Test-AcrPullAccess command learns and its later pipeline inputs reuse: resolved registries and
    /// identities, the caller's subscriptions, which principals exist. Registry settings and role assignments are
    /// read again for every target, so each report still shows the registry as it is.
    /// </summary>
    public sealed class PullAccessCache
    {
        internal ConcurrentDictionary<string, RegistryInfo> Registries { get; } = new ConcurrentDictionary<string, RegistryInfo>(StringComparer.OrdinalIgnoreCase);
        internal ConcurrentDictionary<string, PullIdentity> Identities { get; } = new ConcurrentDictionary<string, PullIdentity>(StringComparer.OrdinalIgnoreCase);
        internal List<string>? Subscriptions { get; set; }
        internal Dictionary<string, HashSet<string>> PrincipalsBySubscription { get; } = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
        internal Dictionary<string, bool> PrincipalExists { get; } = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase);
        /// <summary>After one refusal the rest of the pipeline uses the ARM-based guess without asking again.</summary>
        internal bool DirectoryAvailable { get; set; } = true;
        internal DirectoryState Directory { get; } = new DirectoryState();
    }
}
