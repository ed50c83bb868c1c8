using System;
using System.Collections.Generic;
using Azure.Core;
using Azure.ResourceManager;

namespace AcrIdentity.Engine.Arm
{
    /// <summary>
    /// The one table of api-versions the engine speaks (values from azure-facts/arm-rest.md). Every type is also
    /// pinned in ArmClientOptions so the SDK never spends a provider lookup to choose one.
    /// </summary>
    public static class ApiVersions
    {
        public const string RoleAssignments = "2022-04-01";
        public const string RoleDefinitions = "2022-04-01";
        public const string ContainerRegistry = "2025-11-01";
        public const string Web = "2024-11-01";
        public const string ContainerInstance = "2023-05-01";
        public const string Compute = "2024-11-01";
        public const string ManagedIdentity = "2023-01-31";
        public const string ContainerService = "2025-05-01";
        public const string ContainerApps = "2025-07-01";
        public const string Subscriptions = "2022-12-01";
        public const string Resources = "2021-04-01";
        public const string ResourceGraph = "2022-10-01";

        private static readonly Dictionary<string, string> ByType = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Microsoft.Authorization/roleAssignments"] = RoleAssignments,
            ["Microsoft.Authorization/roleDefinitions"] = RoleDefinitions,
            ["Microsoft.ContainerRegistry/registries"] = ContainerRegistry,
            ["Microsoft.Web/sites"] = Web,
            ["Microsoft.Web/sites/slots"] = Web,
            ["Microsoft.Web/sites/config"] = Web,
            ["Microsoft.Web/sites/slots/config"] = Web,
            ["Microsoft.ContainerInstance/containerGroups"] = ContainerInstance,
            ["Microsoft.Compute/virtualMachines"] = Compute,
            ["Microsoft.Compute/virtualMachineScaleSets"] = Compute,
            ["Microsoft.ManagedIdentity/userAssignedIdentities"] = ManagedIdentity,
            ["Microsoft.ContainerService/managedClusters"] = ContainerService,
            ["Microsoft.App/containerApps"] = ContainerApps,
            ["Microsoft.App/managedEnvironments"] = ContainerApps,
            ["Microsoft.Resources/subscriptions"] = Subscriptions,
            ["Microsoft.Resources/tenants"] = Subscriptions,
            ["Microsoft.Resources/resourceGroups"] = Resources,
            ["Microsoft.Resources/subscriptions/resourceGroups"] = Resources,
            ["Microsoft.Resources/resources"] = Resources,
            ["Microsoft.Resources/providers"] = Resources,
            ["Microsoft.Resources/subscriptions/providers"] = Resources,
            ["Microsoft.ResourceGraph/resources"] = ResourceGraph,
        };

        /// <summary>Child types not listed fall back to their provider's version (e.g. registries/replications).</summary>
        private static readonly Dictionary<string, string> ByNamespace = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Microsoft.Authorization"] = RoleAssignments,
            ["Microsoft.ContainerRegistry"] = ContainerRegistry,
            ["Microsoft.Web"] = Web,
            ["Microsoft.ContainerInstance"] = ContainerInstance,
            ["Microsoft.Compute"] = Compute,
            ["Microsoft.ManagedIdentity"] = ManagedIdentity,
            ["Microsoft.ContainerService"] = ContainerService,
            ["Microsoft.App"] = ContainerApps,
            ["Microsoft.Resources"] = Resources,
            ["Microsoft.ResourceGraph"] = ResourceGraph,
        };

        public static IReadOnlyDictionary<string, string> Table => ByType;

        public static bool TryGet(ResourceType type, out string apiVersion)
        {
            string key = type.ToString();
            if (ByType.TryGetValue(key, out apiVersion!)) return true;
            return ByNamespace.TryGetValue(type.Namespace, out apiVersion!);
        }

        /// <summary>The pinned version for a resource ID or a collection path (…/providers/Ns/type).</summary>
        public static string For(string resourceIdOrPath)
        {
            if (TryFor(resourceIdOrPath, out var v)) return v;
            throw new ArgumentException($"No api-version is pinned for '{resourceIdOrPath}'. Add its type to ApiVersions.", nameof(resourceIdOrPath));
        }

        public static bool TryFor(string resourceIdOrPath, out string apiVersion)
        {
            apiVersion = string.Empty;
            string path = (resourceIdOrPath ?? string.Empty).Split('?')[0].TrimEnd('/');
            if (path.Length == 0) return false;
            // A collection path parses as a resource ID once a placeholder name is appended.
            return TryForId(path, out apiVersion) || TryForId(path + "/00000000-0000-0000-0000-000000000000", out apiVersion);
        }

        private static bool TryForId(string path, out string apiVersion)
        {
            apiVersion = string.Empty;
            try
            {
                if (!ResourceIdentifier.TryParse(path, out ResourceIdentifier? id) || id is null) return false;
                ResourceType type = id.ResourceType;
                return !string.IsNullOrEmpty(type.Namespace) && TryGet(type, out apiVersion);
            }
            catch (FormatException)
            {
                return false;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        internal static void ApplyTo(ArmClientOptions options)
        {
            foreach (var kv in ByType)
            {
                options.SetApiVersion(new ResourceType(kv.Key), kv.Value);
            }
        }
    }
}
