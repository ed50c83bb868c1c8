using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.World;

public sealed class Subscription
{
    public required string SubscriptionId { get; init; }
    public required string DisplayName { get; init; }
    public required string TenantId { get; init; }
    public string State { get; init; } = "Enabled";
    public string ManagementGroupId { get; set; } = "";
    public string Id => "/subscriptions/" + SubscriptionId;
}

public sealed class ResourceGroup
{
    public required string SubscriptionId { get; init; }
    public required string Name { get; init; }
    public required string Location { get; set; }
    public JsonObject Tags { get; set; } = new();
    public string? ManagedBy { get; set; }
    public string Id => $"/subscriptions/{SubscriptionId}/resourceGroups/{Name}";
}

public sealed class ManagementGroup
{
    public required string Name { get; init; }
    public string? DisplayName { get; init; }
    public string? Parent { get; init; }
    public string Id => "/providers/Microsoft.Management/managementGroups/" + Name;
}

/// <summary>A stored resource. <see cref="Body"/> is what ARM returns (minus computed parts).</summary>
public sealed class ResourceEntry
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public required string Name { get; init; }
    public required string SubscriptionId { get; init; }
    public required string ResourceGroup { get; init; }
    public required JsonObject Body { get; set; }
    /// <summary>Web apps and slots: the config/web properties.</summary>
    public JsonObject? SiteConfig { get; set; }
    /// <summary>Registries: "repo:tag" images the registry area pushes at start.</summary>
    public List<string> Images { get; } = [];
    /// <summary>Long-running operation in progress until this time, showing <see cref="BusyState"/>.</summary>
    public DateTimeOffset? BusyUntil { get; set; }
    public string? BusyState { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// The sandbox's state: tenant, subscriptions, groups, resources, directory and RBAC. Every method is
/// thread-safe (one lock; reads return copies). Change it through these methods or ARM.
/// </summary>
public sealed partial class World
{
    internal readonly object Gate = new();
    readonly List<Subscription> _subs = [];
    readonly Dictionary<string, ManagementGroup> _mgs = new(StringComparer.OrdinalIgnoreCase);
    readonly Dictionary<string, ResourceGroup> _groups = new(StringComparer.OrdinalIgnoreCase);
    internal readonly Dictionary<string, ResourceEntry> Resources = new(StringComparer.OrdinalIgnoreCase);
    readonly Dictionary<string, Principal> _principals = new(StringComparer.OrdinalIgnoreCase);
    readonly Dictionary<string, Principal> _byAppId = new(StringComparer.OrdinalIgnoreCase);
    readonly Dictionary<string, RoleDefinition> _roleDefs = new(StringComparer.OrdinalIgnoreCase);
    readonly Dictionary<string, RoleAssignment> _assignments = new(StringComparer.OrdinalIgnoreCase);
    Principal? _operator;

    public World()
    {
        TenantId = Guid.NewGuid().ToString();
        foreach (var r in Rbac.BuiltIns(new DateTimeOffset(2018, 8, 1, 0, 0, 0, TimeSpan.Zero))) _roleDefs[r.Name] = r;
    }

    /// <summary>The sandbox clock (tests may replace it to step through delays).</summary>
    public Func<DateTimeOffset> Clock { get; set; } = () => DateTimeOffset.UtcNow;
    public DateTimeOffset Now => Clock();

    public string TenantId { get; private set; }
    public string TenantDisplayName { get; private set; } = "Sandbox Tenant";
    public string DefaultDomain { get; private set; } = "sandbox.onmicrosoft.com";
    public string DefaultLocation { get; set; } = "westus";

    /// <summary>Raised (outside the lock) after any change.</summary>
    public event Action? Changed;
    internal void RaiseChanged() => Changed?.Invoke();

    public void SetTenant(string tenantId, string? displayName = null, string? defaultDomain = null)
    {
        lock (Gate)
        {
            if (_subs.Count > 0) throw new InvalidOperationException("Set the tenant before adding subscriptions.");
            TenantId = tenantId;
            if (displayName is not null) TenantDisplayName = displayName;
            if (defaultDomain is not null) DefaultDomain = defaultDomain;
        }
    }

    // ---- subscriptions, management groups, resource groups ----

    public IReadOnlyList<Subscription> Subscriptions { get { lock (Gate) return _subs.ToList(); } }

    /// <param name="tenantId">Another tenant's ID for a subscription delegated to this one (Azure Lighthouse): ARM names that
    /// tenant, and principals assigned there belong to its directory, which this sandbox's Graph does not answer for.</param>
    public Subscription AddSubscription(string? subscriptionId = null, string displayName = "Sandbox Subscription", string? managementGroup = null,
        string? tenantId = null)
    {
        lock (Gate)
        {
            var s = new Subscription
            {
                SubscriptionId = subscriptionId ?? Guid.NewGuid().ToString(), DisplayName = displayName, TenantId = tenantId ?? TenantId,
                ManagementGroupId = managementGroup ?? TenantId,
            };
            if (_subs.Any(x => x.SubscriptionId.Equals(s.SubscriptionId, StringComparison.OrdinalIgnoreCase)))
                throw new InvalidOperationException($"Subscription {s.SubscriptionId} exists.");
            _subs.Add(s);
            if (_operator is not null) GrantOperator(s);
            return s;
        }
    }

    public Subscription? FindSubscription(string subscriptionId)
    {
        lock (Gate) return _subs.FirstOrDefault(s => s.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase));
    }

    public ManagementGroup AddManagementGroup(string name, string? displayName = null, string? parent = null)
    {
        lock (Gate)
        {
            var mg = new ManagementGroup { Name = name, DisplayName = displayName ?? name, Parent = parent ?? TenantId };
            _mgs[name] = mg;
            return mg;
        }
    }

    /// <summary>The management groups above a subscription, nearest first; the tenant root group last.</summary>
    public IReadOnlyList<string> ManagementGroupChain(string subscriptionId)
    {
        lock (Gate)
        {
            var chain = new List<string>();
            var sub = _subs.FirstOrDefault(s => s.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase));
            string? mg = sub?.ManagementGroupId ?? TenantId;
            while (mg is not null && !chain.Contains(mg, StringComparer.OrdinalIgnoreCase) && chain.Count < 10)
            {
                chain.Add(mg);
                mg = _mgs.TryGetValue(mg, out var m) ? m.Parent : null;
                if (mg is null && !chain.Contains(TenantId, StringComparer.OrdinalIgnoreCase)) mg = TenantId;
            }
            return chain;
        }
    }

    public ResourceGroup AddResourceGroup(string subscriptionId, string name, string? location = null, JsonObject? tags = null, string? managedBy = null)
    {
        lock (Gate)
        {
            var sub = FindSubscription(subscriptionId) ?? throw new InvalidOperationException($"No subscription {subscriptionId}.");
            var key = $"/subscriptions/{sub.SubscriptionId}/resourceGroups/{name}";
            if (_groups.TryGetValue(key, out var existing))
            {
                if (tags is not null) existing.Tags = tags;
                return existing;
            }
            var rg = new ResourceGroup
            {
                SubscriptionId = sub.SubscriptionId, Name = name, Location = location ?? DefaultLocation,
                Tags = tags ?? new JsonObject(), ManagedBy = managedBy,
            };
            _groups[key] = rg;
            return rg;
        }
    }

    public ResourceGroup? FindResourceGroup(string subscriptionId, string name)
    {
        lock (Gate) return _groups.GetValueOrDefault($"/subscriptions/{subscriptionId}/resourceGroups/{name}");
    }

    public IReadOnlyList<ResourceGroup> ResourceGroups(string subscriptionId)
    {
        lock (Gate) return _groups.Values.Where(g => g.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase)).ToList();
    }

    /// <summary>Deletes the group and every resource in it (as Azure does).</summary>
    public bool DeleteResourceGroup(string subscriptionId, string name)
    {
        bool removed;
        lock (Gate)
        {
            var key = $"/subscriptions/{subscriptionId}/resourceGroups/{name}";
            removed = _groups.Remove(key);
            if (removed)
                foreach (var r in Resources.Values.Where(r => r.SubscriptionId.Equals(subscriptionId, StringComparison.OrdinalIgnoreCase)
                             && r.ResourceGroup.Equals(name, StringComparison.OrdinalIgnoreCase)).ToList())
                    RemoveResourceLocked(r);
        }
        if (removed) RaiseChanged();
        return removed;
    }

    /// <summary>Whether a scope string names something that exists ("/", MG, subscription, RG, resource).</summary>
    public bool ScopeExists(string scope)
    {
        scope = ResourceIds.Normalize(scope);
        if (scope == "/") return true;
        var mg = ResourceIds.ManagementGroupOf(scope);
        if (mg is not null) lock (Gate) return mg.Equals(TenantId, StringComparison.OrdinalIgnoreCase) || _mgs.ContainsKey(mg);
        var sub = ResourceIds.SubscriptionOf(scope);
        if (sub is null || FindSubscription(sub) is null) return false;
        var seg = scope.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (seg.Length == 2) return true;
        var rg = ResourceIds.ResourceGroupOf(scope);
        if (rg is null || FindResourceGroup(sub, rg) is null) return false;
        if (seg.Length == 4) return true;
        lock (Gate) return Resources.ContainsKey(scope);
    }

    // ---- resources (raw storage; ARM semantics are in ResourceOps) ----

    public JsonObject? GetResource(string id)
    {
        lock (Gate) return Resources.TryGetValue(ResourceIds.Normalize(id), out var e) ? ResourceOps.Render(this, e) : null;
    }

    public bool ResourceExists(string id)
    {
        lock (Gate) return Resources.ContainsKey(ResourceIds.Normalize(id));
    }

    internal ResourceEntry? Entry(string id) => Resources.GetValueOrDefault(ResourceIds.Normalize(id));

    /// <summary>Every resource, rendered as ARM returns it (optionally only of one type).</summary>
    public IReadOnlyList<JsonObject> ListResources(string? type = null)
    {
        lock (Gate)
            return Resources.Values.Where(e => type is null || e.Type.Equals(type, StringComparison.OrdinalIgnoreCase))
                .Select(e => ResourceOps.Render(this, e)).ToList();
    }

    internal List<ResourceEntry> EntriesSnapshot() { lock (Gate) return Resources.Values.ToList(); }

    /// <summary>One stored resource as ARM returns it now.</summary>
    internal System.Text.Json.Nodes.JsonObject Render(ResourceEntry e) { lock (Gate) return ResourceOps.Render(this, e); }

    internal void RemoveResourceLocked(ResourceEntry e)
    {
        Resources.Remove(e.Id);
        ForgetPowerLocked(e.Id);
        // Children (slots) go with their parent.
        foreach (var child in Resources.Values.Where(c => c.Id.StartsWith(e.Id + "/", StringComparison.OrdinalIgnoreCase)).ToList())
            RemoveResourceLocked(child);
        // The system identity dies with the resource; a user-assigned identity with its identity resource.
        var pid = e.Body["identity"]?["principalId"]?.GetValue<string>();
        if (pid is not null && _principals.TryGetValue(pid, out var sp) && sp.IsManagedIdentity && !sp.IsUserAssigned) sp.DeletedAt = Now;
        if (e.Type.Equals(ResourceTypes.UserAssignedIdentity, StringComparison.OrdinalIgnoreCase))
        {
            var upid = e.Body["properties"]?["principalId"]?.GetValue<string>();
            if (upid is not null && _principals.TryGetValue(upid, out var up)) up.DeletedAt = Now;
        }
    }

    /// <summary>Shows the resource as busy (provisioningState = <paramref name="state"/>) until
    /// <see cref="EndBusy"/>; for operations whose end is an event, not a time.</summary>
    internal void BeginBusy(string id, string state)
    {
        lock (Gate) if (Entry(id) is { } e) { e.BusyUntil = DateTimeOffset.MaxValue; e.BusyState = state; }
    }

    internal void EndBusy(string id, bool failed)
    {
        lock (Gate)
            if (Entry(id) is { } e)
            {
                e.BusyUntil = null;
                if (e.Body["properties"] is JsonObject p) p["provisioningState"] = failed ? "Failed" : "Succeeded";
            }
        RaiseChanged();
    }

    public bool DeleteResource(string id)
    {
        bool removed;
        lock (Gate)
        {
            var e = Entry(id);
            removed = e is not null;
            if (e is not null) RemoveResourceLocked(e);
        }
        if (removed) RaiseChanged();
        return removed;
    }
}
