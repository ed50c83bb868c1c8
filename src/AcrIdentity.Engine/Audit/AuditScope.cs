using System;
using System.Collections.Generic;
using AcrIdentity.Engine.Errors;

namespace AcrIdentity.Engine.Audit
{
    /// <summary>What Get-AcrPullAccess covers: one registry, or every registry under a subscription, resource group or management group.</summary>
    internal sealed class AuditScope
    {
        private AuditScope(string? registry, string? prefix, IReadOnlyCollection<string>? subscriptions, IReadOnlyCollection<string>? managementGroups)
        {
            Registry = registry;
            Prefix = prefix;
            Subscriptions = subscriptions;
            ManagementGroups = managementGroups;
        }

        internal string? Registry { get; }
        /// <summary>Registries whose ID starts with this (a subscription or group ID); null = no limit.</summary>
        internal string? Prefix { get; }
        internal IReadOnlyCollection<string>? Subscriptions { get; }
        internal IReadOnlyCollection<string>? ManagementGroups { get; }

        internal bool Contains(string registryId) =>
            Prefix == null || registryId.StartsWith(Prefix.TrimEnd('/') + "/", StringComparison.OrdinalIgnoreCase);

        internal static AuditScope Parse(AuditRequest request, string contextSubscription)
        {
            bool hasRegistry = !string.IsNullOrWhiteSpace(request.Registry);
            bool hasScope = !string.IsNullOrWhiteSpace(request.Scope);
            if (hasRegistry && hasScope)
            {
                throw new EngineException("ConflictingScope", EngineErrorCategory.InvalidArgument,
                    "-Registry names one registry and -Scope covers every registry under a scope; use one of them.",
                    "Leave out -Registry or -Scope.");
            }
            if (hasRegistry) return new AuditScope(request.Registry!.Trim(), null, null, null);
            string scope = hasScope ? request.Scope!.Trim().TrimEnd('/') : "/subscriptions/" + contextSubscription;
            if (Guid.TryParse(scope, out _)) scope = "/subscriptions/" + scope;
            string[] parts = scope.Trim('/').Split('/');
            if (parts.Length == 2 && parts[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase) && Guid.TryParse(parts[1], out _))
            {
                return new AuditScope(null, scope, new[] { parts[1] }, null);
            }
            if (parts.Length == 4 && parts[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase) && Guid.TryParse(parts[1], out _)
                && parts[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase) && parts[3].Length > 0)
            {
                return new AuditScope(null, scope, new[] { parts[1] }, null);
            }
            if (parts.Length == 4 && parts[0].Equals("providers", StringComparison.OrdinalIgnoreCase)
                && parts[1].Equals("Microsoft.Management", StringComparison.OrdinalIgnoreCase) && parts[2].Equals("managementGroups", StringComparison.OrdinalIgnoreCase))
            {
                return new AuditScope(null, null, null, new[] { parts[3] });
            }
            throw new EngineException("InvalidScope", EngineErrorCategory.InvalidArgument,
                $"'{request.Scope}' is not a subscription, resource group or management group scope.",
                "Pass /subscriptions/<id>, /subscriptions/<id>/resourceGroups/<group> or /providers/Microsoft.Management/managementGroups/<name> (or a subscription ID).", request.Scope);
        }
    }
}
