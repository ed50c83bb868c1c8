using System;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using Azure.Core;

namespace AcrIdentity.Engine.Auth
{
    /// <summary>
    /// Design §3, first that applies: an explicit context or -Identity; the Connect-AcrIdentity context; the
    /// caller's Az context; a managed identity the environment announces; environment credentials. Otherwise
    /// NotConnected.
    /// </summary>
    public static class CredentialResolver
    {
        public const string EnvironmentVariable = "ACRIDENTITY_ENVIRONMENT";

        public static async Task<ModuleContext> ResolveAsync(ResolveRequest request, IEngineHost host, CancellationToken cancellationToken)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            if (host == null) throw new ArgumentNullException(nameof(host));

            if (request.Context != null)
            {
                host.WriteVerbose($"Using the context passed in: {request.Context}.");
                return await OverrideSubscriptionAsync(request.Context, request, host, cancellationToken).ConfigureAwait(false);
            }
            if (request.Identity)
            {
                host.WriteVerbose("Using this machine's managed identity (-Identity).");
                return await ManagedIdentityAsync(request, request.ClientId, request.ObjectId, request.IdentityResourceId, host, cancellationToken).ConfigureAwait(false);
            }
            var session = Session.Current;
            if (session != null)
            {
                host.WriteVerbose($"Using the Connect-AcrIdentity context: {session}.");
                return await OverrideSubscriptionAsync(session, request, host, cancellationToken).ConfigureAwait(false);
            }
            if (request.AzContext?.GetAccessToken != null)
            {
                return await AzContextAsync(request, request.AzContext, host, cancellationToken).ConfigureAwait(false);
            }
            string? announced = ManagedIdentityAnnouncement();
            if (announced != null)
            {
                host.WriteVerbose($"Using the managed identity announced by {announced}.");
                string? clientId = request.ClientId;
                if (clientId == null && request.ObjectId == null && request.IdentityResourceId == null && !HasEnvironmentSecret())
                {
                    // As DefaultAzureCredential does: AZURE_CLIENT_ID alone selects a user-assigned identity.
                    clientId = Env("AZURE_CLIENT_ID");
                }
                return await ManagedIdentityAsync(request, clientId, request.ObjectId, request.IdentityResourceId, host, cancellationToken).ConfigureAwait(false);
            }
            if (Env("AZURE_CLIENT_ID") != null && Env("AZURE_TENANT_ID") != null && HasEnvironmentSecret())
            {
                return await EnvironmentCredentialAsync(request, host, cancellationToken).ConfigureAwait(false);
            }
            throw NotConnected();
        }

        internal static EngineException NotConnected() =>
            new EngineException("NotConnected", EngineErrorCategory.AuthenticationError,
                "No Azure sign-in was found: no Connect-AcrIdentity context, no Az context, no managed identity in this environment, and no AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET.",
                "Run Connect-AzAccount (or Connect-AcrIdentity) first.");

        private static async Task<ModuleContext> AzContextAsync(ResolveRequest request, AzContextSnapshot az, IEngineHost host, CancellationToken cancellationToken)
        {
            CloudEnvironment cloud = CloudEnvironment.FromAzContext(az);
            var credential = new AzContextCredential(az.GetAccessToken!);
            string account = Nz(az.AccountId) ?? "(Az context)";
            var context = new ModuleContext(ContextSource.AzContext, cloud, credential, Nz(az.TenantId), Nz(az.SubscriptionId) ?? string.Empty,
                Nz(az.SubscriptionName), account, Nz(az.AccountType) ?? "User", request.Options?.Clone() ?? new EngineOptions());
            host.WriteVerbose($"Using the Az context: {account} in {cloud.Name} ({cloud.ResourceManagerUrl}), subscription {Nz(az.SubscriptionName) ?? Nz(az.SubscriptionId) ?? "(none)"}.");
            if (Nz(request.SubscriptionId) != null || context.SubscriptionId.Length == 0)
            {
                return await SelectAsync(context, Nz(request.SubscriptionId), request, host, cancellationToken).ConfigureAwait(false);
            }
            return context;
        }

        private static async Task<ModuleContext> ManagedIdentityAsync(ResolveRequest request, string? clientId, string? objectId, string? resourceId, IEngineHost host, CancellationToken cancellationToken)
        {
            EngineOptions options = request.Options?.Clone() ?? new EngineOptions();
            CloudEnvironment cloud = await CloudForAmbientAsync(request, host, cancellationToken, options).ConfigureAwait(false);
            TokenCredential credential = await Credentials.ManagedIdentityAsync(clientId, objectId, resourceId, options, host, cancellationToken).ConfigureAwait(false);
            var draft = new ModuleContext(ContextSource.ManagedIdentity, cloud, credential, null, string.Empty, null,
                Credentials.DescribeManagedIdentity(clientId, objectId, resourceId), "ManagedIdentity", options);
            return await SelectAsync(draft, Nz(request.SubscriptionId) ?? Env("AZURE_SUBSCRIPTION_ID"), request, host, cancellationToken).ConfigureAwait(false);
        }

        private static async Task<ModuleContext> EnvironmentCredentialAsync(ResolveRequest request, IEngineHost host, CancellationToken cancellationToken)
        {
            EngineOptions options = request.Options?.Clone() ?? new EngineOptions();
            CloudEnvironment cloud = await CloudForAmbientAsync(request, host, cancellationToken, options).ConfigureAwait(false);
            string clientId = Env("AZURE_CLIENT_ID")!;
            string tenant = Env("AZURE_TENANT_ID")!;
            string? secret = Env("AZURE_CLIENT_SECRET");
            TokenCredential credential = secret != null
                ? Credentials.ClientSecret(cloud, tenant, clientId, secret, options)
                : Credentials.ClientCertificate(cloud, tenant, clientId, Env("AZURE_CLIENT_CERTIFICATE_PATH")!, Env("AZURE_CLIENT_CERTIFICATE_PASSWORD"), options);
            host.WriteVerbose($"Using environment credentials: service principal {clientId} in tenant {tenant} ({(secret != null ? "client secret" : "certificate")}).");
            var draft = new ModuleContext(ContextSource.Environment, cloud, credential, tenant, string.Empty, null, clientId, "ServicePrincipal", options);
            return await SelectAsync(draft, Nz(request.SubscriptionId) ?? Env("AZURE_SUBSCRIPTION_ID"), request, host, cancellationToken).ConfigureAwait(false);
        }

        private static async Task<ModuleContext> OverrideSubscriptionAsync(ModuleContext context, ResolveRequest request, IEngineHost host, CancellationToken cancellationToken)
        {
            string? wanted = Nz(request.SubscriptionId);
            if (wanted == null
                || string.Equals(wanted, context.SubscriptionId, StringComparison.OrdinalIgnoreCase)
                || string.Equals(wanted, context.SubscriptionName, StringComparison.OrdinalIgnoreCase))
            {
                return context;
            }
            return await SelectAsync(context, wanted, request, host, cancellationToken).ConfigureAwait(false);
        }

        private static async Task<ModuleContext> SelectAsync(ModuleContext draft, string? wanted, ResolveRequest request, IEngineHost host, CancellationToken cancellationToken)
        {
            try
            {
                return await Subscriptions.SelectAsync(draft, wanted, validate: true, host, cancellationToken).ConfigureAwait(false);
            }
            catch (EngineException ex) when (request.SubscriptionOptional && (ex.Reason == "NoSubscription" || ex.Reason == "SubscriptionNotFound"))
            {
                host.WriteVerbose($"Continuing without a subscription ({ex.Reason}): this command does not need one.");
                return draft.WithSubscription(string.Empty, null, null);
            }
        }

        /// <summary>Cloud for managed identity and environment credentials: asked for, else connected, else $env:ACRIDENTITY_ENVIRONMENT, else AzureCloud.</summary>
        private static Task<CloudEnvironment> CloudForAmbientAsync(ResolveRequest request, IEngineHost host, CancellationToken cancellationToken, EngineOptions options)
        {
            if (Nz(request.Environment) != null) return CloudEnvironment.ResolveAsync(request.Environment, host, cancellationToken, options);
            if (Session.Current != null) return Task.FromResult(Session.Current.Cloud);
            if (request.AzContext != null) return Task.FromResult(CloudEnvironment.FromAzContext(request.AzContext));
            return CloudEnvironment.ResolveAsync(Env(EnvironmentVariable), host, cancellationToken, options);
        }

        /// <summary>Which managed-identity endpoint the process environment announces, if any (IMDS only when redirected).</summary>
        internal static string? ManagedIdentityAnnouncement()
        {
            if (Env("IDENTITY_ENDPOINT") != null && Env("IDENTITY_HEADER") != null) return "IDENTITY_ENDPOINT (App Service, Functions, Automation)";
            if (Env("IDENTITY_ENDPOINT") != null && Env("IMDS_ENDPOINT") != null) return "IDENTITY_ENDPOINT (Azure Arc)";
            if (Env("MSI_ENDPOINT") != null) return "MSI_ENDPOINT";
            if (Env("AZURE_POD_IDENTITY_AUTHORITY_HOST") != null) return "AZURE_POD_IDENTITY_AUTHORITY_HOST (IMDS)";
            return null;
        }

        private static bool HasEnvironmentSecret() => Env("AZURE_CLIENT_SECRET") != null || Env("AZURE_CLIENT_CERTIFICATE_PATH") != null;

        private static string? Env(string name) => Nz(Environment.GetEnvironmentVariable(name));

        private static string? Nz(string? s) => string.IsNullOrWhiteSpace(s) ? null : s!.Trim();
    }
}
