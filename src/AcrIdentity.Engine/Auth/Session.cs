using System;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using Azure.Core;

namespace AcrIdentity.Engine.Auth
{
    /// <summary>
    /// The module's own context, set by Connect-AcrIdentity. Process-wide, like the engine itself (one load per
    /// process); it wins over the Az context until Disconnect-AcrIdentity.
    /// </summary>
    public static class Session
    {
        private static ModuleContext? s_current;

        public static ModuleContext? Current => Volatile.Read(ref s_current);

        /// <summary>Signs in, proves it with an authenticated ARM call on the subscription, then stores the context.</summary>
        public static async Task<ModuleContext> ConnectAsync(ConnectRequest request, IEngineHost host, CancellationToken cancellationToken)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            if (host == null) throw new ArgumentNullException(nameof(host));
            bool servicePrincipal = !string.IsNullOrWhiteSpace(request.ApplicationId);
            if (request.Identity && servicePrincipal)
            {
                throw new EngineException("ConflictingCredentials", EngineErrorCategory.InvalidArgument,
                    "Choose one way to sign in: -Identity or a service principal (-ApplicationId with -ClientSecret).",
                    "Pass either -Identity or -ApplicationId/-ClientSecret.");
            }
            if (!request.Identity && !servicePrincipal)
            {
                throw new EngineException("CredentialRequired", EngineErrorCategory.InvalidArgument,
                    "Connect-AcrIdentity needs a way to sign in.",
                    "Pass -Identity for this machine's managed identity, or -ApplicationId with -ClientSecret for a service principal.");
            }
            if (servicePrincipal && (request.ClientSecret == null || request.ClientSecret.Length == 0))
            {
                throw new EngineException("ClientSecretRequired", EngineErrorCategory.InvalidArgument,
                    $"The service principal '{request.ApplicationId}' needs a client secret.", "Pass -ClientSecret (a SecureString).");
            }

            EngineOptions options = request.Options?.Clone() ?? new EngineOptions();
            CloudEnvironment cloud = await CloudEnvironment.ResolveAsync(request.Environment, host, cancellationToken, options).ConfigureAwait(false);

            TokenCredential credential;
            string account, accountType;
            string? tenant = NonEmpty(request.TenantId);
            if (request.Identity)
            {
                credential = await Credentials.ManagedIdentityAsync(request.ClientId, request.ObjectId, request.IdentityResourceId, options, host, cancellationToken).ConfigureAwait(false);
                account = Credentials.DescribeManagedIdentity(request.ClientId, request.ObjectId, request.IdentityResourceId);
                accountType = "ManagedIdentity";
            }
            else
            {
                string appId = Credentials.RequireGuid(request.ApplicationId!, "application (client) ID");
                tenant ??= cloud.DefaultTenantId ?? NonEmpty(Environment.GetEnvironmentVariable("AZURE_TENANT_ID"));
                if (tenant == null)
                {
                    throw new EngineException("TenantRequired", EngineErrorCategory.InvalidArgument,
                        $"Signing in as the service principal '{appId}' needs its tenant.", "Pass -TenantId (or set AZURE_TENANT_ID).");
                }
                // The only place the secret becomes a string: handed straight to the credential.
                credential = Credentials.ClientSecret(cloud, tenant, appId, Credentials.Reveal(request.ClientSecret!), options);
                account = appId;
                accountType = "ServicePrincipal";
            }
            host.WriteVerbose($"Connecting as {account} to {cloud.Name} ({cloud.ResourceManagerUrl}).");

            var draft = new ModuleContext(ContextSource.ConnectAcrIdentity, cloud, credential, tenant, string.Empty, null, account, accountType, options);
            string? wanted = NonEmpty(request.SubscriptionId) ?? NonEmpty(Environment.GetEnvironmentVariable("AZURE_SUBSCRIPTION_ID"));
            ModuleContext context = await Subscriptions.SelectAsync(draft, wanted, validate: true, host, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref s_current, context);
            host.WriteVerbose($"Connected: {context}.");
            return context;
        }

        /// <summary>
        /// Confirms a context with one authenticated ARM call (GET /subscriptions/{id}) and returns it with the
        /// subscription name and tenant ARM reports. Throws EngineException when the sign-in or subscription fails.
        /// </summary>
        public static Task<ModuleContext> VerifyAsync(ModuleContext context, IEngineHost host, CancellationToken cancellationToken)
        {
            if (context == null) throw new ArgumentNullException(nameof(context));
            if (host == null) throw new ArgumentNullException(nameof(host));
            return Subscriptions.SelectAsync(context, NonEmpty(context.SubscriptionId), validate: true, host, cancellationToken);
        }

        /// <summary>Forgets the Connect-AcrIdentity context; returns it, or null when there was none.</summary>
        public static ModuleContext? Disconnect() => Interlocked.Exchange(ref s_current, null);

        private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s!.Trim();
    }
}
