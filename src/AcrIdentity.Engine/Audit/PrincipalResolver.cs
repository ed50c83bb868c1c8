using System;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Targets;
using Azure.Core;

namespace AcrIdentity.Engine.Audit
{
    /// <summary>A principal to grant to or revoke from, and how the input was understood.</summary>
    internal sealed class ResolvedPrincipal
    {
        internal ResolvedPrincipal(string principalId, string source, bool isManagedIdentity = true)
        {
            PrincipalId = principalId;
            Source = source;
            IsManagedIdentity = isManagedIdentity;
        }

        internal string PrincipalId { get; }
        internal string Source { get; }

        /// <summary>False for a bare object ID: it may be a user or group, so ARM must look its type up.</summary>
        internal bool IsManagedIdentity { get; }
    }

    /// <summary>
    /// Any ID kind to a principal (object) ID: a user-assigned identity by name, resource ID, client ID or principal
    /// ID (through Enable's IdentityResolver); any other resource ID to its own managed identity (AKS: the kubelet
    /// identity); any other GUID is taken as an object ID, since only Entra ID could say more.
    /// </summary>
    internal sealed class PrincipalResolver
    {
        private readonly ArmGateway _arm;
        private readonly IEngineHost _host;
        private readonly IdentityResolver _identities;

        internal PrincipalResolver(ArmGateway arm, IEngineHost host, string subscriptionId)
        {
            _arm = arm;
            _host = host;
            _identities = new IdentityResolver(arm, host, subscriptionId);
        }

        internal async Task<ResolvedPrincipal> ResolveAsync(string? input, CancellationToken ct)
        {
            if (string.IsNullOrWhiteSpace(input))
            {
                throw new EngineException("PrincipalRequired", EngineErrorCategory.InvalidArgument, "No principal was given.",
                    "Pass -Principal with an object ID, a client ID, a user-assigned identity's name or resource ID, or a resource whose managed identity is meant.");
            }
            string text = input!.Trim();
            ResourceIdentifier? id = ArmIds.TryParseResource(text);
            if (!(id is null) && !string.Equals(id.ResourceType.ToString(), IdentityResolver.IdentityType, StringComparison.OrdinalIgnoreCase))
            {
                return await FromResourceAsync(id, ct).ConfigureAwait(false);
            }
            try
            {
                PullIdentity identity = await _identities.ResolveAsync(text, ct).ConfigureAwait(false);
                string principal = identity.PrincipalId ?? throw new EngineException("IdentityWithoutPrincipal", EngineErrorCategory.InvalidData,
                    $"The identity {identity.ResourceId} has no principal ID yet.", "Wait until the identity is provisioned and run the command again.", identity.ResourceId);
                string how = string.Equals(text, principal, StringComparison.OrdinalIgnoreCase) ? "principal ID of" : string.Equals(text, identity.ClientId, StringComparison.OrdinalIgnoreCase) ? "client ID of" : "";
                return new ResolvedPrincipal(principal, $"{how} user-assigned identity {identity.ResourceId}".Trim());
            }
            catch (EngineException ex) when (ex.Reason == "UserAssignedIdentityNotFound" && Guid.TryParse(text, out Guid g))
            {
                // A system-assigned identity, an app's service principal, a user or a group: ARM cannot tell which.
                _host.WriteVerbose($"'{text}' is no user-assigned identity's client or principal ID; taking it as a principal (object) ID.");
                return new ResolvedPrincipal(g.ToString(), "principal (object) ID", isManagedIdentity: false);
            }
        }

        private async Task<ResolvedPrincipal> FromResourceAsync(ResourceIdentifier id, CancellationToken ct)
        {
            if (!ApiVersions.TryFor(id.ToString(), out string version))
            {
                throw new EngineException("UnsupportedPrincipalResource", EngineErrorCategory.InvalidArgument,
                    $"'{id}' is a {id.ResourceType}, which this module does not read.",
                    "Pass the principal (object) ID of its managed identity instead.", id.ToString());
            }
            ArmResponse? reply = await _arm.TryGetAsync(id.ToString(), ct, version).ConfigureAwait(false);
            JsonObject resource = reply?.Object ?? throw new EngineException("ResourceNotFound", EngineErrorCategory.ObjectNotFound,
                $"The resource '{id}' was not found.", "Check the resource ID and that you can read it.", id.ToString());
            string? kubelet = Json.Str(resource, "properties", "identityProfile", "kubeletidentity", "objectId");
            if (kubelet != null)
            {
                _host.WriteVerbose($"{id.Name} is an AKS cluster: using its kubelet identity {kubelet}, which pulls images.");
                return new ResolvedPrincipal(kubelet, $"kubelet identity of {id}");
            }
            ManagedIdentityBlock block = ManagedIdentityBlock.Parse(resource);
            if (block.SystemAssigned && !string.IsNullOrEmpty(block.PrincipalId))
            {
                _host.WriteVerbose($"Using the system-assigned identity of {id.Name} ({block.PrincipalId}).");
                return new ResolvedPrincipal(block.PrincipalId!, $"system-assigned identity of {id}");
            }
            if (block.UserAssigned.Count == 1 && block.UserAssigned[0].PrincipalId != null)
            {
                AttachedIdentity only = block.UserAssigned[0];
                _host.WriteVerbose($"{id.Name} has no system-assigned identity; using its one user-assigned identity {only.ResourceId}.");
                return new ResolvedPrincipal(only.PrincipalId!, $"user-assigned identity {only.ResourceId} of {id}");
            }
            throw new EngineException(block.UserAssigned.Count > 1 ? "AmbiguousIdentity" : "NoManagedIdentity", EngineErrorCategory.InvalidArgument,
                block.UserAssigned.Count > 1
                    ? $"{id.Name} has no system-assigned identity and {block.UserAssigned.Count} user-assigned identities: {string.Join(", ", block.UserAssigned.Select(u => u.ResourceId))}."
                    : $"{id.Name} has no managed identity.",
                block.UserAssigned.Count > 1
                    ? "Pass the user-assigned identity meant (its resource ID or client ID) instead of the resource."
                    : $"Give it one first (Enable-AcrManagedIdentityPull -ResourceId '{id}' does all of it), or pass an identity.", id.ToString());
        }
    }
}
