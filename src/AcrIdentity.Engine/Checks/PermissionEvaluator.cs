using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Checks
{
    /// <summary>One role assignment that applies at the registry, with what its role definition allows.</summary>
    internal sealed class Grant
    {
        internal Grant(JsonObject assignment, string roleName, string roleType, bool legacyPull, bool dataPull, bool writesToo = false)
        {
            WritesToo = writesToo;
            Assignment = assignment;
            RoleName = roleName;
            RoleType = roleType;
            LegacyPull = legacyPull;
            DataPull = dataPull;
        }

        internal JsonObject Assignment { get; }
        internal string Id => Json.Str(Assignment, "id") ?? string.Empty;
        internal string PrincipalId => Json.Str(Assignment, "properties", "principalId") ?? string.Empty;
        internal string PrincipalType => Json.Str(Assignment, "properties", "principalType") ?? string.Empty;
        /// <summary>Untyped assignments are service principals (what ARM assumed before principalType existed).</summary>
        internal bool IsServicePrincipal => PrincipalType.Length == 0 || string.Equals(PrincipalType, "ServicePrincipal", StringComparison.OrdinalIgnoreCase);
        /// <summary>A principal Entra ID's getByIds can find in the caller's directory; a ForeignGroup (or Device) is elsewhere.</summary>
        internal bool IsDirectoryPrincipal => IsServicePrincipal
            || string.Equals(PrincipalType, "User", StringComparison.OrdinalIgnoreCase) || string.Equals(PrincipalType, "Group", StringComparison.OrdinalIgnoreCase);
        internal string Scope => Json.Str(Assignment, "properties", "scope") ?? string.Empty;
        internal string? Condition => string.IsNullOrWhiteSpace(Json.Str(Assignment, "properties", "condition")) ? null : Json.Str(Assignment, "properties", "condition");
        internal string RoleGuid => PullRoles.RoleGuidOf(Assignment);
        internal string RoleName { get; }
        /// <summary>BuiltInRole or CustomRole.</summary>
        internal string RoleType { get; }
        /// <summary>actions allow registries/pull/read (what legacy-mode registries honour).</summary>
        internal bool LegacyPull { get; }
        /// <summary>dataActions allow repositories/content/read (what ABAC-mode registries honour).</summary>
        internal bool DataPull { get; }
        /// <summary>The role also pushes (push/write or repositories/content/write).</summary>
        internal bool WritesToo { get; }
        internal bool GrantsPullSomehow => LegacyPull || DataPull;
        /// <summary>Set when the assignment reaches the principal through a group.</summary>
        internal string? ViaGroup { get; set; }

        /// <summary>Whether the registry honours this grant for <paramref name="repository"/> in its current mode.</summary>
        internal bool Honoured(bool abac, string? repository)
        {
            if (!abac) return LegacyPull || (DataPull && Condition == null);
            return DataPull && (Condition == null || (repository != null && PermissionEvaluator.ConditionCovers(Condition, repository)));
        }

        internal string Describe() =>
            $"{RoleName}{(RoleType == "CustomRole" ? " (custom role)" : string.Empty)} at {Scope}{(ViaGroup != null ? " through group " + ViaGroup : string.Empty)}{(Condition != null ? " with a condition" : string.Empty)}";
    }

    /// <summary>
    /// Effective pull permission from ARM alone: assignments at the registry and above (direct and through
    /// groups), each role definition evaluated by actions/notActions and dataActions/notDataActions with
    /// wildcards, and ABAC conditions evaluated against the repository.
    /// </summary>
    internal sealed class PermissionEvaluator
    {
        internal const string PullAction = "Microsoft.ContainerRegistry/registries/pull/read";
        internal const string ContentRead = "Microsoft.ContainerRegistry/registries/repositories/content/read";
        internal const string PushAction = "Microsoft.ContainerRegistry/registries/push/write";
        internal const string ContentWrite = "Microsoft.ContainerRegistry/registries/repositories/content/write";

        private readonly ArmGateway _arm;
        private readonly Dictionary<string, JsonObject?> _definitions = new Dictionary<string, JsonObject?>(StringComparer.OrdinalIgnoreCase);

        internal PermissionEvaluator(ArmGateway arm)
        {
            _arm = arm;
        }

        /// <summary>Assignments that apply to the principal (and its groups) at the registry.</summary>
        internal async Task<IReadOnlyList<Grant>> GrantsForAsync(RegistryInfo registry, string principalId, CancellationToken ct)
        {
            string filter = Uri.EscapeDataString($"assignedTo('{principalId}')");
            var list = await _arm.ListAsync($"{registry.Id}/providers/Microsoft.Authorization/roleAssignments?$filter={filter}", ct).ConfigureAwait(false);
            var grants = await ToGrantsAsync(list.Where(a => PullRoles.CoversRegistry(Json.Str(a, "properties", "scope"), registry)), ct).ConfigureAwait(false);
            foreach (Grant g in grants)
            {
                if (!string.Equals(g.PrincipalId, principalId, StringComparison.OrdinalIgnoreCase)) g.ViaGroup = g.PrincipalId;
            }
            return grants;
        }

        /// <summary>Every assignment at the registry or above, whoever holds it.</summary>
        internal async Task<IReadOnlyList<Grant>> AllGrantsAsync(RegistryInfo registry, CancellationToken ct)
        {
            string filter = Uri.EscapeDataString("atScope()");
            var list = await _arm.ListAsync($"{registry.Id}/providers/Microsoft.Authorization/roleAssignments?$filter={filter}", ct).ConfigureAwait(false);
            return await ToGrantsAsync(list.Where(a => PullRoles.CoversRegistry(Json.Str(a, "properties", "scope"), registry)), ct).ConfigureAwait(false);
        }

        private async Task<IReadOnlyList<Grant>> ToGrantsAsync(IEnumerable<JsonObject> assignments, CancellationToken ct)
        {
            var grants = new List<Grant>();
            foreach (JsonObject a in assignments)
            {
                JsonObject? def = await DefinitionAsync(Json.Str(a, "properties", "roleDefinitionId"), ct).ConfigureAwait(false);
                string guid = PullRoles.RoleGuidOf(a);
                string name = Json.Str(def, "properties", "roleName") ?? PullRoles.NameOf(guid);
                string type = Json.Str(def, "properties", "type") ?? Json.Str(def, "properties", "roleType") ?? "BuiltInRole";
                bool legacy = false, data = false, writes = false;
                foreach (JsonObject p in (Json.Arr(def, "properties", "permissions") ?? new JsonArray()).OfType<JsonObject>())
                {
                    legacy |= Allows(List(p, "actions"), List(p, "notActions"), PullAction);
                    data |= Allows(List(p, "dataActions"), List(p, "notDataActions"), ContentRead);
                    writes |= Allows(List(p, "actions"), List(p, "notActions"), PushAction) || Allows(List(p, "dataActions"), List(p, "notDataActions"), ContentWrite);
                }
                grants.Add(new Grant(a, name, type, legacy, data, writes));
            }
            return grants;
        }

        private async Task<JsonObject?> DefinitionAsync(string? id, CancellationToken ct)
        {
            if (string.IsNullOrEmpty(id)) return null;
            if (_definitions.TryGetValue(id!, out JsonObject? cached)) return cached;
            ArmResponse? reply = await _arm.TryGetAsync(id!, ct).ConfigureAwait(false);
            _definitions[id!] = reply?.Object;
            return reply?.Object;
        }

        private static IReadOnlyList<string> List(JsonObject permission, string name) =>
            (Json.Arr(permission, name) ?? new JsonArray()).Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s : null)
                .Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).ToList();

        /// <summary>ARM's rule: some allow pattern matches and no deny pattern does ('*' matches any run of characters).</summary>
        internal static bool Allows(IReadOnlyList<string> allow, IReadOnlyList<string> deny, string action) =>
            allow.Any(p => Wildcard(p, action)) && !deny.Any(p => Wildcard(p, action));

        internal static bool Wildcard(string pattern, string value) =>
            Regex.IsMatch(value, "^" + Regex.Escape(pattern.Trim()).Replace("\\*", ".*") + "$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        private static readonly Regex RepositoryClause = new Regex(
            @"@Request\[\s*Microsoft\.ContainerRegistry/registries/repositories:name\s*\]\s+(?<op>\w+)\s+'(?<value>[^']*)'",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        /// <summary>
        /// Whether a condition lets the repository through: any repository-name clause that matches (the clauses of
        /// the documented form are alternatives). A condition with no clause we understand is taken as excluding it.
        /// </summary>
        internal static bool ConditionCovers(string condition, string repository)
        {
            foreach (Match m in RepositoryClause.Matches(condition))
            {
                string v = m.Groups["value"].Value;
                bool hit;
                switch (m.Groups["op"].Value.ToLowerInvariant())
                {
                    case "stringequalsignorecase": hit = string.Equals(repository, v, StringComparison.OrdinalIgnoreCase); break;
                    case "stringequals": hit = string.Equals(repository, v, StringComparison.Ordinal); break;
                    case "stringstartswithignorecase": hit = repository.StartsWith(v, StringComparison.OrdinalIgnoreCase); break;
                    case "stringstartswith": hit = repository.StartsWith(v, StringComparison.Ordinal); break;
                    case "stringlikeignorecase": hit = Wildcard(v, repository); break;
                    case "stringlike": hit = Regex.IsMatch(repository, "^" + Regex.Escape(v).Replace("\\*", ".*") + "$", RegexOptions.CultureInvariant); break;
                    default: hit = false; break;
                }
                if (hit) return true;
            }
            return false;
        }

        /// <summary>The repository names a condition admits, for messages.</summary>
        internal static string ConditionTargets(string condition)
        {
            var names = RepositoryClause.Matches(condition).Cast<Match>().Select(m => "'" + m.Groups["value"].Value + "'").Distinct().ToList();
            return names.Count == 0 ? "no repository this module can read" : string.Join(" or ", names);
        }
    }
}
