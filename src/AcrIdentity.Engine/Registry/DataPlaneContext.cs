using System;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;

namespace AcrIdentity.Engine.Registry
{
    /// <summary>
    /// The sign-in for registry calls. Same order as every cmdlet (CredentialResolver), with one difference: a
    /// managed identity that holds only AcrPull on a registry may see no subscription at all, and that is no
    /// reason to refuse a registry login, so such an identity goes on without one (ARM lookups are then skipped).
    /// </summary>
    internal static class DataPlaneContext
    {
        internal static async Task<ModuleContext> ResolveAsync(ResolveRequest request, IEngineHost host, CancellationToken ct)
        {
            bool managedIdentity = IsManagedIdentityPath(request);
            try
            {
                return await CredentialResolver.ResolveAsync(request, host, ct).ConfigureAwait(false);
            }
            catch (EngineException ex) when (managedIdentity && (ex.Reason == "NoSubscription" || ex.Reason == "SubscriptionNotFound"))
            {
                host.WriteVerbose($"The managed identity sees no usable subscription ({ex.Reason}); going on without ARM, so the registry is taken as named.");
                return await WithoutSubscriptionAsync(request, host, ct).ConfigureAwait(false);
            }
            catch (EngineException ex) when (managedIdentity && (ex.Reason == "CredentialUnavailable" || ex.Reason == "AuthenticationFailed"))
            {
                throw NoManagedIdentity(ex);
            }
        }

        /// <summary>Whether the resolver will pick a managed identity (mirrors its order).</summary>
        internal static bool IsManagedIdentityPath(ResolveRequest request) =>
            request.Context == null
            && (request.Identity
                || (Session.Current == null && request.AzContext?.GetAccessToken == null && CredentialResolver.ManagedIdentityAnnouncement() != null));

        internal static EngineException NoManagedIdentity(Exception inner) =>
            new EngineException("NoManagedIdentity", EngineErrorCategory.AuthenticationError,
                "No managed identity gave a token here (none is enabled on this resource, or the one named is not attached to it): " + RegistryReply.Scrub(inner.Message),
                "Run this on an Azure resource with a managed identity enabled (VM, scale set, App Service, Automation, container), name a user-assigned identity that is attached to it (-ClientId/-ResourceId), or sign in with Connect-AzAccount instead of -Identity.",
                null, inner);

        private static async Task<ModuleContext> WithoutSubscriptionAsync(ResolveRequest request, IEngineHost host, CancellationToken ct)
        {
            EngineOptions options = request.Options?.Clone() ?? new EngineOptions();
            CloudEnvironment cloud;
            if (!string.IsNullOrWhiteSpace(request.Environment))
            {
                cloud = await CloudEnvironment.ResolveAsync(request.Environment, host, ct, options).ConfigureAwait(false);
            }
            else if (request.AzContext != null)
            {
                cloud = CloudEnvironment.FromAzContext(request.AzContext);
            }
            else
            {
                cloud = await CloudEnvironment.ResolveAsync(Environment.GetEnvironmentVariable(CredentialResolver.EnvironmentVariable), host, ct, options).ConfigureAwait(false);
            }
            string? clientId = request.ClientId;
            if (!request.Identity && clientId == null && request.ObjectId == null && request.IdentityResourceId == null
                && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AZURE_CLIENT_SECRET")))
            {
                // The resolver's rule for announced identities: AZURE_CLIENT_ID alone picks a user-assigned one.
                string? env = Environment.GetEnvironmentVariable("AZURE_CLIENT_ID");
                clientId = string.IsNullOrWhiteSpace(env) ? null : env!.Trim();
            }
            var credential = Credentials.ManagedIdentity(clientId, request.ObjectId, request.IdentityResourceId, options);
            return new ModuleContext(ContextSource.ManagedIdentity, cloud, credential, null, string.Empty, null,
                Credentials.DescribeManagedIdentity(clientId, request.ObjectId, request.IdentityResourceId), "ManagedIdentity", options);
        }
    }
}
