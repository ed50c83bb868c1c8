using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>Microsoft.Authorization at any scope: role assignments, role definitions, permissions.</summary>
static class ArmRbac
{
    public static readonly string[] AssignmentVersions = ["2022-04-01", "2022-01-01-preview", "2021-04-01-preview", "2020-10-01-preview", "2020-08-01-preview", "2020-04-01-preview", "2020-03-01-preview", "2018-12-01-preview", "2018-09-01-preview", "2018-07-01", "2018-01-01-preview", "2017-10-01-preview", "2015-07-01"];
    public static readonly string[] DefinitionVersions = ["2022-05-01-preview", "2022-04-01", "2018-07-01", "2018-01-01-preview", "2017-05-01", "2015-07-01"];
    const string RaType = "Microsoft.Authorization/roleAssignments";
    const string RdType = "Microsoft.Authorization/roleDefinitions";

    public static async Task Handle(ArmRequest r, int providersIndex)
    {
        var s = r.Seg;
        var scope = providersIndex == 0 ? "/" : "/" + string.Join('/', s.Take(providersIndex));
        var collection = s[providersIndex + 2];
        var name = s.Length > providersIndex + 3 ? s[providersIndex + 3] : null;
        if (s.Length > providersIndex + 4) { await ArmArea.NotFound(r); return; }

        if (collection.Equals("roleAssignments", StringComparison.OrdinalIgnoreCase))
        {
            if (!await CheckVersion(r, AssignmentVersions, "roleAssignments")) return;
            if (!await CheckScope(r, scope)) return;
            scope = StoredScope(r.World, scope);
            if (name is null) { await ListAssignments(r, scope); return; }
            switch (r.Method.ToUpperInvariant())
            {
                case "GET": await GetAssignment(r, scope, name); return;
                case "PUT": await PutAssignment(r, scope, name); return;
                case "DELETE": await DeleteAssignment(r, scope, name); return;
            }
        }
        else if (collection.Equals("roleDefinitions", StringComparison.OrdinalIgnoreCase))
        {
            if (!await CheckVersion(r, DefinitionVersions, "roleDefinitions")) return;
            if (!await CheckScope(r, scope)) return;
            if (name is null) { await ListDefinitions(r, scope); return; }
            switch (r.Method.ToUpperInvariant())
            {
                case "GET": await GetDefinition(r, scope, name); return;
                case "PUT": await PutDefinition(r, scope, name); return;
                case "DELETE": await DeleteDefinition(r, scope, name); return;
            }
        }
        else if (collection.Equals("permissions", StringComparison.OrdinalIgnoreCase) && name is null && HttpMethods.IsGet(r.Method))
        {
            if (!await CheckScope(r, scope)) return;
            var perms = r.World.AssignmentsAt(r.Caller.ObjectId, scope)
                .SelectMany(e => e.Definition.Permissions)
                .Select(p => (JsonNode)PermissionJson(p)).ToArray();
            await ArmHttp.Json(r.Http, 200, new JsonObject { ["value"] = new JsonArray(perms) });
            return;
        }
        await ArmArea.NotFound(r);
    }

    static async Task<bool> CheckVersion(ArmRequest r, string[] versions, string type)
    {
        if (versions.Contains(r.ApiVersion, StringComparer.OrdinalIgnoreCase)) return true;
        await ArmHttp.Error(r.Http, 400, "NoRegisteredProviderFound",
            $"No registered resource provider found for location 'global' and API version '{r.ApiVersion}' for type '{type}'. " +
            $"The supported api-versions are '{string.Join(", ", versions)}'. The supported locations are ', global'.");
        return false;
    }

    /// <summary>404s for a scope that does not exist (subscription, group, resource).</summary>
    static async Task<bool> CheckScope(ArmRequest r, string scope)
    {
        var w = r.World;
        if (w.ScopeExists(scope)) return true;
        var sub = ResourceIds.SubscriptionOf(scope);
        var rg = ResourceIds.ResourceGroupOf(scope);
        if (sub is not null && w.FindSubscription(sub) is null)
            await ArmHttp.Error(r.Http, 404, "SubscriptionNotFound", $"The subscription '{sub}' could not be found.");
        else if (sub is not null && rg is not null && w.FindResourceGroup(sub, rg) is null)
            await ArmHttp.Error(r.Http, 404, "ResourceGroupNotFound", $"Resource group '{rg}' could not be found.");
        else if (ResourceIds.ManagementGroupOf(scope) is { } mg)
            await ArmHttp.Error(r.Http, 404, "ManagementGroupNotFound", $"The management group '{mg}' could not be found.");
        else if (rg is not null)
            await ArmHttp.Error(r.Http, 404, "ResourceNotFound",
                $"The Resource '{ResourceIds.TypeOf(scope)}/{ResourceIds.NameOf(scope)}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix");
        else
            await ArmHttp.Error(r.Http, 400, "InvalidScope", $"The scope '{scope}' is not valid.");
        return false;
    }

    /// <summary>The scope with the stored casing of the resource it names (the request's casing otherwise).</summary>
    static string StoredScope(World.World w, string scope)
    {
        scope = ResourceIds.Normalize(scope);
        var res = w.GetResource(scope);
        if (res is not null) return res["id"]!.GetValue<string>();
        var sub = ResourceIds.SubscriptionOf(scope);
        var rg = ResourceIds.ResourceGroupOf(scope);
        var segs = scope.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (sub is not null && rg is not null && segs.Length == 4 && w.FindResourceGroup(sub, rg) is { } g) return g.Id;
        if (sub is not null && segs.Length == 2 && w.FindSubscription(sub) is { } s) return s.Id;
        return scope;
    }

    static string DefinitionId(string? subscriptionId, string guid) =>
        (subscriptionId is null ? "" : "/subscriptions/" + subscriptionId) + "/providers/Microsoft.Authorization/roleDefinitions/" + guid;

    static JsonObject AssignmentJson(RoleAssignment a, string? requestSubscription) => new()
    {
        ["properties"] = new JsonObject
        {
            ["roleDefinitionId"] = DefinitionId(ResourceIds.SubscriptionOf(a.Scope) ?? requestSubscription, a.RoleDefinitionName),
            ["principalId"] = a.PrincipalId,
            ["principalType"] = a.PrincipalType,
            ["scope"] = a.Scope,
            ["condition"] = a.Condition,
            ["conditionVersion"] = a.ConditionVersion,
            ["createdOn"] = ArmHttp.Iso(a.CreatedOn),
            ["updatedOn"] = ArmHttp.Iso(a.UpdatedOn),
            ["createdBy"] = a.CreatedBy,
            ["updatedBy"] = a.UpdatedBy,
            ["delegatedManagedIdentityResourceId"] = null,
            ["description"] = a.Description,
        },
        ["id"] = a.Id,
        ["type"] = RaType,
        ["name"] = a.Name,
    };

    static JsonObject PermissionJson(Permission p) => new()
    {
        ["actions"] = new JsonArray(p.Actions.Select(x => (JsonNode)x).ToArray()),
        ["notActions"] = new JsonArray(p.NotActions.Select(x => (JsonNode)x).ToArray()),
        ["dataActions"] = new JsonArray(p.DataActions.Select(x => (JsonNode)x).ToArray()),
        ["notDataActions"] = new JsonArray(p.NotDataActions.Select(x => (JsonNode)x).ToArray()),
    };

    static JsonObject DefinitionJson(RoleDefinition d, string? subscriptionId) => new()
    {
        ["id"] = DefinitionId(subscriptionId, d.Name),
        ["name"] = d.Name,
        ["type"] = RdType,
        ["properties"] = new JsonObject
        {
            ["roleName"] = d.RoleName,
            ["type"] = d.RoleType,
            ["description"] = d.Description,
            ["assignableScopes"] = new JsonArray(d.AssignableScopes.Select(x => (JsonNode)x).ToArray()),
            ["permissions"] = new JsonArray(d.Permissions.Select(p => (JsonNode)PermissionJson(p)).ToArray()),
            ["createdOn"] = ArmHttp.Iso(d.CreatedOn),
            ["updatedOn"] = ArmHttp.Iso(d.UpdatedOn),
            ["createdBy"] = null,
            ["updatedBy"] = null,
        },
    };

    static string AssignmentScopeForMessage(string scope, string name) =>
        (scope == "/" ? "" : scope) + "/providers/Microsoft.Authorization/roleAssignments/" + name;

    // ---- role assignments ----

    static async Task GetAssignment(ArmRequest r, string scope, string name)
    {
        if (!await ArmAuthz.Require(r, RaType + "/read", scope)) return;
        var a = r.World.FindRoleAssignment(name);
        if (a is null || !ResourceIds.Same(a.Scope, scope))
        {
            await ArmHttp.Error(r.Http, 404, "RoleAssignmentNotFound", $"The role assignment '{name}' is not found.");
            return;
        }
        await ArmHttp.Json(r.Http, 200, AssignmentJson(a, ResourceIds.SubscriptionOf(scope)));
    }

    static async Task PutAssignment(ArmRequest r, string scope, string name)
    {
        var w = r.World;
        if (!await ArmAuthz.Require(r, RaType + "/write", AssignmentScopeForMessage(scope, name))) return;
        if (!ResourceIds.IsGuid(name))
        {
            await ArmHttp.Error(r.Http, 400, "InvalidRoleAssignmentId", $"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.");
            return;
        }
        var (body, err) = await ArmHttp.ReadObject(r.Http);
        if (body is null) { await ArmHttp.Error(r.Http, 400, "InvalidRequestContent", err!); return; }
        if (body["properties"] is not JsonObject props)
        {
            await ArmHttp.Error(r.Http, 400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'Required property 'properties' not found in JSON.'.");
            return;
        }
        var principalId = props["principalId"]?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(principalId))
        {
            await ArmHttp.Error(r.Http, 400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.");
            return;
        }
        if (!ResourceIds.IsGuid(principalId))
        {
            await ArmHttp.Error(r.Http, 400, "InvalidPrincipalId", $"The Principal ID '{principalId}' is not valid. Principal ID must be a GUID.");
            return;
        }
        var roleDefinitionId = props["roleDefinitionId"]?.GetValue<string>() ?? "";
        var def = ResourceIds.IsGuid(roleDefinitionId.Split('/').Last()) ? w.FindRoleDefinition(roleDefinitionId.Split('/').Last()) : null;
        if (def is null)
        {
            await ArmHttp.Error(r.Http, 400, "RoleDefinitionDoesNotExist", $"The specified role definition with ID '{roleDefinitionId.Split('/').Last()}' does not exist.");
            return;
        }
        var requestedType = props["principalType"]?.GetValue<string>();
        var condition = props["condition"]?.GetValue<string>();
        var conditionVersion = props["conditionVersion"]?.GetValue<string>();
        if (condition is not null && conditionVersion is not null && conditionVersion != "2.0")
        {
            await ArmHttp.Error(r.Http, 400, "InvalidConditionVersion", $"The condition version '{conditionVersion}' is not supported. Supported condition version is '2.0'.");
            return;
        }
        if (requestedType is not null && !new[] { "User", "Group", "ServicePrincipal", "ForeignGroup", "Device" }.Contains(requestedType, StringComparer.OrdinalIgnoreCase))
        {
            await ArmHttp.Error(r.Http, 400, "InvalidPrincipalType", $"The principal type '{requestedType}' is not valid.");
            return;
        }

        // Without principalType ARM looks the principal up, which fails until replication has caught up.
        var principal = w.FindPrincipal(principalId);
        if (principal is not null && !principal.ObjectId.Equals(principalId, StringComparison.OrdinalIgnoreCase)) principal = null; // a client ID is not an object ID
        var replicated = principal is not null && w.IsReplicated(principal.ObjectId, r.Ctx.Behaviours.ReplicationDelay);
        if (requestedType is null && !replicated)
        {
            await ArmHttp.Error(r.Http, 400, "PrincipalNotFound",
                $"Principal {principalId.Replace("-", "")} does not exist in the directory {w.TenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype");
            return;
        }
        if (requestedType is not null && replicated && !principal!.PrincipalType.Equals(requestedType, StringComparison.OrdinalIgnoreCase))
        {
            await ArmHttp.Error(r.Http, 400, "UnmatchedPrincipalType",
                $"The PrincipalId '{principalId.Replace("-", "")}' has type '{principal.PrincipalType}' , which is different from specified PrincipalType '{requestedType}'.");
            return;
        }
        var principalType = principal?.PrincipalType ?? requestedType!;
        if (requestedType is not null) principalType = char.ToUpperInvariant(requestedType[0]) + requestedType[1..];
        if (principalType.Equals("serviceprincipal", StringComparison.OrdinalIgnoreCase)) principalType = "ServicePrincipal";

        RoleAssignment? result;
        bool created;
        WorldError? conflict = null;
        lock (w.Gate)
        {
            var all = w.AssignmentsLocked;
            var existing = all.GetValueOrDefault(name);
            if (existing is not null)
            {
                created = false;
                if (!ResourceIds.Same(existing.Scope, scope) || !existing.PrincipalId.Equals(principalId, StringComparison.OrdinalIgnoreCase)
                    || !existing.RoleDefinitionName.Equals(def.Name, StringComparison.OrdinalIgnoreCase))
                {
                    conflict = new WorldError(400, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.");
                    result = null;
                }
                else
                {
                    existing.Condition = condition;
                    existing.ConditionVersion = condition is null ? null : conditionVersion ?? "2.0";
                    existing.Description = props["description"]?.GetValue<string>();
                    existing.UpdatedOn = w.Now;
                    existing.UpdatedBy = r.Caller.ObjectId;
                    result = existing;
                }
            }
            else
            {
                created = true;
                var dup = all.Values.FirstOrDefault(a => ResourceIds.Same(a.Scope, scope) && a.PrincipalId.Equals(principalId, StringComparison.OrdinalIgnoreCase)
                    && a.RoleDefinitionName.Equals(def.Name, StringComparison.OrdinalIgnoreCase));
                if (dup is not null)
                {
                    // az 2.45 (aks --attach-acr) compares this exact text to treat the conflict as success.
                    conflict = new WorldError(409, "RoleAssignmentExists", "The role assignment already exists.");
                    result = null;
                }
                else
                    result = w.AddRoleAssignmentLocked(scope, def.Name, principal?.ObjectId ?? principalId, principalType, name, null, r.Caller.ObjectId,
                        condition, condition is null ? null : conditionVersion ?? "2.0", props["description"]?.GetValue<string>());
            }
        }
        if (conflict is not null) { await ArmHttp.Error(r.Http, conflict); return; }
        w.RaiseChanged();
        await ArmHttp.Json(r.Http, created ? 201 : 200, AssignmentJson(result!, ResourceIds.SubscriptionOf(scope)));
    }

    static async Task DeleteAssignment(ArmRequest r, string scope, string name)
    {
        if (!await ArmAuthz.Require(r, RaType + "/delete", AssignmentScopeForMessage(scope, name))) return;
        var a = r.World.FindRoleAssignment(name);
        if (a is null || !ResourceIds.Same(a.Scope, scope)) { await ArmHttp.Json(r.Http, 204, null); return; }
        r.World.DeleteRoleAssignment(a.Name);
        await ArmHttp.Json(r.Http, 200, AssignmentJson(a, ResourceIds.SubscriptionOf(scope)));
    }

    static readonly Regex PrincipalFilter = new(@"principalId\s+eq\s+'([^']+)'", RegexOptions.IgnoreCase);
    static readonly Regex AssignedToFilter = new(@"assignedTo\(\s*'([^']+)'\s*\)", RegexOptions.IgnoreCase);
    static readonly Regex AtScopeFilter = new(@"atScope\(\s*\)", RegexOptions.IgnoreCase);
    static readonly Regex RoleDefFilter = new(@"roleDefinitionId\s+eq\s+'([^']+)'", RegexOptions.IgnoreCase);

    /// <summary>List with ARM's $filter semantics: none = at, above and below; atScope() = at or above;
    /// principalId eq = that principal only; assignedTo() = the principal and its groups.</summary>
    static async Task ListAssignments(ArmRequest r, string scope)
    {
        if (!HttpMethods.IsGet(r.Method)) { await ArmArea.NotFound(r); return; }
        if (!await ArmAuthz.Require(r, RaType + "/read", scope)) return;
        var filter = r.Query("$filter") ?? "";
        var rest = filter;
        bool atScope = AtScopeFilter.IsMatch(filter);
        rest = AtScopeFilter.Replace(rest, "");
        string? principal = null, assignedTo = null, roleDef = null;
        if (PrincipalFilter.Match(filter) is { Success: true } pm) { principal = pm.Groups[1].Value; rest = rest.Replace(pm.Value, ""); }
        if (AssignedToFilter.Match(filter) is { Success: true } am) { assignedTo = am.Groups[1].Value; rest = rest.Replace(am.Value, ""); }
        if (RoleDefFilter.Match(filter) is { Success: true } rm) { roleDef = rm.Groups[1].Value.Split('/').Last(); rest = rest.Replace(rm.Value, ""); }
        if (Regex.Replace(rest, @"\band\b", "", RegexOptions.IgnoreCase).Trim().Length > 0)
        {
            await ArmHttp.Error(r.Http, 400, "UnsupportedQuery", $"The filter '{filter}' is not supported. Supported filters are 'atScope()', 'principalId eq', 'assignedTo()' and 'roleDefinitionId eq'.");
            return;
        }
        var w = r.World;
        HashSet<string>? principals = null;
        if (principal is not null) principals = new(StringComparer.OrdinalIgnoreCase) { principal };
        if (assignedTo is not null)
        {
            principals = new(w.GroupsOf(assignedTo), StringComparer.OrdinalIgnoreCase) { assignedTo };
        }
        var items = w.RoleAssignments()
            .Where(a => w.AppliesAt(a.Scope, scope) || (!atScope && ResourceIds.IsAtOrAbove(scope, a.Scope)))
            .Where(a => principals is null || principals.Contains(a.PrincipalId))
            .Where(a => roleDef is null || a.RoleDefinitionName.Equals(roleDef, StringComparison.OrdinalIgnoreCase))
            .OrderBy(a => a.CreatedOn)
            .Select(a => (JsonNode)AssignmentJson(a, ResourceIds.SubscriptionOf(scope))).ToList();
        await ArmHttp.Json(r.Http, 200, ArmHttp.Page(r, items));
    }

    // ---- role definitions ----

    static readonly Regex RoleNameFilter = new(@"roleName\s+eq\s+'([^']*)'", RegexOptions.IgnoreCase);
    static readonly Regex TypeFilter = new(@"type\s+eq\s+'([^']*)'", RegexOptions.IgnoreCase);

    static bool Visible(World.World w, RoleDefinition d, string scope) =>
        d.RoleType == "BuiltInRole" || d.AssignableScopes.Any(s => w.AppliesAt(s, scope) || ResourceIds.IsAtOrAbove(scope, s));

    static async Task ListDefinitions(ArmRequest r, string scope)
    {
        if (!HttpMethods.IsGet(r.Method)) { await ArmArea.NotFound(r); return; }
        var filter = r.Query("$filter") ?? "";
        var name = RoleNameFilter.Match(filter) is { Success: true } m ? m.Groups[1].Value : null;
        var type = TypeFilter.Match(filter) is { Success: true } t ? t.Groups[1].Value : null;
        var w = r.World;
        var items = w.RoleDefinitions()
            .Where(d => Visible(w, d, scope))
            .Where(d => name is null || d.RoleName.Equals(name, StringComparison.OrdinalIgnoreCase))
            .Where(d => type is null || d.RoleType.Equals(type, StringComparison.OrdinalIgnoreCase))
            .OrderBy(d => d.RoleName, StringComparer.OrdinalIgnoreCase)
            .Select(d => (JsonNode)DefinitionJson(d, ResourceIds.SubscriptionOf(scope))).ToList();
        await ArmHttp.Json(r.Http, 200, ArmHttp.Page(r, items));
    }

    static async Task GetDefinition(ArmRequest r, string scope, string name)
    {
        var d = r.World.FindRoleDefinition(name);
        if (d is null || !ResourceIds.IsGuid(name))
        {
            await ArmHttp.Error(r.Http, 404, "RoleDefinitionDoesNotExist", $"The specified role definition with ID '{name}' does not exist.");
            return;
        }
        await ArmHttp.Json(r.Http, 200, DefinitionJson(d, ResourceIds.SubscriptionOf(scope)));
    }

    static async Task PutDefinition(ArmRequest r, string scope, string name)
    {
        if (!await ArmAuthz.Require(r, RdType + "/write", scope)) return;
        if (!ResourceIds.IsGuid(name))
        {
            await ArmHttp.Error(r.Http, 400, "InvalidRoleDefinitionId", $"The role definition ID '{name}' is not valid. The role definition ID must be a GUID.");
            return;
        }
        var (body, err) = await ArmHttp.ReadObject(r.Http);
        if (body?["properties"] is not JsonObject p) { await ArmHttp.Error(r.Http, 400, "InvalidRequestContent", err ?? "The 'properties' of the role definition are missing."); return; }
        var existing = r.World.FindRoleDefinition(name);
        if (existing is { RoleType: "BuiltInRole" })
        {
            await ArmHttp.Error(r.Http, 400, "RoleDefinitionUpdateNotPermitted", "Built-in role definitions cannot be updated.");
            return;
        }
        var roleName = p["roleName"]?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(roleName)) { await ArmHttp.Error(r.Http, 400, "InvalidRoleDefinition", "The role name must be provided."); return; }
        if (r.World.RoleDefinitions().Any(d => d.RoleName.Equals(roleName, StringComparison.OrdinalIgnoreCase) && !d.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
        {
            await ArmHttp.Error(r.Http, 409, "RoleDefinitionWithSameNameExists", "A custom role with the same name already exists in this directory. Use a different name.");
            return;
        }
        static List<string> L(JsonNode? n) => (n as JsonArray)?.Select(x => x!.GetValue<string>()).ToList() ?? [];
        var def = new RoleDefinition
        {
            Name = name, RoleName = roleName, RoleType = "CustomRole", Description = p["description"]?.GetValue<string>() ?? "",
            AssignableScopes = L(p["assignableScopes"]) is { Count: > 0 } scopes ? scopes : [scope],
            Permissions = (p["permissions"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(x => new Permission(L(x["actions"]), L(x["notActions"]), L(x["dataActions"]), L(x["notDataActions"]))).ToList(),
            DefinedAtScope = scope, CreatedOn = existing?.CreatedOn ?? r.World.Now, UpdatedOn = r.World.Now,
        };
        r.World.PutRoleDefinition(def);
        await ArmHttp.Json(r.Http, existing is null ? 201 : 200, DefinitionJson(def, ResourceIds.SubscriptionOf(scope)));
    }

    static async Task DeleteDefinition(ArmRequest r, string scope, string name)
    {
        if (!await ArmAuthz.Require(r, RdType + "/delete", scope)) return;
        var d = r.World.FindRoleDefinition(name);
        if (d is null) { await ArmHttp.Json(r.Http, 204, null); return; }
        if (d.RoleType == "BuiltInRole") { await ArmHttp.Error(r.Http, 400, "RoleDefinitionDeleteNotPermitted", "Built-in role definitions cannot be deleted."); return; }
        if (r.World.RoleAssignments().Any(a => a.RoleDefinitionName.Equals(d.Name, StringComparison.OrdinalIgnoreCase)))
        {
            await ArmHttp.Error(r.Http, 409, "RoleDefinitionHasAssignments", "There are existing role assignments referencing role (code: RoleDefinitionHasAssignments).");
            return;
        }
        r.World.DeleteRoleDefinition(d.Name);
        await ArmHttp.Json(r.Http, 200, DefinitionJson(d, ResourceIds.SubscriptionOf(scope)));
    }
}
