using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Configure
{
    /// <summary>The role that grants pull on a registry, with the condition that limits it to a repository.</summary>
    public sealed class PullRole
    {
        internal PullRole(string name, string definitionGuid, string? repository, string? condition)
        {
            Name = name;
            DefinitionGuid = definitionGuid;
            Repository = repository;
            Condition = condition;
        }

        public string Name { get; }
        public string DefinitionGuid { get; }
        public string? Repository { get; }
        public string? Condition { get; }

        internal string DefinitionId(string subscriptionId) =>
            $"/subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/{DefinitionGuid}";
    }

    /// <summary>An assignment that already gives the principal pull on the registry.</summary>
    internal sealed class ExistingGrant
    {
        internal ExistingGrant(string id, string roleName, string scope, bool exact)
        {
            Id = id;
            RoleName = roleName;
            Scope = scope;
            Exact = exact;
        }

        internal string Id { get; }
        internal string RoleName { get; }
        internal string Scope { get; }
        /// <summary>The very role (and condition) this command would assign, not a broader one.</summary>
        internal bool Exact { get; }
    }

    /// <summary>
    /// Role choice: AcrPull on a registry in legacy mode; Container Registry Repository Reader (optionally limited
    /// to a repository by an ABAC condition) in AbacRepositoryPermissions mode, where AcrPull, AcrPush, Owner and
    /// Contributor no longer grant pulls (pain point 10).
    /// </summary>
    internal static class PullRoles
    {
        internal const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
        internal const string AcrPush = "8311e382-0749-4cb8-b61a-304f252e45ec";
        internal const string Owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
        internal const string Contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c";
        internal const string DataImporterAndReader = "577a9874-89fd-4f24-9dbd-b5034d0ad23a";
        internal const string RepositoryReader = "b93aa761-3e63-49ed-ac28-beffa264f7ac";
        internal const string RepositoryWriter = "2a1e307c-b015-4ebd-883e-5b7698a07328";
        internal const string RepositoryContributor = "2efddaa5-3f1f-4df3-97df-af3f13818f4c";

        private static readonly Dictionary<string, string> Names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            [AcrPull] = "AcrPull",
            [AcrPush] = "AcrPush",
            [Owner] = "Owner",
            [Contributor] = "Contributor",
            [DataImporterAndReader] = "Container Registry Data Importer and Data Reader",
            [RepositoryReader] = "Container Registry Repository Reader",
            [RepositoryWriter] = "Container Registry Repository Writer",
            [RepositoryContributor] = "Container Registry Repository Contributor",
        };

        // Roles that grant pull in each mode, besides the one this command assigns (issue 4: reported, not duplicated).
        private static readonly string[] LegacyBroader = { AcrPush, Owner, Contributor, DataImporterAndReader };
        private static readonly string[] AbacBroader = { RepositoryWriter, RepositoryContributor, DataImporterAndReader };

        private static readonly Regex RepositoryPattern = new Regex(
            "^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*/?$", RegexOptions.CultureInvariant);

        internal static string NameOf(string definitionGuid) => Names.TryGetValue(definitionGuid, out string? n) ? n : definitionGuid;

        internal static PullRole Choose(RegistryInfo registry, string? repository)
        {
            if (!registry.AbacMode)
            {
                if (!string.IsNullOrWhiteSpace(repository))
                {
                    throw new EngineException("RepositoryNeedsAbacMode", EngineErrorCategory.InvalidArgument,
                        $"-Repository limits access to one repository, but the registry '{registry.Name}' is in legacy mode, where roles apply to every repository.",
                        "Leave out -Repository, or switch the registry to ABAC mode first (az acr update --role-assignment-mode rbac-abac).", registry.Id.ToString());
                }
                return new PullRole("AcrPull", AcrPull, null, null);
            }
            if (string.IsNullOrWhiteSpace(repository))
            {
                return new PullRole(NameOf(RepositoryReader), RepositoryReader, null, null);
            }
            string repo = repository!.Trim();
            if (repo.EndsWith("*", StringComparison.Ordinal)) repo = repo.TrimEnd('*');
            if (!RepositoryPattern.IsMatch(repo))
            {
                throw new EngineException("InvalidRepositoryName", EngineErrorCategory.InvalidArgument,
                    $"'{repository}' is not a repository name (lowercase path components separated by '/'; end with '/' for a prefix).",
                    "Pass a repository such as 'team/app', or a prefix such as 'team/'.", repository);
            }
            return new PullRole(NameOf(RepositoryReader), RepositoryReader, repo, Condition(repo));
        }

        /// <summary>The ABAC condition (version 2.0) that limits the repository roles to one repository or a prefix.</summary>
        internal static string Condition(string repository)
        {
            string op = repository.EndsWith("/", StringComparison.Ordinal) ? "StringStartsWithIgnoreCase" : "StringEqualsIgnoreCase";
            return "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR " +
                   $"(@Request[Microsoft.ContainerRegistry/registries/repositories:name] {op} '{repository}'))";
        }

        internal static string RoleGuidOf(JsonObject assignment)
        {
            string def = Json.Str(assignment, "properties", "roleDefinitionId") ?? string.Empty;
            int i = def.TrimEnd('/').LastIndexOf('/');
            return i >= 0 ? def.Substring(i + 1) : def;
        }

        /// <summary>True when the scope is the registry or one of its parents (resource group, subscription, management group, root).</summary>
        internal static bool CoversRegistry(string? scope, RegistryInfo registry)
        {
            if (string.IsNullOrEmpty(scope)) return false;
            string s = scope!.TrimEnd('/');
            if (s.Length == 0) return true;
            if (s.StartsWith("/providers/Microsoft.Management/managementGroups/", StringComparison.OrdinalIgnoreCase)) return true;
            string reg = registry.Id.ToString();
            return string.Equals(s, reg, StringComparison.OrdinalIgnoreCase) || reg.StartsWith(s + "/", StringComparison.OrdinalIgnoreCase);
        }

        private static string Normalize(string? condition) =>
            Regex.Replace(condition ?? string.Empty, "\\s+", string.Empty).ToLowerInvariant();

        /// <summary>The best existing grant of pull for this principal, exact first; null when there is none.</summary>
        internal static ExistingGrant? FindExisting(IEnumerable<JsonObject> assignments, string principalId, RegistryInfo registry, PullRole want)
        {
            var relevant = assignments
                .Where(a => string.Equals(Json.Str(a, "properties", "principalId"), principalId, StringComparison.OrdinalIgnoreCase))
                .Where(a => CoversRegistry(Json.Str(a, "properties", "scope"), registry))
                .ToList();
            ExistingGrant? broader = null;
            foreach (JsonObject a in relevant)
            {
                string role = RoleGuidOf(a);
                string? condition = Json.Str(a, "properties", "condition");
                bool unconditioned = string.IsNullOrWhiteSpace(condition);
                bool sameCondition = Normalize(condition) == Normalize(want.Condition);
                var grant = new Func<bool, ExistingGrant>(exact => new ExistingGrant(Json.Str(a, "id") ?? string.Empty, NameOf(role), Json.Str(a, "properties", "scope") ?? string.Empty, exact));
                if (string.Equals(role, want.DefinitionGuid, StringComparison.OrdinalIgnoreCase))
                {
                    if (sameCondition) return grant(true);
                    // Registry-wide Repository Reader already covers any one repository.
                    if (unconditioned) broader ??= grant(false);
                    continue;
                }
                string[] wider = registry.AbacMode ? AbacBroader : LegacyBroader;
                if (wider.Contains(role, StringComparer.OrdinalIgnoreCase) && (unconditioned || sameCondition))
                {
                    broader ??= grant(false);
                }
            }
            return broader;
        }

        /// <summary>Legacy roles this principal holds that an ABAC-mode registry ignores (worth a warning).</summary>
        internal static IEnumerable<string> IgnoredInAbacMode(IEnumerable<JsonObject> assignments, string principalId, RegistryInfo registry)
        {
            if (!registry.AbacMode) return Enumerable.Empty<string>();
            return assignments
                .Where(a => string.Equals(Json.Str(a, "properties", "principalId"), principalId, StringComparison.OrdinalIgnoreCase))
                .Where(a => CoversRegistry(Json.Str(a, "properties", "scope"), registry))
                .Select(RoleGuidOf)
                .Where(r => LegacyBroader.Contains(r, StringComparer.OrdinalIgnoreCase) || string.Equals(r, AcrPull, StringComparison.OrdinalIgnoreCase))
                .Where(r => !string.Equals(r, DataImporterAndReader, StringComparison.OrdinalIgnoreCase))
                .Select(NameOf)
                .Distinct()
                .ToList();
        }
    }
}
