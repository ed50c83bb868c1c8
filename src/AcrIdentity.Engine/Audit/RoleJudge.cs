using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using AcrIdentity.Engine.Checks;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Audit
{
    /// <summary>
    /// What a role definition allows on a registry, by the same action/notAction wildcard rule and the same
    /// Grant model as Test-AcrPullAccess's evaluator, so both commands agree on "grants pull" and "honoured".
    /// </summary>
    internal static class RoleJudge
    {
        private const string RegistryWrite = "Microsoft.ContainerRegistry/registries/write";
        private const string AssignmentWrite = "Microsoft.Authorization/roleAssignments/write";

        internal static Grant ToGrant(JsonObject assignment, JsonObject? definition)
        {
            string guid = PullRoles.RoleGuidOf(assignment);
            string name = Json.Str(definition, "properties", "roleName") ?? PullRoles.NameOf(guid);
            string type = Json.Str(definition, "properties", "type") ?? Json.Str(definition, "properties", "roleType") ?? "BuiltInRole";
            bool legacy = false, data = false, writes = false;
            foreach (JsonObject p in Permissions(definition))
            {
                legacy |= PermissionEvaluator.Allows(List(p, "actions"), List(p, "notActions"), PermissionEvaluator.PullAction);
                data |= PermissionEvaluator.Allows(List(p, "dataActions"), List(p, "notDataActions"), PermissionEvaluator.ContentRead);
                writes |= PermissionEvaluator.Allows(List(p, "actions"), List(p, "notActions"), PermissionEvaluator.PushAction)
                    || PermissionEvaluator.Allows(List(p, "dataActions"), List(p, "notDataActions"), PermissionEvaluator.ContentWrite);
            }
            return new Grant(assignment, name, type, legacy, data, writes);
        }

        /// <summary>Push, or control over the registry or over who may use it: more than a puller needs.</summary>
        internal static bool OverPrivileged(Grant grant, JsonObject? definition) =>
            grant.WritesToo || Permissions(definition).Any(p =>
                PermissionEvaluator.Allows(List(p, "actions"), List(p, "notActions"), RegistryWrite) ||
                PermissionEvaluator.Allows(List(p, "actions"), List(p, "notActions"), AssignmentWrite));

        /// <summary>The registry's mode honours the grant for pulls (conditions limit it to repositories, they don't void it).</summary>
        internal static bool GrantsPull(Grant grant, bool abac) => abac ? grant.DataPull : grant.Honoured(false, null);

        private static IEnumerable<JsonObject> Permissions(JsonObject? definition) =>
            (Json.Arr(definition, "properties", "permissions") ?? new JsonArray()).OfType<JsonObject>();

        private static IReadOnlyList<string> List(JsonObject permission, string name) =>
            (Json.Arr(permission, name) ?? new JsonArray()).Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s : null)
                .Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).ToList();

        /// <summary>Registry, ResourceGroup, Subscription, ManagementGroup or Root.</summary>
        internal static string ScopeLevel(string scope, string registryId)
        {
            string s = scope.TrimEnd('/');
            if (s.Length == 0) return "Root";
            if (string.Equals(s, registryId, StringComparison.OrdinalIgnoreCase)) return "Registry";
            if (s.StartsWith("/providers/Microsoft.Management/managementGroups/", StringComparison.OrdinalIgnoreCase)) return "ManagementGroup";
            int parts = s.Trim('/').Split('/').Length;
            if (parts == 2) return "Subscription";
            if (parts == 4) return "ResourceGroup";
            return "Resource";
        }
    }
}
