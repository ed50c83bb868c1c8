namespace AcrIdentity
{
    /// <summary>
    /// The context the module uses: written by Connect-AcrIdentity and Get-AcrIdentityContext. Plain values
    /// only (no credential, no token), so it is safe to print, log and serialize.
    /// </summary>
    public sealed class AcrIdentityContext
    {
        /// <summary>Where the credentials come from: ConnectAcrIdentity, AzContext, ManagedIdentity or EnvironmentCredential.</summary>
        public string Source { get; set; } = string.Empty;

        /// <summary>The cloud's name (AzureCloud, AzureChinaCloud, AzureUSGovernment, or a custom one such as the sandbox).</summary>
        public string Environment { get; set; } = string.Empty;

        /// <summary>Who signs in: the application (client) ID, the identity's client ID or resource ID, or the Az account.</summary>
        public string? Account { get; set; }

        /// <summary>ServicePrincipal, ManagedIdentity, User, … as the source reports it.</summary>
        public string? AccountType { get; set; }

        public string? TenantId { get; set; }

        public string? SubscriptionId { get; set; }

        /// <summary>Read from ARM with the context's credentials, so a value here proves they work.</summary>
        public string? SubscriptionName { get; set; }

        public string? ResourceManagerUrl { get; set; }

        public string? AuthorityHost { get; set; }

        /// <summary>Registry login-server suffix of this cloud (azurecr.io, azurecr.cn, …).</summary>
        public string? ContainerRegistrySuffix { get; set; }

        public override string ToString() => $"{Source}: {Account} @ {Environment} / {SubscriptionId}";
    }
}
