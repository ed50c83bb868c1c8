using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Tests;

public sealed class ArmRbacTests(ArmFixture f) : IClassFixture<ArmFixture>
{
    readonly ArmHarness H = f.H;
    const string V = "api-version=2022-04-01";
    const string AcrPullId = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

    string RoleDef(string guid) => $"/subscriptions/{H.Sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}";
    string Ra(string scope, string name) => $"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?{V}";

    static JsonObject Body(string roleDefinitionId, string principalId, string? principalType = "ServicePrincipal")
    {
        var p = new JsonObject { ["roleDefinitionId"] = roleDefinitionId, ["principalId"] = principalId };
        if (principalType is not null) p["principalType"] = principalType;
        return new JsonObject { ["properties"] = p };
    }

    string NewSp(string name) => H.World.AddServicePrincipal(name, createdAt: DateTimeOffset.UnixEpoch).ObjectId;

    [Fact]
    public async Task Put_201_then_200_then_409_for_the_same_triple_under_another_name()
    {
        var pid = NewSp("ra-sp-1");
        var name = Guid.NewGuid().ToString();
        var (status, body, _) = await H.PutAsync(Ra(H.RegistryId, name), Body(RoleDef(AcrPullId), pid));
        Assert.Equal(201, status);
        Assert.Equal($"{H.RegistryId}/providers/Microsoft.Authorization/roleAssignments/{name}", body!["id"]!.GetValue<string>());
        Assert.Equal(H.RegistryId, body["properties"]!["scope"]!.GetValue<string>());
        Assert.Equal(RoleDef(AcrPullId), body["properties"]!["roleDefinitionId"]!.GetValue<string>());
        Assert.Equal("ServicePrincipal", body["properties"]!["principalType"]!.GetValue<string>());
        Assert.Equal("Microsoft.Authorization/roleAssignments", body["type"]!.GetValue<string>());

        (status, _, _) = await H.PutAsync(Ra(H.RegistryId, name), Body(RoleDef(AcrPullId), pid));
        Assert.Equal(200, status);

        // Role definition ID in the tenant form is accepted too; the triple already exists.
        (status, body, _) = await H.PutAsync(Ra(H.RegistryId.ToLowerInvariant(), Guid.NewGuid().ToString()),
            Body($"/providers/Microsoft.Authorization/roleDefinitions/{AcrPullId}", pid));
        Assert.Equal(409, status);
        Assert.Equal("RoleAssignmentExists", ArmHarness.Code(body));
        Assert.Equal("The role assignment already exists.", ArmHarness.Message(body));
    }

    [Fact]
    public async Task Concurrent_puts_of_one_triple_create_exactly_one_assignment()
    {
        var pid = NewSp("ra-race");
        var tasks = Enumerable.Range(0, 12).Select(_ =>
            H.PutAsync(Ra(H.RegistryId, Guid.NewGuid().ToString()), Body(RoleDef(AcrPullId), pid))).ToList();
        var statuses = (await Task.WhenAll(tasks)).Select(t => t.Status).ToList();
        Assert.Equal(1, statuses.Count(s => s == 201));
        Assert.Equal(11, statuses.Count(s => s == 409));
        Assert.Single(H.World.RoleAssignments(), a => a.PrincipalId == pid);
    }

    [Fact]
    public async Task Same_name_with_another_principal_is_RoleAssignmentUpdateNotPermitted()
    {
        var name = Guid.NewGuid().ToString();
        var (status, _, _) = await H.PutAsync(Ra(H.RegistryId, name), Body(RoleDef(AcrPullId), NewSp("ra-sp-2")));
        Assert.Equal(201, status);
        var (st, body, _) = await H.PutAsync(Ra(H.RegistryId, name), Body(RoleDef(AcrPullId), NewSp("ra-sp-3")));
        Assert.Equal(400, st);
        Assert.Equal("RoleAssignmentUpdateNotPermitted", ArmHarness.Code(body));
        Assert.Equal("Tenant ID, application ID, principal ID, and scope are not allowed to be updated.", ArmHarness.Message(body));
    }

    [Fact]
    public async Task Replication_delay_gives_PrincipalNotFound_unless_principalType_is_set()
    {
        H.Host.Behaviours.ReplicationDelay = TimeSpan.FromMinutes(5);
        try
        {
            var fresh = H.World.AddServicePrincipal("ra-fresh").ObjectId;
            var (status, body, _) = await H.PutAsync(Ra(H.RegistryId, Guid.NewGuid().ToString()), Body(RoleDef(AcrPullId), fresh, null));
            Assert.Equal(400, status);
            Assert.Equal("PrincipalNotFound", ArmHarness.Code(body));
            Assert.StartsWith($"Principal {fresh.Replace("-", "")} does not exist in the directory {H.World.TenantId}.", ArmHarness.Message(body));

            (status, body, _) = await H.PutAsync(Ra(H.RegistryId, Guid.NewGuid().ToString()), Body(RoleDef(AcrPullId), fresh));
            Assert.Equal(201, status);

            // After the delay the lookup succeeds and fills principalType.
            var clock = H.World.Clock;
            H.World.Clock = () => clock() + TimeSpan.FromMinutes(6);
            try
            {
                var later = H.World.AddServicePrincipal("ra-later").ObjectId;
                H.World.Clock = () => clock() + TimeSpan.FromMinutes(12);
                (status, body, _) = await H.PutAsync(Ra(H.RegistryId, Guid.NewGuid().ToString()), Body(RoleDef(AcrPullId), later, null));
                Assert.Equal(201, status);
                Assert.Equal("ServicePrincipal", body!["properties"]!["principalType"]!.GetValue<string>());
            }
            finally { H.World.Clock = clock; }
        }
        finally { H.Host.Behaviours.ReplicationDelay = TimeSpan.Zero; }
    }

    [Fact]
    public async Task Unknown_principal_and_bad_ids_are_400()
    {
        var (status, body, _) = await H.PutAsync(Ra(H.RegistryId, Guid.NewGuid().ToString()), Body(RoleDef(AcrPullId), Guid.NewGuid().ToString(), null));
        Assert.Equal(400, status);
        Assert.Equal("PrincipalNotFound", ArmHarness.Code(body));

        (status, body, _) = await H.PutAsync(Ra(H.RegistryId, Guid.NewGuid().ToString()), Body(RoleDef(AcrPullId), "myACRId"));
        Assert.Equal(400, status);
        Assert.Equal("InvalidPrincipalId", ArmHarness.Code(body));
        Assert.Equal("The Principal ID 'myACRId' is not valid. Principal ID must be a GUID.", ArmHarness.Message(body));

        (status, body, _) = await H.PutAsync(Ra(H.RegistryId, Guid.NewGuid().ToString()), Body(RoleDef(Guid.NewGuid().ToString()), NewSp("ra-sp-4")));
        Assert.Equal(400, status);
        Assert.Equal("RoleDefinitionDoesNotExist", ArmHarness.Code(body));

        (status, body, _) = await H.PutAsync(Ra(H.RegistryId, "not-a-guid"), Body(RoleDef(AcrPullId), NewSp("ra-sp-5")));
        Assert.Equal(400, status);
        Assert.Equal("InvalidRoleAssignmentId", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Principal_type_that_contradicts_the_directory_is_rejected()
    {
        var user = H.World.AddUser("bob@sandbox.onmicrosoft.com", createdAt: DateTimeOffset.UnixEpoch).ObjectId;
        var (status, body, _) = await H.PutAsync(Ra(H.RegistryId, Guid.NewGuid().ToString()), Body(RoleDef(AcrPullId), user, "ServicePrincipal"));
        Assert.Equal(400, status);
        Assert.Equal("UnmatchedPrincipalType", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Get_delete_and_not_found()
    {
        var name = Guid.NewGuid().ToString();
        var (status, _, _) = await H.PutAsync(Ra(H.RgId, name), Body(RoleDef(AcrPullId), NewSp("ra-sp-6")));
        Assert.Equal(201, status);
        var (st, body, _) = await H.GetAsync(Ra(H.RgId.Replace("resourceGroups", "resourcegroups"), name));
        Assert.Equal(200, st);
        Assert.Equal(H.RgId, body!["properties"]!["scope"]!.GetValue<string>());
        (st, body, _) = await H.DeleteAsync(Ra(H.RgId, name));
        Assert.Equal(200, st);
        Assert.Equal(name, body!["name"]!.GetValue<string>());
        (st, _, _) = await H.DeleteAsync(Ra(H.RgId, name));
        Assert.Equal(204, st);
        (st, body, _) = await H.GetAsync(Ra(H.RgId, name));
        Assert.Equal(404, st);
        Assert.Equal("RoleAssignmentNotFound", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Writes_need_roleAssignments_write_and_say_so_like_azure()
    {
        var name = Guid.NewGuid().ToString();
        var (status, body, _) = await H.PutAsync(Ra(H.RegistryId, name), Body(RoleDef(AcrPullId), NewSp("ra-sp-7")), "reader-app");
        Assert.Equal(403, status);
        Assert.Equal("AuthorizationFailed", ArmHarness.Code(body));
        Assert.Contains($"to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '{H.RegistryId}/providers/Microsoft.Authorization/roleAssignments/{name}'",
            ArmHarness.Message(body));
        // Reader may list.
        (status, _, _) = await H.GetAsync($"{H.RegistryId}/providers/Microsoft.Authorization/roleAssignments?{V}", "reader-app");
        Assert.Equal(200, status);
        (status, _, _) = await H.GetAsync($"{H.RegistryId}/providers/Microsoft.Authorization/roleAssignments?{V}", "noaccess-app");
        Assert.Equal(403, status);
    }

    [Fact]
    public async Task List_filters_follow_arm_semantics_with_inheritance()
    {
        var pid = NewSp("ra-list");
        var grouped = H.Principal("grouped-app").ObjectId;
        var group = H.Principal("pullers").ObjectId;
        var atRegistry = Guid.NewGuid().ToString();
        await H.PutAsync(Ra(H.RegistryId, atRegistry), Body(RoleDef(AcrPullId), pid));
        var atGroup = H.World.AddRoleAssignment(H.RgId, "AcrPush", group).Name;
        var atSub = H.World.AddRoleAssignment($"/subscriptions/{H.Sub}", "Reader", pid).Name;
        var atMg = H.World.AddRoleAssignment($"/providers/Microsoft.Management/managementGroups/{H.World.TenantId}", "Reader", grouped).Name;

        async Task<string[]> Names(string scope, string filter)
        {
            var q = filter.Length == 0 ? "" : "&$filter=" + Uri.EscapeDataString(filter);
            var (status, body, _) = await H.GetAsync($"{scope}/providers/Microsoft.Authorization/roleAssignments?{V}{q}");
            Assert.Equal(200, status);
            return body!["value"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()).ToArray();
        }

        // At the registry: its own plus inherited from RG, subscription and the root management group.
        var atScope = await Names(H.RegistryId, "atScope()");
        Assert.Contains(atRegistry, atScope);
        Assert.Contains(atGroup, atScope);
        Assert.Contains(atSub, atScope);
        Assert.Contains(atMg, atScope);

        // At the RG with atScope(): not the one below it (the registry).
        var rgAt = await Names(H.RgId, "atScope()");
        Assert.DoesNotContain(atRegistry, rgAt);
        Assert.Contains(atGroup, rgAt);
        // Without a filter: below too.
        Assert.Contains(atRegistry, await Names(H.RgId, ""));

        var byPrincipal = await Names($"/subscriptions/{H.Sub}", $"principalId eq '{pid}'");
        Assert.Equal(new[] { atRegistry, atSub }.OrderBy(x => x), byPrincipal.OrderBy(x => x));

        // assignedTo() includes the groups the principal is in; principalId eq does not.
        var assigned = await Names(H.RegistryId, $"atScope() and assignedTo('{grouped}')");
        Assert.Contains(atGroup, assigned);
        Assert.Contains(atMg, assigned);
        Assert.DoesNotContain(atRegistry, assigned);
        Assert.DoesNotContain(atGroup, await Names(H.RegistryId, $"principalId eq '{grouped}'"));

        // Inherited rows keep their own scope.
        var (_, list, _) = await H.GetAsync($"{H.RegistryId}/providers/Microsoft.Authorization/roleAssignments?{V}&$filter=atScope()");
        var inherited = list!["value"]!.AsArray().Single(a => a!["name"]!.GetValue<string>() == atGroup)!;
        Assert.Equal(H.RgId, inherited["properties"]!["scope"]!.GetValue<string>());
    }

    [Fact]
    public async Task Role_definitions_by_name_filter_and_by_id()
    {
        var (status, body, _) = await H.GetAsync($"{H.RegistryId}/providers/Microsoft.Authorization/roleDefinitions?{V}&$filter=roleName%20eq%20'acrpull'");
        Assert.Equal(200, status);
        var def = body!["value"]!.AsArray().Single()!;
        Assert.Equal(RoleDef(AcrPullId), def["id"]!.GetValue<string>());
        Assert.Equal("AcrPull", def["properties"]!["roleName"]!.GetValue<string>());
        Assert.Equal("BuiltInRole", def["properties"]!["type"]!.GetValue<string>());
        Assert.Equal("Microsoft.ContainerRegistry/registries/pull/read", def["properties"]!["permissions"]![0]!["actions"]![0]!.GetValue<string>());

        (status, body, _) = await H.GetAsync($"/providers/Microsoft.Authorization/roleDefinitions/b93aa761-3e63-49ed-ac28-beffa264f7ac?{V}");
        Assert.Equal(200, status);
        Assert.Equal("Container Registry Repository Reader", body!["properties"]!["roleName"]!.GetValue<string>());
        Assert.Empty(body["properties"]!["permissions"]![0]!["actions"]!.AsArray());
        Assert.Equal(2, body["properties"]!["permissions"]![0]!["dataActions"]!.AsArray().Count);

        (status, body, _) = await H.GetAsync($"/subscriptions/{H.Sub}/providers/Microsoft.Authorization/roleDefinitions?{V}&$filter=roleName eq 'Container Registry Data Importer and Data Reader'");
        Assert.Equal("577a9874-89fd-4f24-9dbd-b5034d0ad23a", body!["value"]![0]!["name"]!.GetValue<string>());

        (status, body, _) = await H.GetAsync($"/subscriptions/{H.Sub}/providers/Microsoft.Authorization/roleDefinitions/{Guid.NewGuid()}?{V}");
        Assert.Equal(404, status);
        Assert.Equal("RoleDefinitionDoesNotExist", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Custom_role_put_is_201_and_assignable()
    {
        var guid = Guid.NewGuid().ToString();
        var scope = $"/subscriptions/{H.Sub}";
        var (status, body, _) = await H.PutAsync($"{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}?{V}", new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["roleName"] = "Registry Puller Custom", ["description"] = "pull only",
                ["assignableScopes"] = new JsonArray(scope),
                ["permissions"] = new JsonArray(new JsonObject { ["actions"] = new JsonArray("Microsoft.ContainerRegistry/registries/pull/read") }),
            },
        });
        Assert.Equal(201, status);
        Assert.Equal("CustomRole", body!["properties"]!["type"]!.GetValue<string>());
        var (st, _, _) = await H.PutAsync(Ra(H.RegistryId, Guid.NewGuid().ToString()), Body($"{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}", NewSp("ra-custom")));
        Assert.Equal(201, st);
        (st, body, _) = await H.GetAsync($"{scope}/providers/Microsoft.Authorization/roleDefinitions?{V}&$filter=type eq 'CustomRole'");
        Assert.Contains(body!["value"]!.AsArray(), d => d!["name"]!.GetValue<string>() == guid);
    }

    [Fact]
    public async Task Role_assignment_on_a_missing_scope_is_404()
    {
        var (status, body, _) = await H.PutAsync(Ra($"{H.RgId}/providers/Microsoft.ContainerRegistry/registries/ghostRegistry", Guid.NewGuid().ToString()),
            Body(RoleDef(AcrPullId), NewSp("ra-ghost")));
        Assert.Equal(404, status);
        Assert.Equal("ResourceNotFound", ArmHarness.Code(body));
    }

    [Fact]
    public void World_effective_assignments_include_groups_and_parents()
    {
        var app = H.World.AddServicePrincipal("eff-app");
        var g = H.World.AddGroup("eff-group", [app.ObjectId]);
        var outer = H.World.AddGroup("eff-outer", [g.ObjectId]);
        H.World.AddRoleAssignment(H.RgId, "AcrPull", outer.ObjectId);
        H.World.AddRoleAssignment(H.RegistryId, "Container Registry Repository Reader", app.ObjectId,
            condition: "@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'hello-world'");
        var eff = H.World.AssignmentsAt(app.ObjectId, H.RegistryId.ToUpperInvariant());
        Assert.Contains(eff, e => e.Definition.RoleName == "AcrPull" && e.ViaGroup);
        var abac = eff.Single(e => e.Definition.RoleName == "Container Registry Repository Reader");
        Assert.False(abac.ViaGroup);
        Assert.Equal("2.0", abac.Assignment.ConditionVersion);
        Assert.True(abac.Definition.AllowsDataAction("Microsoft.ContainerRegistry/registries/repositories/content/read"));
        Assert.True(H.World.IsAllowed(app.ObjectId, "Microsoft.ContainerRegistry/registries/pull/read", H.RegistryId));
        Assert.False(H.World.IsAllowed(app.ObjectId, "Microsoft.ContainerRegistry/registries/push/write", H.RegistryId));
        Assert.Empty(H.World.AssignmentsAt(app.ObjectId, $"/subscriptions/{H.Sub}"));
    }
}
