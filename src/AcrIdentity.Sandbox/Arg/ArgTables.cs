using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arg;

/// <summary>Resource Graph rows built from the world for one caller (only what they may read).</summary>
sealed class ArgTables(World.World world, string callerObjectId, HashSet<string>? subscriptions)
{
    IReadOnlyList<EffectiveRoleAssignment>? _mine;

    bool CanRead(string action, string scope)
    {
        _mine ??= world.AssignmentsAt(callerObjectId, "/", includeBelow: true);
        return _mine.Any(e => world.AppliesAt(e.Assignment.Scope, scope) && e.Definition.AllowsAction(action));
    }

    bool InSubs(string? sub) => subscriptions is null || (sub is not null && subscriptions.Contains(sub));

    public List<JsonObject>? Get(string table) => table switch
    {
        "resources" => Resources(),
        "authorizationresources" => Authorization(),
        "resourcecontainers" => Containers(),
        _ => null,
    };

    /// <summary>A row in ARG's column order; takes ownership of <paramref name="src"/>'s members (no copies).</summary>
    static JsonObject Row(string id, string name, string type, string tenant, string? sub, string? rg, JsonObject src)
    {
        JsonNode? Take(string key, JsonNode? fallback = null)
        {
            if (!src.Remove(key, out var v) || v is null) return fallback;
            return v;
        }
        return new JsonObject
        {
            ["id"] = id, ["name"] = name, ["type"] = type.ToLowerInvariant(), ["tenantId"] = tenant,
            ["kind"] = Take("kind", ""), ["location"] = Take("location", ""),
            ["resourceGroup"] = rg?.ToLowerInvariant() ?? "", ["subscriptionId"] = sub ?? "",
            ["managedBy"] = Take("managedBy", ""), ["sku"] = Take("sku"), ["plan"] = Take("plan"),
            ["properties"] = Take("properties"), ["tags"] = Take("tags"), ["identity"] = Take("identity"),
            ["zones"] = Take("zones"), ["extendedLocation"] = Take("extendedLocation"),
        };
    }

    List<JsonObject> Resources()
    {
        var rows = new List<JsonObject>();
        // Check access on the stored entries first and render only the rows the caller gets.
        foreach (var e in world.EntriesSnapshot())
        {
            if (!InSubs(e.SubscriptionId) || !CanRead(e.Type + "/read", e.Id)) continue;
            var r = world.Render(e);
            rows.Add(Row(e.Id, r["name"]?.GetValue<string>() ?? e.Name, e.Type, world.TenantId, e.SubscriptionId, e.ResourceGroup, r));
        }
        return rows;
    }

    List<JsonObject> Containers()
    {
        var rows = new List<JsonObject>();
        foreach (var s in world.Subscriptions)
        {
            if (!InSubs(s.SubscriptionId) || !world.HasAnyAccessIn(callerObjectId, s.SubscriptionId)) continue;
            rows.Add(Row(s.Id, s.SubscriptionId, "microsoft.resources/subscriptions", world.TenantId, s.SubscriptionId, null,
                new JsonObject { ["properties"] = new JsonObject { ["state"] = s.State }, ["tags"] = new JsonObject() }));
            rows[^1]["name"] = s.DisplayName;
            foreach (var g in world.ResourceGroups(s.SubscriptionId))
            {
                if (!CanRead("Microsoft.Resources/subscriptions/resourceGroups/read", g.Id)) continue;
                rows.Add(Row(g.Id, g.Name, "microsoft.resources/subscriptions/resourcegroups", world.TenantId, s.SubscriptionId, g.Name,
                    new JsonObject { ["location"] = g.Location, ["managedBy"] = g.ManagedBy, ["tags"] = g.Tags.DeepClone(), ["properties"] = new JsonObject { ["provisioningState"] = "Succeeded" } }));
            }
        }
        return rows;
    }

    List<JsonObject> Authorization()
    {
        var rows = new List<JsonObject>();
        foreach (var a in world.RoleAssignments())
        {
            var sub = ResourceIds.SubscriptionOf(a.Scope);
            if (sub is not null && !InSubs(sub)) continue;
            if (!CanRead("Microsoft.Authorization/roleAssignments/read", a.Scope)) continue;
            var def = "/providers/Microsoft.Authorization/roleDefinitions/" + a.RoleDefinitionName;
            var props = new JsonObject
            {
                ["roleDefinitionId"] = (sub is null ? "" : "/subscriptions/" + sub) + def,
                ["principalId"] = a.PrincipalId, ["principalType"] = a.PrincipalType, ["scope"] = a.Scope,
                ["createdOn"] = a.CreatedOn.UtcDateTime.ToString("O"), ["updatedOn"] = a.UpdatedOn.UtcDateTime.ToString("O"),
                ["createdBy"] = a.CreatedBy, ["updatedBy"] = a.UpdatedBy, ["condition"] = a.Condition, ["conditionVersion"] = a.ConditionVersion,
                ["description"] = a.Description,
            };
            rows.Add(Row(a.Id, a.Name, "microsoft.authorization/roleassignments", world.TenantId, sub, ResourceIds.ResourceGroupOf(a.Scope),
                new JsonObject { ["properties"] = props }));
        }
        foreach (var d in world.RoleDefinitions())
        {
            var sub = d.DefinedAtScope is null ? null : ResourceIds.SubscriptionOf(d.DefinedAtScope);
            if (sub is not null && !InSubs(sub)) continue;
            var props = new JsonObject
            {
                ["roleName"] = d.RoleName, ["type"] = d.RoleType, ["description"] = d.Description,
                ["assignableScopes"] = new JsonArray(d.AssignableScopes.Select(s => (JsonNode)s).ToArray()),
                ["permissions"] = new JsonArray(d.Permissions.Select(p => (JsonNode)new JsonObject
                {
                    ["actions"] = new JsonArray(p.Actions.Select(x => (JsonNode)x).ToArray()),
                    ["notActions"] = new JsonArray(p.NotActions.Select(x => (JsonNode)x).ToArray()),
                    ["dataActions"] = new JsonArray(p.DataActions.Select(x => (JsonNode)x).ToArray()),
                    ["notDataActions"] = new JsonArray(p.NotDataActions.Select(x => (JsonNode)x).ToArray()),
                }).ToArray()),
            };
            rows.Add(Row((sub is null ? "" : "/subscriptions/" + sub) + "/providers/Microsoft.Authorization/roleDefinitions/" + d.Name, d.Name,
                "microsoft.authorization/roledefinitions", world.TenantId, sub, null, new JsonObject { ["properties"] = props }));
        }
        return rows;
    }
}
