using System;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Hosting;
using Azure.Core;
using Azure.ResourceManager;

namespace AcrIdentity.Engine.Auth
{
    /// <summary>Where a context came from (design §3 order).</summary>
    public enum ContextSource
    {
        ConnectAcrIdentity,
        AzContext,
        ManagedIdentity,
        Environment,
    }

    /// <summary>
    /// A resolved sign-in: cloud, tenant, subscription and who is signed in. The credential stays inside the
    /// engine; the cmdlets see only these plain values.
    /// </summary>
    public sealed class ModuleContext
    {
        private readonly object _gate = new object();
        private ArmClient? _armClient;

        internal ModuleContext(ContextSource source, CloudEnvironment cloud, TokenCredential credential, string? tenantId,
            string subscriptionId, string? subscriptionName, string account, string accountType, EngineOptions options)
        {
            Source = source;
            Cloud = cloud;
            Credential = credential;
            TenantId = tenantId;
            SubscriptionId = subscriptionId;
            SubscriptionName = subscriptionName;
            Account = account;
            AccountType = accountType;
            Options = options;
            CreatedOn = DateTimeOffset.UtcNow;
        }

        public ContextSource Source { get; }
        public CloudEnvironment Cloud { get; }
        public string? TenantId { get; }
        public string SubscriptionId { get; }
        public string? SubscriptionName { get; }
        /// <summary>Who is signed in: a UPN, an application (client) ID, or a managed identity description.</summary>
        public string Account { get; }
        /// <summary>User, ServicePrincipal or ManagedIdentity (Az's own Account.Type for an Az context).</summary>
        public string AccountType { get; }
        public DateTimeOffset CreatedOn { get; }

        internal TokenCredential Credential { get; }
        internal EngineOptions Options { get; }

        /// <summary>The ARM gateway for this context; verbose lines and progress go to the given host.</summary>
        public ArmGateway CreateGateway(IEngineHost host) => new ArmGateway(GetArmClient(), host, Options);

        internal ModuleContext WithSubscription(string subscriptionId, string? subscriptionName, string? tenantId) =>
            new ModuleContext(Source, Cloud, Credential, tenantId ?? TenantId, subscriptionId, subscriptionName, Account, AccountType, Options);

        private ArmClient GetArmClient()
        {
            lock (_gate)
            {
                return _armClient ??= CreateArmClient(Cloud, Credential, SubscriptionId, Options);
            }
        }

        internal static ArmClient CreateArmClient(CloudEnvironment cloud, TokenCredential credential, string? subscriptionId, EngineOptions options)
        {
            var armOptions = new ArmClientOptions
            {
                Environment = new ArmEnvironment(cloud.ResourceManagerUrl, cloud.ArmAudience),
            };
            PipelineSettings.Apply(armOptions, options);
            armOptions.RetryPolicy = new BoundedRetryPolicy(options);
            ApiVersions.ApplyTo(armOptions);
            return new ArmClient(credential, string.IsNullOrEmpty(subscriptionId) ? null : subscriptionId, armOptions);
        }

        public override string ToString() => $"{Account} ({Source}) in {Cloud.Name}, subscription {SubscriptionName ?? SubscriptionId}";
    }
}
