namespace AcrIdentity.Sandbox.World;

public sealed partial class World
{
    public RoleDefinition? FindRoleDefinition(string nameOrGuid)
    {
        var guid = nameOrGuid.Split('/').Last();
        lock (Gate)
            return _roleDefs.GetValueOrDefault(guid)
                ?? _roleDefs.Values.FirstOrDefault(r => r.RoleName.Equals(nameOrGuid, StringComparison.OrdinalIgnoreCase));
    }

    public IReadOnlyList<RoleDefinition> RoleDefinitions() { lock (Gate) return _roleDefs.Values.ToList(); }

    public RoleDefinition PutRoleDefinition(RoleDefinition def)
    {
        lock (Gate) _roleDefs[def.Name] = def;
        RaiseChanged();
        return def;
    }

    public bool DeleteRoleDefinition(string guid)
    {
        bool removed;
        lock (Gate) removed = _roleDefs.TryGetValue(guid, out var d) && d.RoleType == "CustomRole" && _roleDefs.Remove(guid);
        if (removed) RaiseChanged();
        return removed;
    }

    internal RoleAssignment AddRoleAssignmentLocked(string scope, string roleGuid, string principalId, string principalType,
        string? name, DateTimeOffset? at, string? createdBy = null, string? condition = null, string? conditionVersion = null, string? description = null)
    {
        var when = at ?? Now;
        var ra = new RoleAssignment
        {
            Name = name ?? Guid.NewGuid().ToString(), Scope = ResourceIds.Normalize(scope), RoleDefinitionName = roleGuid,
            PrincipalId = principalId, PrincipalType = principalType, CreatedOn = when, UpdatedOn = when, CreatedBy = createdBy, UpdatedBy = createdBy,
            Condition = condition, ConditionVersion = conditionVersion, Description = description,
        };
        _assignments[ra.Name] = ra;
        return ra;
    }

    /// <summary>Adds an assignment directly (scenario and test setup: no replication or permission checks).</summary>
    public RoleAssignment AddRoleAssignment(string scope, string roleNameOrGuid, string principalId, string? principalType = null,
        string? name = null, string? condition = null)
    {
        RoleAssignment ra;
        lock (Gate)
        {
            var def = FindRoleDefinition(roleNameOrGuid) ?? throw new InvalidOperationException($"No role {roleNameOrGuid}.");
            var type = principalType ?? PrincipalLocked(principalId)?.PrincipalType ?? "ServicePrincipal";
            ra = AddRoleAssignmentLocked(scope, def.Name, principalId, type, name, null, condition: condition,
                conditionVersion: condition is null ? null : "2.0");
        }
        RaiseChanged();
        return ra;
    }

    internal Dictionary<string, RoleAssignment> AssignmentsLocked => _assignments;

    public RoleAssignment? FindRoleAssignment(string name) { lock (Gate) return _assignments.GetValueOrDefault(name); }

    public IReadOnlyList<RoleAssignment> RoleAssignments() { lock (Gate) return _assignments.Values.ToList(); }

    public bool DeleteRoleAssignment(string name)
    {
        bool removed;
        lock (Gate) removed = _assignments.Remove(name);
        if (removed) RaiseChanged();
        return removed;
    }

    /// <summary>True when an assignment at <paramref name="assignmentScope"/> applies at <paramref name="scope"/>:
    /// same scope or a parent (resource ← RG ← subscription ← management groups ← root).</summary>
    public bool AppliesAt(string assignmentScope, string scope)
    {
        if (ResourceIds.IsAtOrAbove(assignmentScope, scope)) return true;
        var mg = ResourceIds.ManagementGroupOf(assignmentScope);
        if (mg is null) return false;
        var sub = ResourceIds.SubscriptionOf(scope);
        if (sub is not null) return ManagementGroupChain(sub).Contains(mg, StringComparer.OrdinalIgnoreCase);
        var targetMg = ResourceIds.ManagementGroupOf(scope);
        if (targetMg is null) return false;
        lock (Gate)
        {
            for (string? m = targetMg; m is not null; m = _mgs.TryGetValue(m, out var x) ? x.Parent : null)
                if (m.Equals(mg, StringComparison.OrdinalIgnoreCase)) return true;
                else if (m.Equals(TenantId, StringComparison.OrdinalIgnoreCase)) break;
        }
        return mg.Equals(TenantId, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Role assignments that apply to the principal at <paramref name="scope"/>: direct or through (transitive)
    /// group membership, at the scope or inherited from a parent, each with its role definition.
    /// </summary>
    public IReadOnlyList<EffectiveRoleAssignment> AssignmentsAt(string principalObjectId, string scope) =>
        AssignmentsAt(principalObjectId, scope, includeBelow: false);

    /// <summary>As <see cref="AssignmentsAt(string, string)"/>; with <paramref name="includeBelow"/> also the
    /// assignments at scopes under <paramref name="scope"/> ("/" + includeBelow = all of the principal's).</summary>
    public IReadOnlyList<EffectiveRoleAssignment> AssignmentsAt(string principalObjectId, string scope, bool includeBelow)
    {
        lock (Gate)
        {
            var groups = GroupsOfLocked(principalObjectId);
            var result = new List<EffectiveRoleAssignment>();
            foreach (var a in _assignments.Values)
            {
                bool direct = a.PrincipalId.Equals(principalObjectId, StringComparison.OrdinalIgnoreCase);
                if (!direct && !groups.Contains(a.PrincipalId)) continue;
                if (!AppliesAt(a.Scope, scope) && !(includeBelow && ResourceIds.IsAtOrAbove(scope, a.Scope))) continue;
                if (_roleDefs.TryGetValue(a.RoleDefinitionName, out var def)) result.Add(new(a, def, !direct));
            }
            return result;
        }
    }

    /// <summary>Whether the principal may perform the control-plane <paramref name="action"/> at the scope.
    /// Conditions are ignored here (they only narrow data actions).</summary>
    public bool IsAllowed(string principalObjectId, string action, string scope) =>
        AssignmentsAt(principalObjectId, scope).Any(e => e.Definition.AllowsAction(action));

    /// <summary>True when the principal has any role assignment inside or above the subscription
    /// (what makes a subscription visible in GET /subscriptions).</summary>
    public bool HasAnyAccessIn(string principalObjectId, string subscriptionId)
    {
        var subScope = "/subscriptions/" + subscriptionId;
        lock (Gate)
        {
            var groups = GroupsOfLocked(principalObjectId);
            return _assignments.Values.Any(a =>
                (a.PrincipalId.Equals(principalObjectId, StringComparison.OrdinalIgnoreCase) || groups.Contains(a.PrincipalId))
                && (AppliesAt(a.Scope, subScope) || ResourceIds.IsAtOrAbove(subScope, a.Scope)));
        }
    }
}
