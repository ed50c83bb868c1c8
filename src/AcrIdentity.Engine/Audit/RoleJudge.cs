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

        /// <summary>What one role definition allows, worked out once per definition (an audit sees thousands of assignments of a few roles).</summary>
        internal sealed class Verdict
        {
            internal string Name = string.Empty;
            internal string Type = "BuiltInRole";
            internal bool Legacy;
            internal bool Data;
            internal bool Writes;
            internal bool Over;
        }

        internal static Verdict Judge(string roleGuid, JsonObject? definition)
        {
            var v = new Verdict
            {
                Name = Json.Str(definition, "properties", "roleName") ?? PullRoles.NameOf(roleGuid),
                Type = Json.Str(definition, "properties", "type") ?? Json.Str(definition, "properties", "roleType") ?? "BuiltInRole",
            };
            foreach (JsonObject p in Permissions(definition))
            {
                v.Legacy |= PermissionEvaluator.Allows(List(p, "actions"), List(p, "notActions"), PermissionEvaluator.PullAction);
                v.Data |= PermissionEvaluator.Allows(List(p, "dataActions"), List(p, "notDataActions"), PermissionEvaluator.ContentRead);
                v.Writes |= PermissionEvaluator.Allows(List(p, "actions"), List(p, "notActions"), PermissionEvaluator.PushAction)
                    || PermissionEvaluator.Allows(List(p, "dataActions"), List(p, "notDataActions"), PermissionEvaluator.ContentWrite);
                // Push, or control over the registry or over who may use it: more than a puller needs.
                v.Over |= PermissionEvaluator.Allows(List(p, "actions"), List(p, "notActions"), RegistryWrite)
                    || PermissionEvaluator.Allows(List(p, "actions"), List(p, "notActions"), AssignmentWrite);
            }
            v.Over |= v.Writes;
            return v;
        }

        internal static Grant ToGrant(JsonObject assignment, Verdict v) => new Grant(assignment, v.Name, v.Type, v.Legacy, v.Data, v.Writes);

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
