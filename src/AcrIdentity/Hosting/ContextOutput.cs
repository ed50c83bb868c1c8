using AcrIdentity.Engine.Auth;

namespace AcrIdentity.Hosting
{
    /// <summary>The engine's context as the public, plain output type.</summary>
    internal static class ContextOutput
    {
        internal static AcrIdentityContext From(ModuleContext context) => new AcrIdentityContext
        {
            Source = context.Source.ToString(),
            Environment = context.Cloud.Name,
            Account = context.Account,
            AccountType = context.AccountType,
            TenantId = context.TenantId,
            SubscriptionId = context.SubscriptionId,
            SubscriptionName = context.SubscriptionName,
            ResourceManagerUrl = context.Cloud.ResourceManagerUrl.AbsoluteUri,
            AuthorityHost = context.Cloud.AuthorityHost.AbsoluteUri,
            ContainerRegistrySuffix = context.Cloud.AcrLoginServerSuffix,
        };
    }
}
