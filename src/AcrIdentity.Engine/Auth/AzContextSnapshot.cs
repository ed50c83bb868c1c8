using System;
using System.Threading;
using System.Threading.Tasks;

namespace AcrIdentity.Engine.Auth
{
    /// <summary>An access token from Get-AzAccessToken. ToString never shows the token.</summary>
    public sealed class AzAccessToken
    {
        public AzAccessToken(string token, DateTimeOffset expiresOn)
        {
            if (string.IsNullOrEmpty(token)) throw new ArgumentException("Get-AzAccessToken returned no token.", nameof(token));
            Token = token;
            ExpiresOn = expiresOn;
        }

        public string Token { get; }
        public DateTimeOffset ExpiresOn { get; }

        public override string ToString() => $"AzAccessToken (expires {ExpiresOn:u})";
    }

    /// <summary>
    /// Plain values the cmdlet read from Get-AzContext, and a callback that runs Get-AzAccessToken on the pipeline
    /// thread. The engine never touches Az objects; the cmdlet converts a SecureString Token to a string.
    /// </summary>
    public sealed class AzContextSnapshot
    {
        public string? AccountId { get; set; }
        /// <summary>Account.Type: User, ServicePrincipal, ManagedService, AccessToken, …</summary>
        public string? AccountType { get; set; }
        public string? TenantId { get; set; }
        public string? SubscriptionId { get; set; }
        public string? SubscriptionName { get; set; }
        public string? EnvironmentName { get; set; }
        public string? ResourceManagerUrl { get; set; }
        public string? ActiveDirectoryAuthority { get; set; }
        public string? ActiveDirectoryServiceEndpointResourceId { get; set; }
        /// <summary>Without the leading dot, as Az stores it (azurecr.io, azurecr.us, …).</summary>
        public string? ContainerRegistryEndpointSuffix { get; set; }
        /// <summary>Environment.ExtendedProperties["MicrosoftGraphUrl"] (Az.Accounts 2+); null for a known cloud means its usual Graph.</summary>
        public string? MicrosoftGraphUrl { get; set; }

        /// <summary>
        /// Get-AzAccessToken -ResourceUrl &lt;resource&gt; [-TenantId]: the resource is the audience without "/.default"
        /// (e.g. https://management.core.windows.net/). Called from engine threads; the implementation must marshal to
        /// the pipeline thread and honour the token.
        /// </summary>
        public Func<string, CancellationToken, Task<AzAccessToken>>? GetAccessToken { get; set; }
    }
}
