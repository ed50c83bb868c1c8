using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Checks;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Targets;
using Azure.Core;

namespace AcrIdentity.Engine.Audit
{
    /// <summary>
    /// Get-AcrPullAccess: who can pull from which registry, why, and as which resources. Everything is read in a
    /// fixed number of Resource Graph queries (registries, role assignments, role definitions, identity-bearing
    /// resources — each paged), never one call per resource; when Resource Graph cannot answer, ARM lists per
    /// registry and per subscription do the same job. Principals that no visible managed identity has are then looked up
    /// in Entra ID, 1,000 a call, to tell deleted ones (orphaned) from app registrations, users, groups and identities
    /// the caller cannot see.
    /// </summary>
    public sealed class AccessAuditor
    {
        private const string MgPrefix = "/providers/Microsoft.Management/managementGroups/";
        private static int s_progressId = 7600;

        private readonly ArmGateway _arm;
        private readonly IEngineHost _host;
        private readonly string _subscriptionId;
        private readonly RegistryResolver _registries;
        private readonly ResourceGraphClient _graph;
        private readonly EntraDirectory _directory;
        private bool _directoryChecked;
        private readonly int _progressId = Interlocked.Increment(ref s_progressId);

        public AccessAuditor(ModuleContext context, IEngineHost host)
        {
            if (context == null) throw new ArgumentNullException(nameof(context));
            _host = host ?? throw new ArgumentNullException(nameof(host));
            _arm = context.CreateGateway(host);
            _subscriptionId = context.SubscriptionId;
            _registries = new RegistryResolver(_arm, host, context.SubscriptionId);
            _graph = new ResourceGraphClient(_arm, host);
            _directory = new EntraDirectory(context, _arm, host);
        }

        public async Task<AuditResult> AuditAsync(AuditRequest request, CancellationToken ct)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            AuditScope scope = AuditScope.Parse(request, _subscriptionId);
            _directoryChecked = true;
            if (!request.ForceArm)
            {
                try
                {
                    var rows = await AuditWithGraphAsync(request, scope, ct).ConfigureAwait(false);
                    return new AuditResult(rows, true, _graph.Pages, _directoryChecked);
                }
                catch (ResourceGraphUnavailableException ex)
                {
                    _host.WriteWarning($"{ex.Message} Falling back to ARM lists (one per registry and per subscription).");
                }
            }
            var armRows = await AuditWithArmAsync(request, scope, ct).ConfigureAwait(false);
            return new AuditResult(armRows, false, _graph.Pages, _directoryChecked);
        }

        // ---------------- Resource Graph ----------------

        private async Task<IReadOnlyList<PullAccessEntry>> AuditWithGraphAsync(AuditRequest request, AuditScope scope, CancellationToken ct)
        {
            Progress("Finding registries", 5);
            List<RegistryInfo> registries;
            if (scope.Registry != null)
            {
                registries = new List<RegistryInfo> { await _registries.ResolveAsync(scope.Registry, ct).ConfigureAwait(false) };
            }
            else
            {
                var rows = await _graph.QueryAsync(
                    "resources | where type =~ 'microsoft.containerregistry/registries' | project id, name, location, properties",
                    scope.Subscriptions, scope.ManagementGroups, ct).ConfigureAwait(false);
                registries = rows.Select(ToRegistry).Where(r => r != null && scope.Contains(r.RegistryId)).Select(r => r!).ToList();
            }
            _host.WriteVerbose($"Auditing {registries.Count} registr{(registries.Count == 1 ? "y" : "ies")}: {string.Join(", ", registries.Select(r => r.Name))}.");
            if (registries.Count == 0) return Array.Empty<PullAccessEntry>();

            Progress("Reading role assignments", 20);
            var scopes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (RegistryInfo r in registries)
            {
                scopes.Add(r.RegistryId);
                scopes.Add($"/subscriptions/{r.Id.SubscriptionId}/resourceGroups/{r.Id.ResourceGroupName}");
                scopes.Add($"/subscriptions/{r.Id.SubscriptionId}");
            }
            // Only scopes that can cover a registry: the registries, their groups and subscriptions, management groups, root.
            string query = "authorizationresources | where type =~ 'microsoft.authorization/roleassignments'" +
                $" | where tolower(tostring(properties.scope)) in ({string.Join(", ", scopes.Select(s => ResourceGraphClient.Literal(s.ToLowerInvariant())))})" +
                $" or tostring(properties.scope) startswith '{MgPrefix}' or tostring(properties.scope) == '/'";
            if (!string.IsNullOrWhiteSpace(request.PrincipalId)) query += $" | where tostring(properties.principalId) =~ {ResourceGraphClient.Literal(request.PrincipalId!.Trim())}";
            query += " | project id, name, properties";
            var subscriptions = registries.Select(r => r.Id.SubscriptionId!).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            var assignments = await _graph.QueryAsync(query, subscriptions, null, ct).ConfigureAwait(false);

            // Which management groups are above a subscription is ARM's knowledge (and Resource Graph may not list
            // group-scope assignments for a subscription query): one atScope() list per registry subscription adds
            // them, a constant cost whatever the number of apps.
            var applicableMg = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
            var known = new HashSet<string>(assignments.Select(a => Json.Str(a, "id") ?? string.Empty), StringComparer.OrdinalIgnoreCase);
            var merged = assignments.ToList();
            foreach (string sub in subscriptions)
            {
                string filter = Uri.EscapeDataString("atScope()");
                var above = await _arm.ListAsync($"/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments?$filter={filter}", ct).ConfigureAwait(false);
                var groupScoped = above.Where(a => IsMg(Json.Str(a, "properties", "scope")) || (Json.Str(a, "properties", "scope") ?? "x").TrimEnd('/').Length == 0).ToList();
                applicableMg[sub] = new HashSet<string>(groupScoped.Select(a => Json.Str(a, "id") ?? string.Empty), StringComparer.OrdinalIgnoreCase);
                foreach (JsonObject a in groupScoped)
                {
                    if (!string.IsNullOrWhiteSpace(request.PrincipalId) && !string.Equals(Json.Str(a, "properties", "principalId"), request.PrincipalId!.Trim(), StringComparison.OrdinalIgnoreCase)) continue;
                    if (known.Add(Json.Str(a, "id") ?? string.Empty)) merged.Add(a);
                }
            }
            assignments = merged;
            var guids = assignments.Select(PullRoles.RoleGuidOf).Where(g => g.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

            Progress("Reading role definitions", 40);
            var definitions = new Dictionary<string, JsonObject>(StringComparer.OrdinalIgnoreCase);
            if (guids.Count > 0)
            {
                var defs = await _graph.QueryAsync(
                    "authorizationresources | where type =~ 'microsoft.authorization/roledefinitions'" +
                    $" | where name in~ ({string.Join(", ", guids.Select(ResourceGraphClient.Literal))}) | project id, name, properties",
                    null, null, ct).ConfigureAwait(false);
                foreach (JsonObject d in defs)
                {
                    string? name = Json.Str(d, "name");
                    if (name != null && !definitions.ContainsKey(name)) definitions[name] = d;
                }
            }

            var perRegistry = registries.Select(r => (r, (IReadOnlyList<JsonObject>)assignments.Where(a =>
            {
                string? s = Json.Str(a, "properties", "scope");
                if (!PullRoles.CoversRegistry(s, r)) return false;
                bool groupOrRoot = IsMg(s) || (s ?? "x").TrimEnd('/').Length == 0;
                return !groupOrRoot || (applicableMg.TryGetValue(r.Id.SubscriptionId!, out var set) && set.Contains(Json.Str(a, "id") ?? string.Empty));
            }).ToList())).ToList();

            var candidates = Evaluate(perRegistry, definitions);
            PrincipalIndex index = new PrincipalIndex();
            if (candidates.Any(c => c.Grant.IsServicePrincipal))
            {
                Progress("Resolving principals to resources", 60);
                var rows = await _graph.QueryAsync(
                    "resources | where isnotempty(identity) or type =~ 'microsoft.managedidentity/userassignedidentities' or type =~ 'microsoft.containerservice/managedclusters'" +
                    " | project id, type, identity, principalId = tostring(properties.principalId), kubelet = properties.identityProfile.kubeletidentity",
                    null, null, ct).ConfigureAwait(false);
                index = PrincipalIndex.Build(rows);
            }
            return await FinishAsync(candidates, index, ct).ConfigureAwait(false);
        }

        // ---------------- ARM fallback ----------------

        private async Task<IReadOnlyList<PullAccessEntry>> AuditWithArmAsync(AuditRequest request, AuditScope scope, CancellationToken ct)
        {
            Progress("Finding registries (ARM)", 5);
            List<RegistryInfo> registries;
            if (scope.Registry != null)
            {
                registries = new List<RegistryInfo> { await _registries.ResolveAsync(scope.Registry, ct).ConfigureAwait(false) };
            }
            else
            {
                IEnumerable<string> subs = scope.Subscriptions ?? await VisibleSubscriptionsAsync(ct).ConfigureAwait(false);
                if (scope.ManagementGroups != null)
                {
                    _host.WriteWarning("Without Resource Graph the audit cannot tell which subscriptions sit under a management group; it covers every subscription you can see.");
                }
                registries = new List<RegistryInfo>();
                foreach (string sub in subs)
                {
                    var list = await _arm.ListAsync($"/subscriptions/{sub}/providers/{RegistryResolver.RegistryType}", ct).ConfigureAwait(false);
                    registries.AddRange(list.Select(ToRegistry).Where(r => r != null && scope.Contains(r.RegistryId)).Select(r => r!));
                }
            }
            if (registries.Count == 0) return Array.Empty<PullAccessEntry>();

            Progress("Reading role assignments (ARM)", 20);
            var perRegistry = new List<(RegistryInfo, IReadOnlyList<JsonObject>)>();
            foreach (RegistryInfo r in registries)
            {
                // atScope() = at the registry and above, management groups included only when they are ancestors.
                string filter = Uri.EscapeDataString("atScope()");
                var list = await _arm.ListAsync($"{r.RegistryId}/providers/Microsoft.Authorization/roleAssignments?$filter={filter}", ct).ConfigureAwait(false);
                var mine = list.Where(a => PullRoles.CoversRegistry(Json.Str(a, "properties", "scope"), r))
                    .Where(a => string.IsNullOrWhiteSpace(request.PrincipalId) || string.Equals(Json.Str(a, "properties", "principalId"), request.PrincipalId!.Trim(), StringComparison.OrdinalIgnoreCase))
                    .ToList();
                perRegistry.Add((r, mine));
            }

            Progress("Reading role definitions (ARM)", 40);
            var definitions = new Dictionary<string, JsonObject>(StringComparer.OrdinalIgnoreCase);
            foreach (string sub in registries.Select(r => r.Id.SubscriptionId!).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                foreach (JsonObject d in await _arm.ListAsync($"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions", ct).ConfigureAwait(false))
                {
                    string? name = Json.Str(d, "name");
                    if (name != null && !definitions.ContainsKey(name)) definitions[name] = d;
                }
            }

            var candidates = Evaluate(perRegistry, definitions);
            PrincipalIndex index = new PrincipalIndex();
            if (candidates.Any(c => c.Grant.IsServicePrincipal))
            {
                Progress("Resolving principals to resources (ARM)", 60);
                var rows = new List<JsonObject>();
                foreach (string sub in await VisibleSubscriptionsAsync(ct).ConfigureAwait(false))
                {
                    // Three lists per subscription: every resource with its identity block, the identities (their
                    // principal IDs), and AKS clusters (kubelet identities).
                    rows.AddRange(await _arm.ListAsync($"/subscriptions/{sub}/resources", ct, ApiVersions.Resources).ConfigureAwait(false));
                    rows.AddRange(await _arm.ListAsync($"/subscriptions/{sub}/providers/{IdentityResolver.IdentityType}", ct).ConfigureAwait(false));
                    rows.AddRange(await _arm.ListAsync($"/subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters", ct).ConfigureAwait(false));
                }
                // The generic list repeats identities and clusters without properties: keep the typed rows.
                var typed = rows.Where(r => Json.Obj(r, "properties") != null).Select(r => Json.Str(r, "id")).ToList();
                var typedSet = new HashSet<string>(typed.Where(t => t != null).Select(t => t!), StringComparer.OrdinalIgnoreCase);
                index = PrincipalIndex.Build(rows.Where(r => Json.Obj(r, "properties") != null || !typedSet.Contains(Json.Str(r, "id") ?? string.Empty)));
            }
            return await FinishAsync(candidates, index, ct).ConfigureAwait(false);
        }

        private async Task<IReadOnlyList<string>> VisibleSubscriptionsAsync(CancellationToken ct)
        {
            var subs = await _arm.ListAsync("/subscriptions", ct).ConfigureAwait(false);
            return subs.Select(s => Json.Str(s, "subscriptionId")).Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).ToList();
        }

        // ---------------- shared ----------------

        private sealed class Candidate
        {
            internal Candidate(RegistryInfo registry, Grant grant, bool overPrivileged)
            {
                Registry = registry;
                Grant = grant;
                OverPrivileged = overPrivileged;
            }

            internal RegistryInfo Registry { get; }
            internal Grant Grant { get; }
            internal bool OverPrivileged { get; }
        }

        private static List<Candidate> Evaluate(IEnumerable<(RegistryInfo Registry, IReadOnlyList<JsonObject> Assignments)> perRegistry, IReadOnlyDictionary<string, JsonObject> definitions)
        {
            var result = new List<Candidate>();
            var verdicts = new Dictionary<string, RoleJudge.Verdict>(StringComparer.OrdinalIgnoreCase);
            foreach (var (registry, assignments) in perRegistry)
            {
                foreach (JsonObject a in assignments)
                {
                    string guid = PullRoles.RoleGuidOf(a);
                    if (!verdicts.TryGetValue(guid, out RoleJudge.Verdict? v))
                    {
                        definitions.TryGetValue(guid, out JsonObject? def);
                        v = verdicts[guid] = RoleJudge.Judge(guid, def);
                    }
                    Grant g = RoleJudge.ToGrant(a, v);
                    // Roles that pull in either mode are listed: on an ABAC registry the legacy ones show as not honoured.
                    if (g.GrantsPullSomehow) result.Add(new Candidate(registry, g, v.Over));
                }
            }
            return result;
        }

        /// <summary>
        /// Entra ID's answer for the principals that no visible managed identity has, or null (after one warning) when it
        /// cannot be asked; then the orphan flag falls back to the guess. Never fails the audit.
        /// </summary>
        private async Task<IReadOnlyList<PullAccessEntry>> FinishAsync(List<Candidate> candidates, PrincipalIndex index, CancellationToken ct)
        {
            var unresolved = candidates.Where(c => c.Grant.IsDirectoryPrincipal && index.Find(c.Grant.PrincipalId) == null).ToList();
            var directory = new DirectoryAnswer();
            if (unresolved.Count > 0)
            {
                Progress("Looking principals up in Entra ID", 80);
                try
                {
                    foreach (string sub in unresolved.Select(c => SubscriptionOf(c.Registry)).Distinct(StringComparer.OrdinalIgnoreCase))
                    {
                        if (await _directory.HoldsPrincipalsOfAsync(sub, ct).ConfigureAwait(false)) directory.Subscriptions.Add(sub);
                    }
                    var ids = unresolved.Where(c => directory.Subscriptions.Contains(SubscriptionOf(c.Registry)))
                        .Select(c => c.Grant.PrincipalId).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                    directory.Found = await _directory.LookUpAsync(ids, ct).ConfigureAwait(false);
                }
                catch (DirectoryUnavailableException ex)
                {
                    _directoryChecked = false;
                    directory = new DirectoryAnswer();
                    _host.WriteWarning($"Entra ID could not be asked which principals exist ({ex.Message}), so IsOrphaned is a guess: " +
                        "a service principal that no managed identity you can see has is flagged, which also flags app registrations and identities in subscriptions you cannot see." +
                        (ex.Denied ? " Reading the directory (Directory.Read.All for an application or managed identity) makes it exact." : string.Empty));
                }
            }
            Progress("Done", 100, completed: true);
            return ToEntries(candidates, index, directory);
        }

        /// <summary>What Entra ID said: the principals found, for registries in the subscriptions whose principals it holds.</summary>
        private sealed class DirectoryAnswer
        {
            internal HashSet<string> Subscriptions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            internal IReadOnlyDictionary<string, DirectoryEntry>? Found { get; set; }
        }

        private static string SubscriptionOf(RegistryInfo registry) => registry.Id.SubscriptionId ?? string.Empty;

        private static IReadOnlyList<PullAccessEntry> ToEntries(IEnumerable<Candidate> candidates, PrincipalIndex index, DirectoryAnswer directory)
        {
            var entries = new List<PullAccessEntry>();
            foreach (Candidate c in candidates)
            {
                Grant g = c.Grant;
                string level = RoleJudge.ScopeLevel(g.Scope, c.Registry.RegistryId);
                PrincipalOwner? owner = index.Find(g.PrincipalId);
                var notes = new List<string>();
                bool grantsPull = RoleJudge.GrantsPull(g, c.Registry.AbacMode);
                if (!grantsPull)
                {
                    notes.Add(c.Registry.AbacMode
                        ? $"{g.RoleName} grants no pulls while {c.Registry.Name} is in ABAC mode; only the repository roles do"
                        : $"{g.RoleName} with a condition grants nothing while {c.Registry.Name} is in legacy mode");
                }
                else if (g.Condition != null)
                {
                    notes.Add($"limited to {PermissionEvaluator.ConditionTargets(g.Condition)}");
                }
                DirectoryEntry? known = null;
                bool orphaned;
                if (owner != null || !g.IsDirectoryPrincipal)
                {
                    orphaned = false;
                }
                else if (directory.Found != null && directory.Subscriptions.Contains(SubscriptionOf(c.Registry)))
                {
                    orphaned = !directory.Found.TryGetValue(g.PrincipalId, out known);
                    if (orphaned) notes.Add("the principal no longer exists in Entra ID (deleted)");
                    else if (known!.Kind == "ManagedIdentity") notes.Add("a managed identity in a subscription you cannot see");
                }
                else if (directory.Found != null)
                {
                    // Azure Lighthouse: the registry's tenant is not the caller's; its directory cannot be asked from here.
                    orphaned = false;
                    notes.Add("the registry's subscription belongs to another tenant, whose directory holds this principal: not checked");
                }
                else
                {
                    orphaned = g.IsServicePrincipal;
                    if (orphaned) notes.Add("no managed identity you can see has this principal: deleted (or an app registration's service principal; Entra ID could not be asked)");
                }
                bool over = c.OverPrivileged;
                if (over) notes.Add($"{g.RoleName} allows more than pulling");
                entries.Add(new PullAccessEntry
                {
                    Registry = c.Registry.Name,
                    RegistryId = c.Registry.RegistryId,
                    RegistryAbacMode = c.Registry.AbacMode,
                    PrincipalId = g.PrincipalId,
                    PrincipalType = string.IsNullOrEmpty(g.PrincipalType) ? "ServicePrincipal" : g.PrincipalType,
                    PrincipalName = owner != null ? EntraName(owner.IdentityResourceId) : known?.DisplayName,
                    PrincipalKind = owner != null ? "ManagedIdentity" : known?.Kind,
                    IdentityType = owner?.Type ?? known?.IdentityType,
                    IdentityResourceId = owner?.IdentityResourceId ?? known?.ManagedIdentityResourceId,
                    Resources = owner?.Resources.ToList() ?? new List<string>(),
                    Role = g.RoleName,
                    RoleDefinitionId = Json.Str(g.Assignment, "properties", "roleDefinitionId") ?? string.Empty,
                    RoleType = g.RoleType,
                    Scope = g.Scope,
                    ScopeLevel = level,
                    InheritedFrom = level == "Registry" ? null : g.Scope,
                    Condition = g.Condition,
                    GrantsPull = grantsPull,
                    IsOrphaned = orphaned,
                    IsOverPrivileged = over,
                    AssignmentId = g.Id,
                    Note = notes.Count == 0 ? null : string.Join("; ", notes),
                });
            }
            return entries
                .OrderBy(e => e.Registry, StringComparer.OrdinalIgnoreCase)
                .ThenBy(e => e.ScopeLevel == "Registry" ? 0 : 1)
                .ThenBy(e => e.PrincipalId, StringComparer.OrdinalIgnoreCase)
                .ThenBy(e => e.Role, StringComparer.OrdinalIgnoreCase)
                .ToList();
        }

        // A managed identity's display name in Entra ID is its identity's (or resource's) name; a slot's is "<app>/slots/<slot>".
        private static string EntraName(string id)
        {
            string[] s = id.TrimEnd('/').Split('/');
            return s.Length >= 3 && string.Equals(s[s.Length - 2], "slots", StringComparison.OrdinalIgnoreCase)
                ? s[s.Length - 3] + "/slots/" + s[s.Length - 1]
                : s[s.Length - 1];
        }

        private static bool IsMg(string? scope) => scope != null && scope.StartsWith(MgPrefix, StringComparison.OrdinalIgnoreCase);

        private static RegistryInfo? ToRegistry(JsonObject row)
        {
            string? id = Json.Str(row, "id");
            if (id == null) return null;
            bool abac = string.Equals(Json.Str(row, "properties", "roleAssignmentMode"), "AbacRepositoryPermissions", StringComparison.OrdinalIgnoreCase);
            return new RegistryInfo(new ResourceIdentifier(id), (Json.Str(row, "properties", "loginServer") ?? string.Empty).ToLowerInvariant(), abac, Json.Str(row, "location"));
        }

        private void Progress(string status, int percent, bool completed = false) =>
            _host.WriteProgress(new EngineProgress(_progressId, "Auditing registry pull access", status, percent, completed));
    }
}
