using System.Security;

namespace AcrIdentity.Engine.Auth
{
    /// <summary>Connect-AcrIdentity's parameters.</summary>
    public sealed class ConnectRequest
    {
        /// <summary>A cloud name, an https ARM URL, or an absolute path to the sandbox's endpoints.json (or its folder). Null = AzureCloud.</summary>
        public string? Environment { get; set; }
        /// <summary>Tenant for a service principal. Defaults: the environment file's tenantId, then AZURE_TENANT_ID.</summary>
        public string? TenantId { get; set; }
        /// <summary>Subscription ID or name. Default: AZURE_SUBSCRIPTION_ID, else the only subscription the identity sees.</summary>
        public string? SubscriptionId { get; set; }

        /// <summary>Use the machine's managed identity (system-assigned unless ClientId, ObjectId or IdentityResourceId is given).</summary>
        public bool Identity { get; set; }
        public string? ClientId { get; set; }
        public string? ObjectId { get; set; }
        public string? IdentityResourceId { get; set; }

        /// <summary>Service principal application (client) ID; with ClientSecret.</summary>
        public string? ApplicationId { get; set; }
        /// <summary>Read into a string only when the credential is built; never logged.</summary>
        public SecureString? ClientSecret { get; set; }

        public EngineOptions? Options { get; set; }
    }

    /// <summary>What a cmdlet knows when it needs credentials (design §3).</summary>
    public sealed class ResolveRequest
    {
        /// <summary>An explicit context (e.g. -DefaultProfile holding a Connect-AcrIdentity result); wins over everything.</summary>
        public ModuleContext? Context { get; set; }

        /// <summary>
        /// -Identity on the cmdlet: an explicit request for the machine's managed identity, so it wins over the
        /// Connect-AcrIdentity and Az contexts. On a machine without IDENTITY_ENDPOINT/MSI_ENDPOINT this uses IMDS.
        /// </summary>
        public bool Identity { get; set; }
        public string? ClientId { get; set; }
        public string? ObjectId { get; set; }
        public string? IdentityResourceId { get; set; }

        /// <summary>What Get-AzContext returned, or null when Az.Accounts is absent or not signed in.</summary>
        public AzContextSnapshot? AzContext { get; set; }

        /// <summary>Cloud for managed-identity and environment credentials; default $env:ACRIDENTITY_ENVIRONMENT, else AzureCloud.</summary>
        public string? Environment { get; set; }
        /// <summary>Overrides the resolved context's subscription (ID or name).</summary>
        public string? SubscriptionId { get; set; }

        /// <summary>
        /// For commands that need no ARM subscription (registry data plane): instead of NoSubscription or
        /// SubscriptionNotFound, return the context with SubscriptionId "".
        /// </summary>
        public bool SubscriptionOptional { get; set; }

        public EngineOptions? Options { get; set; }
    }
}
