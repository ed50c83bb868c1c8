using System;
using System.Runtime.InteropServices;
using System.Security;
using AcrIdentity.Engine.Errors;
using Azure.Core;
using Azure.Identity;

namespace AcrIdentity.Engine.Auth
{
    /// <summary>Builds Azure.Identity credentials with the engine's retry and logging settings.</summary>
    internal static class Credentials
    {
        /// <summary>A managed-identity credential, after checking (on the IMDS path) that an endpoint answers at all.</summary>
        internal static async System.Threading.Tasks.Task<TokenCredential> ManagedIdentityAsync(string? clientId, string? objectId, string? resourceId, EngineOptions options,
            Hosting.IEngineHost host, System.Threading.CancellationToken cancellationToken)
        {
            ManagedIdentitySelector(clientId, objectId, resourceId);   // bad arguments fail before any network wait
            if (ImdsProbe.UsesImds()) await ImdsProbe.EnsureReachableAsync(host, cancellationToken).ConfigureAwait(false);
            return ManagedIdentity(clientId, objectId, resourceId, options);
        }

        internal static TokenCredential ManagedIdentity(string? clientId, string? objectId, string? resourceId, EngineOptions options)
        {
            var id = ManagedIdentitySelector(clientId, objectId, resourceId);
            var o = new ManagedIdentityCredentialOptions(id);
            PipelineSettings.Apply(o, options);
            return new ManagedIdentityCredential(o);
        }

        internal static ManagedIdentityId ManagedIdentitySelector(string? clientId, string? objectId, string? resourceId)
        {
            int given = (string.IsNullOrWhiteSpace(clientId) ? 0 : 1) + (string.IsNullOrWhiteSpace(objectId) ? 0 : 1) + (string.IsNullOrWhiteSpace(resourceId) ? 0 : 1);
            if (given > 1)
            {
                throw new EngineException("AmbiguousIdentity", EngineErrorCategory.InvalidArgument,
                    "Name the user-assigned identity one way only: its client ID, its object (principal) ID, or its resource ID.",
                    "Pass only one of -ClientId, -ObjectId, -IdentityResourceId.");
            }
            if (!string.IsNullOrWhiteSpace(clientId))
            {
                return ManagedIdentityId.FromUserAssignedClientId(RequireGuid(clientId!, "client ID"));
            }
            if (!string.IsNullOrWhiteSpace(objectId))
            {
                return ManagedIdentityId.FromUserAssignedObjectId(RequireGuid(objectId!, "object ID"));
            }
            if (!string.IsNullOrWhiteSpace(resourceId))
            {
                ResourceIdentifier id;
                try
                {
                    id = new ResourceIdentifier(resourceId!.Trim());
                    if (!string.Equals(id.ResourceType.ToString(), "Microsoft.ManagedIdentity/userAssignedIdentities", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new FormatException();
                    }
                }
                catch (Exception ex) when (ex is FormatException || ex is ArgumentException)
                {
                    throw new EngineException("InvalidIdentityResourceId", EngineErrorCategory.InvalidArgument,
                        $"'{resourceId}' is not the resource ID of a user-assigned identity.",
                        "Pass /subscriptions/…/resourceGroups/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>, or use -ClientId.", resourceId, ex);
                }
                return ManagedIdentityId.FromUserAssignedResourceId(id);
            }
            return ManagedIdentityId.SystemAssigned;
        }

        internal static string DescribeManagedIdentity(string? clientId, string? objectId, string? resourceId)
        {
            if (!string.IsNullOrWhiteSpace(clientId)) return $"ManagedIdentity (client ID {clientId!.Trim()})";
            if (!string.IsNullOrWhiteSpace(objectId)) return $"ManagedIdentity (object ID {objectId!.Trim()})";
            if (!string.IsNullOrWhiteSpace(resourceId)) return $"ManagedIdentity ({resourceId!.Trim()})";
            return "ManagedIdentity (system-assigned)";
        }

        internal static TokenCredential ClientSecret(CloudEnvironment cloud, string tenantId, string applicationId, string secret, EngineOptions options)
        {
            var o = new ClientSecretCredentialOptions
            {
                AuthorityHost = cloud.AuthorityHost,
                // A custom authority is unknown to login.microsoftonline.com; discovery would only add failing calls.
                DisableInstanceDiscovery = cloud.IsCustom,
            };
            PipelineSettings.Apply(o, options);
            return new ClientSecretCredential(tenantId, applicationId, secret, o);
        }

        internal static TokenCredential ClientCertificate(CloudEnvironment cloud, string tenantId, string applicationId, string certificatePath, string? password, EngineOptions options)
        {
            var o = new ClientCertificateCredentialOptions
            {
                AuthorityHost = cloud.AuthorityHost,
                DisableInstanceDiscovery = cloud.IsCustom,
            };
            PipelineSettings.Apply(o, options);
            var certificate = string.IsNullOrEmpty(password)
                ? new System.Security.Cryptography.X509Certificates.X509Certificate2(certificatePath)
                : new System.Security.Cryptography.X509Certificates.X509Certificate2(certificatePath, password);
            return new ClientCertificateCredential(tenantId, applicationId, certificate, o);
        }

        internal static string RequireGuid(string value, string what)
        {
            string v = value.Trim();
            if (!Guid.TryParse(v, out _))
            {
                throw new EngineException("InvalidIdentityId", EngineErrorCategory.InvalidArgument,
                    $"The {what} '{value}' is not a GUID.",
                    "Client IDs and object (principal) IDs are GUIDs; a name or resource ID goes to -IdentityResourceId.", value);
            }
            return v;
        }

        /// <summary>The secret as a string, made only when the credential is built.</summary>
        internal static string Reveal(SecureString secret)
        {
            IntPtr ptr = IntPtr.Zero;
            try
            {
                ptr = Marshal.SecureStringToGlobalAllocUnicode(secret);
                return Marshal.PtrToStringUni(ptr) ?? string.Empty;
            }
            finally
            {
                if (ptr != IntPtr.Zero) Marshal.ZeroFreeGlobalAllocUnicode(ptr);
            }
        }
    }
}
