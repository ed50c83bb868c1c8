namespace AcrIdentity.Sandbox.World;

public sealed partial class World
{
    /// <summary>The identity that is Owner of every subscription (endpoints.json "operator").</summary>
    public Principal Operator { get { lock (Gate) return _operator ?? EnsureOperator(); } }

    /// <summary>A default subscription (if there is none) and the operator. Called by the host after the scenario.</summary>
    public Principal EnsureDefaults()
    {
        lock (Gate)
        {
            if (_subs.Count == 0) AddSubscription();
            return EnsureOperator();
        }
    }

    /// <summary>The operator app, Owner on every subscription (now and added later).</summary>
    public Principal EnsureOperator(string? objectId = null, string? appId = null, string? secret = null)
    {
        lock (Gate)
        {
            if (_operator is null)
            {
                _operator = AddServicePrincipalLocked("sandbox-operator", appId, objectId,
                    secret ?? ("sbx~" + Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_')),
                    DateTimeOffset.UnixEpoch);
                foreach (var s in _subs) GrantOperator(s);
            }
            return _operator;
        }
    }

    void GrantOperator(Subscription s)
    {
        if (_operator is null) return;
        if (_assignments.Values.Any(a => a.PrincipalId == _operator.ObjectId && a.RoleDefinitionName == Rbac.Owner && ResourceIds.Same(a.Scope, s.Id))) return;
        AddRoleAssignmentLocked(s.Id, Rbac.Owner, _operator.ObjectId, "ServicePrincipal", null, DateTimeOffset.UnixEpoch);
    }

    Principal Register(Principal p)
    {
        if (_principals.ContainsKey(p.ObjectId)) throw new InvalidOperationException($"Object {p.ObjectId} exists.");
        _principals[p.ObjectId] = p;
        if (p.AppId is not null) _byAppId[p.AppId] = p;
        return p;
    }

    Principal AddServicePrincipalLocked(string displayName, string? appId, string? objectId, string? secret, DateTimeOffset? createdAt) =>
        Register(new Principal
        {
            ObjectId = objectId ?? Guid.NewGuid().ToString(), AppId = appId ?? Guid.NewGuid().ToString(), DisplayName = displayName,
            PrincipalType = "ServicePrincipal", ServicePrincipalType = "Application", ClientSecret = secret, CreatedAt = createdAt ?? Now,
        });

    /// <summary>An app registration + service principal, e.g. a CI identity with a client secret.</summary>
    public Principal AddServicePrincipal(string displayName, string? appId = null, string? objectId = null, string? secret = null, DateTimeOffset? createdAt = null)
    {
        Principal p;
        lock (Gate) p = AddServicePrincipalLocked(displayName, appId, objectId, secret, createdAt);
        RaiseChanged();
        return p;
    }

    public Principal AddUser(string userPrincipalName, string? objectId = null, DateTimeOffset? createdAt = null)
    {
        Principal p;
        lock (Gate)
            p = Register(new Principal
            {
                ObjectId = objectId ?? Guid.NewGuid().ToString(), DisplayName = userPrincipalName, PrincipalType = "User", CreatedAt = createdAt ?? Now,
            });
        RaiseChanged();
        return p;
    }

    public Principal AddGroup(string displayName, IEnumerable<string>? memberObjectIds = null, string? objectId = null, DateTimeOffset? createdAt = null)
    {
        Principal p;
        lock (Gate)
        {
            p = Register(new Principal
            {
                ObjectId = objectId ?? Guid.NewGuid().ToString(), DisplayName = displayName, PrincipalType = "Group", CreatedAt = createdAt ?? Now,
            });
            foreach (var m in memberObjectIds ?? []) p.MembersSet.Add(m);
        }
        RaiseChanged();
        return p;
    }

    public void AddGroupMember(string groupObjectId, string memberObjectId)
    {
        lock (Gate)
        {
            if (!_principals.TryGetValue(groupObjectId, out var g) || g.PrincipalType != "Group")
                throw new InvalidOperationException($"No group {groupObjectId}.");
            g.MembersSet.Add(memberObjectId);
        }
        RaiseChanged();
    }

    /// <summary>A new managed identity's service principal (fresh object and client IDs).</summary>
    internal Principal CreateManagedIdentityPrincipalLocked(string displayName, string resourceId, bool userAssigned,
        string? objectId = null, string? clientId = null) =>
        Register(new Principal
        {
            ObjectId = objectId ?? Guid.NewGuid().ToString(), AppId = clientId ?? Guid.NewGuid().ToString(), DisplayName = displayName,
            PrincipalType = "ServicePrincipal", ServicePrincipalType = "ManagedIdentity", ManagedIdentityResourceId = resourceId,
            IsUserAssigned = userAssigned, CreatedAt = Now,
        });

    internal Principal? PrincipalLocked(string objectId) => _principals.GetValueOrDefault(objectId);

    /// <summary>A live principal by object ID or by client (app) ID; null when absent or deleted.</summary>
    public Principal? FindPrincipal(string objectOrClientId, bool includeDeleted = false)
    {
        lock (Gate)
        {
            var p = _principals.GetValueOrDefault(objectOrClientId) ?? _byAppId.GetValueOrDefault(objectOrClientId);
            return p is null || (p.IsDeleted && !includeDeleted) ? null : p;
        }
    }

    public IReadOnlyList<Principal> Principals(bool includeDeleted = false)
    {
        lock (Gate) return _principals.Values.Where(p => includeDeleted || !p.IsDeleted).ToList();
    }

    /// <summary>True when the principal exists and replication has reached ARM (created at least
    /// <paramref name="replicationDelay"/> ago).</summary>
    public bool IsReplicated(string objectId, TimeSpan replicationDelay)
    {
        var p = FindPrincipal(objectId);
        return p is not null && p.ObjectId.Equals(objectId, StringComparison.OrdinalIgnoreCase) && Now - p.CreatedAt >= replicationDelay;
    }

    public bool CheckClientSecret(string clientId, string secret)
    {
        var p = FindPrincipal(clientId);
        return p?.ClientSecret is not null && p.AppId is not null && p.AppId.Equals(clientId, StringComparison.OrdinalIgnoreCase)
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(p.ClientSecret), System.Text.Encoding.UTF8.GetBytes(secret));
    }

    /// <summary>The groups the principal belongs to, transitively.</summary>
    public IReadOnlyCollection<string> GroupsOf(string objectId)
    {
        lock (Gate) return GroupsOfLocked(objectId);
    }

    HashSet<string> GroupsOfLocked(string objectId)
    {
        var result = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var frontier = new Queue<string>([objectId]);
        while (frontier.Count > 0)
        {
            var id = frontier.Dequeue();
            foreach (var g in _principals.Values.Where(g => g.PrincipalType == "Group" && !g.IsDeleted && g.MembersSet.Contains(id)))
                if (result.Add(g.ObjectId)) frontier.Enqueue(g.ObjectId);
        }
        return result;
    }
}
