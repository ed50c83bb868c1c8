using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Errors;
using Azure.Core;

namespace AcrIdentity.Engine.Targets
{
    /// <summary>What was read about one target: the resource and, for kinds that have one, its pull configuration.</summary>
    internal sealed class TargetState
    {
        internal TargetState(ResourceIdentifier id, JsonObject resource, JsonObject? config = null)
        {
            Id = id;
            Resource = resource;
            Config = config;
        }

        internal ResourceIdentifier Id { get; }
        internal JsonObject Resource { get; }
        /// <summary>Web apps: the config/web resource.</summary>
        internal JsonObject? Config { get; }
        internal ManagedIdentityBlock Identity => ManagedIdentityBlock.Parse(Resource);
        internal string? Location => Json.Str(Resource, "location");
    }

    /// <summary>The pull configuration compared with what is wanted.</summary>
    internal sealed class PullConfigCheck
    {
        internal PullConfigCheck(bool satisfied, string current, string change)
        {
            Satisfied = satisfied;
            Current = current;
            Change = change;
        }

        internal bool Satisfied { get; }
        /// <summary>What is configured now, for messages.</summary>
        internal string Current { get; }
        /// <summary>The change a write makes, in words.</summary>
        internal string Change { get; }
    }

    /// <summary>
    /// One class per target kind (design §2): reads the identity, adds one without removing the others, reads
    /// and writes the pull configuration, finds the image. Adding a kind = adding a subclass to TargetCatalog.
    /// </summary>
    internal abstract class TargetStrategy
    {
        /// <summary>Short kind name shown to users (WebApp, ContainerGroup, VirtualMachine, …).</summary>
        internal abstract string Kind { get; }

        internal abstract bool Handles(ResourceType type);

        /// <summary>False for kinds that only need identity + role (VMs, scale sets, AKS).</summary>
        internal virtual bool HasPullConfiguration => true;

        /// <summary>True when the identity that pulls is fixed by the target (AKS kubelet identity).</summary>
        internal virtual bool FixedIdentity => false;

        /// <summary>How the provider spells the type with both kinds of identity.</summary>
        internal virtual string CombinedIdentityType => "SystemAssigned, UserAssigned";

        internal virtual async Task<TargetState> ReadAsync(ArmGateway arm, ResourceIdentifier id, CancellationToken ct)
        {
            ArmResponse? reply = await arm.TryGetAsync(id.ToString(), ct).ConfigureAwait(false);
            if (reply?.Object == null) throw Errors.TargetNotFound(id.ToString(), Kind);
            return new TargetState(id, reply.Object);
        }

        /// <summary>Refuses, before any write, what this kind cannot do with a managed identity.</summary>
        internal virtual void Validate(TargetState state, PullIdentity want, RegistryInfo registry) { }

        /// <summary>The identity that pulls when it is fixed by the target (see FixedIdentity).</summary>
        internal virtual PullIdentity? FixedPullIdentity(TargetState state) => null;

        /// <summary>Warnings worth showing (e.g. the image comes from another registry).</summary>
        internal virtual IEnumerable<string> Warnings(TargetState state, RegistryInfo registry)
        {
            string? image = FindImages(state) is { Count: > 0 } images ? images[0] : null;
            if (image != null && !ImageIsFrom(image, registry))
            {
                yield return $"{state.Id.Name} runs '{image}', which is not in {registry.LoginServer}; the identity can pull only from {registry.LoginServer}.";
            }
        }

        /// <summary>Images the target runs, as configured (may be empty).</summary>
        internal virtual IReadOnlyList<string> FindImages(TargetState state) => Array.Empty<string>();

        // The writes below return the target as the write's reply shows it (ARM answers a PUT/PATCH with the
        // resource as stored, after any long-running operation), so the caller needs no read to check the result;
        // null when the reply is not that resource, and the caller reads instead.

        internal virtual async Task<TargetState?> AddIdentityAsync(ArmGateway arm, TargetState state, PullIdentity want, RegistryInfo registry, CancellationToken ct)
        {
            var body = new JsonObject { ["identity"] = state.Identity.WithAdded(want, CombinedIdentityType) };
            ArmResponse reply = await arm.PatchAsync(state.Id.ToString(), body, ct).ConfigureAwait(false);
            return Replied(state, reply);
        }

        internal virtual PullConfigCheck CheckPullConfig(TargetState state, PullIdentity want, RegistryInfo registry) =>
            new PullConfigCheck(true, "nothing to configure", "none");

        internal virtual Task<TargetState?> WritePullConfigAsync(ArmGateway arm, TargetState state, PullIdentity want, RegistryInfo registry, CancellationToken ct) =>
            Task.FromResult<TargetState?>(state);

        /// <summary>Disable: true when the target no longer pulls from the registry with a managed identity.</summary>
        internal virtual PullConfigCheck CheckPullOff(TargetState state, RegistryInfo registry) =>
            new PullConfigCheck(true, "nothing to switch", "none");

        internal virtual Task<TargetState?> WritePullOffAsync(ArmGateway arm, TargetState state, RegistryInfo registry, CancellationToken ct) =>
            Task.FromResult<TargetState?>(state);

        /// <summary>
        /// The state after a write of the resource itself: its reply when that is the resource (by id), else null.
        /// A 200 with an error-shaped or empty body is not proof of anything.
        /// </summary>
        internal static TargetState? Replied(TargetState before, ArmResponse reply) =>
            IsResource(reply.Object, before.Id.ToString()) ? new TargetState(before.Id, reply.Object!, before.Config) : null;

        internal static bool IsResource(JsonObject? body, string id) => body != null && Json.SameId(Json.Str(body, "id"), id);

        /// <summary>The principals the target pulls from this registry with (read before switching off). Default: every identity it has.</summary>
        internal virtual IEnumerable<string> PullPrincipals(TargetState state, RegistryInfo registry)
        {
            ManagedIdentityBlock identity = state.Identity;
            if (identity.SystemAssigned && identity.PrincipalId != null) yield return identity.PrincipalId;
            foreach (AttachedIdentity u in identity.UserAssigned)
            {
                if (u.PrincipalId != null) yield return u.PrincipalId;
            }
        }

        /// <summary>The principal of an attached identity given by resource ID, client ID or "system".</summary>
        internal static string? PrincipalOf(ManagedIdentityBlock identity, string? reference)
        {
            if (string.IsNullOrEmpty(reference) || string.Equals(reference, "system", StringComparison.OrdinalIgnoreCase)) return identity.SystemAssigned ? identity.PrincipalId : null;
            foreach (AttachedIdentity u in identity.UserAssigned)
            {
                if (Json.SameId(u.ResourceId, reference) || string.Equals(u.ClientId, reference, StringComparison.OrdinalIgnoreCase)) return u.PrincipalId;
            }
            return null;
        }

        /// <summary>A {server, identity, …} registry entry (container groups' imageRegistryCredentials, container apps' registries) naming this registry.</summary>
        internal static bool IsEntryFor(JsonObject entry, RegistryInfo registry) =>
            string.Equals(Json.Str(entry, "server"), registry.LoginServer, StringComparison.OrdinalIgnoreCase);

        /// <summary>Such an entry that pulls with a managed identity.</summary>
        internal static bool IsIdentityEntryFor(JsonObject entry, RegistryInfo registry) =>
            IsEntryFor(entry, registry) && !string.IsNullOrEmpty(Json.Str(entry, "identity"));

        internal static bool ImageIsFrom(string image, RegistryInfo registry)
        {
            int slash = image.IndexOf('/');
            if (slash <= 0) return false;
            return string.Equals(image.Substring(0, slash), registry.LoginServer, StringComparison.OrdinalIgnoreCase);
        }

        internal static class Errors
        {
            internal static EngineException TargetNotFound(string id, string kind) =>
                new EngineException("TargetNotFound", EngineErrorCategory.ObjectNotFound,
                    $"The {kind} '{id}' was not found.",
                    "Check the resource ID (names, resource group and subscription) and that you can read it; Get-AcrIdentityContext shows the subscription in use.", id);

            internal static EngineException Unsupported(string reason, string message, string action, string id) =>
                new EngineException(reason, EngineErrorCategory.InvalidOperation, message, action, id);
        }
    }
}
