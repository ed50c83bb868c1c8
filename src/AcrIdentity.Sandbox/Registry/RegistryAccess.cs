using System.Net;
using System.Text.RegularExpressions;
using AcrIdentity.Sandbox.Auth;

namespace AcrIdentity.Sandbox.Registry;

/// <summary>One requested or granted scope: type:name:actions.</summary>
public sealed record ScopeRequest(string Type, string Name, IReadOnlyList<string> Actions)
{
    /// <summary>Parses every scope in repeated and/or space-separated parameters; malformed ones are skipped.</summary>
    public static List<ScopeRequest> ParseAll(IEnumerable<string> scopeParams)
    {
        var list = new List<ScopeRequest>();
        foreach (var p in scopeParams)
        {
            foreach (var s in p.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                // Names may contain ':' only in a registry host prefix; split type first, actions last.
                var first = s.IndexOf(':');
                var last = s.LastIndexOf(':');
                if (first <= 0 || last == first) continue;
                var actions = s[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                list.Add(new ScopeRequest(s[..first], s[(first + 1)..last], actions));
            }
        }
        return list;
    }
}

/// <summary>
/// Decides what a caller may do in a registry from its role assignments at the registry's scope, read at
/// the time of the request. Legacy mode honours role actions (AcrPull, AcrPush, AcrDelete, Owner,
/// Contributor, Reader, custom roles) and unconditioned repository dataActions (Data Importer); ABAC mode
/// honours only repository dataActions, each with its repository-name condition.
/// </summary>
public sealed class RegistryAccess
{
    const string Prefix = "Microsoft.ContainerRegistry/registries/";
    readonly IIdentityWorld _world;

    public RegistryAccess(IIdentityWorld world) => _world = world;

    /// <summary>The intersection of what is asked and what the caller's roles allow.</summary>
    public List<ScopeRequest> Grant(string principalObjectId, RegistryView registry, IEnumerable<ScopeRequest> asked)
    {
        var assignments = _world.AssignmentsAt(principalObjectId, registry.Id);
        var granted = new List<ScopeRequest>();
        foreach (var scope in asked)
        {
            var allowed = new List<string>();
            if (scope.Type.Equals("registry", StringComparison.OrdinalIgnoreCase) && scope.Name == "catalog")
            {
                if (Allows(assignments, registry.AbacMode, "catalog", repository: null)) allowed.Add("*");
            }
            else if (scope.Type.Equals("repository", StringComparison.OrdinalIgnoreCase)
                     || scope.Type.Equals("artifact-repository", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var action in scope.Actions)
                {
                    var ok = action == "*"
                        ? Allows(assignments, registry.AbacMode, "pull", scope.Name) && Allows(assignments, registry.AbacMode, "push", scope.Name)
                          && Allows(assignments, registry.AbacMode, "delete", scope.Name)
                        : Allows(assignments, registry.AbacMode, action, scope.Name);
                    if (ok && !allowed.Contains(action)) allowed.Add(action);
                }
            }
            if (allowed.Count > 0) granted.Add(scope with { Actions = allowed });
        }
        return granted;
    }

    /// <summary>Whether one registry token action is allowed (on a repository, or on the catalog when null).</summary>
    static bool Allows(IReadOnlyList<EffectiveAssignment> assignments, bool abac, string registryAction, string? repository)
    {
        var (action, dataActions) = Map(registryAction);
        foreach (var a in assignments)
        {
            var conditionOk = a.Condition is null || (repository is not null && ConditionAllows(a.Condition, repository));
            foreach (var p in a.Permissions)
            {
                if (!abac && action is not null && Matches(p.Actions, p.NotActions, action)) return true;
                // Registry-wide repository roles: conditions narrow them to repositories (never the catalog).
                if (conditionOk && (abac || a.Condition is null) &&
                    dataActions.Any(d => Matches(p.DataActions, p.NotDataActions, d)))
                    return true;
            }
        }
        return false;
    }

    /// <summary>A registry token action → the ARM action (legacy) and the dataActions (repository roles) that allow it.</summary>
    static (string? Action, string[] DataActions) Map(string registryAction) => registryAction switch
    {
        "pull" => (Prefix + "pull/read", [Prefix + "repositories/content/read"]),
        "metadata_read" => (Prefix + "pull/read", [Prefix + "repositories/metadata/read"]),
        "push" => (Prefix + "push/write", [Prefix + "repositories/content/write"]),
        "metadata_write" => (Prefix + "push/write", [Prefix + "repositories/metadata/write"]),
        "delete" => (Prefix + "artifacts/delete", [Prefix + "repositories/content/delete", Prefix + "repositories/metadata/delete"]),
        "deleted_read" or "deleted_restore" => (Prefix + "artifacts/delete", [Prefix + "repositories/content/delete"]),
        // Legacy registries let anyone who can pull list repositories.
        "catalog" => (Prefix + "pull/read", [Prefix + "catalog/read"]),
        _ => (null, []),
    };

    public static bool Matches(IReadOnlyList<string> allow, IReadOnlyList<string> deny, string action) =>
        allow.Any(p => Glob(p, action)) && !deny.Any(p => Glob(p, action));

    static bool Glob(string pattern, string value) =>
        pattern == "*" || Regex.IsMatch(value, "^" + Regex.Escape(pattern).Replace("\\*", ".*") + "$", RegexOptions.IgnoreCase);

    static readonly Regex NameClause = new(
        @"@Request\[\s*Microsoft\.ContainerRegistry/registries/repositories:name\s*\]\s+(?<op>StringEqualsIgnoreCase|StringStartsWithIgnoreCase|StringEquals|StringStartsWith|StringLikeIgnoreCase|StringLike)\s+'(?<v>[^']*)'",
        RegexOptions.IgnoreCase);

    /// <summary>
    /// Evaluates the repository-name clauses of an ABAC condition (alternatives joined by OR). A condition
    /// with no clause this sandbox understands allows nothing, so an unsupported form fails closed.
    /// </summary>
    public static bool ConditionAllows(string condition, string repository)
    {
        foreach (Match m in NameClause.Matches(condition))
        {
            var v = m.Groups["v"].Value;
            var ok = m.Groups["op"].Value.ToLowerInvariant() switch
            {
                "stringequalsignorecase" => repository.Equals(v, StringComparison.OrdinalIgnoreCase),
                "stringequals" => repository.Equals(v, StringComparison.Ordinal),
                "stringstartswithignorecase" => repository.StartsWith(v, StringComparison.OrdinalIgnoreCase),
                "stringstartswith" => repository.StartsWith(v, StringComparison.Ordinal),
                "stringlikeignorecase" => Glob(v, repository),
                _ => Regex.IsMatch(repository, "^" + Regex.Escape(v).Replace("\\*", ".*") + "$"),
            };
            if (ok) return true;
        }
        return false;
    }

    /// <summary>
    /// Network rules. Every sandbox caller comes from 127.0.0.1, which counts as the public internet: with
    /// public access disabled only trusted Azure services (system identity of a trusted resource type, with
    /// the AzureServices bypass) get through; with defaultAction Deny, an ipRule covering 127.0.0.1 admits.
    /// </summary>
    public static bool NetworkAllows(RegistryView r, IPAddress? client, string? runsOnResourceId, string? miResourceId)
    {
        if (r.TrustedServicesBypass && runsOnResourceId is not null && miResourceId is not null
            && string.Equals(runsOnResourceId, miResourceId, StringComparison.OrdinalIgnoreCase)
            && IsTrustedServiceType(runsOnResourceId))
            return true;
        if (!r.PublicNetworkAccess) return false;
        if (!r.DefaultAction.Equals("Deny", StringComparison.OrdinalIgnoreCase)) return true;
        client ??= IPAddress.Loopback;
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        return r.AllowedIpRanges.Any(range => InRange(range, client));
    }

    /// <summary>ACR's trusted services that reach registries with a system identity (App Service and AKS are not).</summary>
    static bool IsTrustedServiceType(string resourceId) =>
        resourceId.Contains("/providers/Microsoft.ContainerInstance/containerGroups/", StringComparison.OrdinalIgnoreCase)
        || resourceId.Contains("/providers/Microsoft.MachineLearningServices/workspaces/", StringComparison.OrdinalIgnoreCase)
        || resourceId.Contains("/providers/Microsoft.ContainerRegistry/registries/", StringComparison.OrdinalIgnoreCase);

    static bool InRange(string range, IPAddress ip)
    {
        var parts = range.Split('/');
        if (!IPAddress.TryParse(parts[0], out var net)) return false;
        var bits = parts.Length > 1 && int.TryParse(parts[1], out var b) ? b : 32;
        var a = net.GetAddressBytes();
        var c = ip.GetAddressBytes();
        if (a.Length != c.Length) return false;
        for (var i = 0; i < a.Length && bits > 0; i++, bits -= 8)
        {
            var mask = bits >= 8 ? 0xFF : (byte)(0xFF << (8 - bits));
            if ((a[i] & mask) != (c[i] & mask)) return false;
        }
        return true;
    }
}
