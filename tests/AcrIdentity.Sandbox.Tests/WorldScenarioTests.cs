using System.Diagnostics;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Scenario;

namespace AcrIdentity.Sandbox.Tests;

public sealed class WorldScenarioTests
{
    [Fact]
    public async Task Generated_web_apps_load_quickly_and_page_through_next_links()
    {
        const string scenario = """
        {
          "subscriptions": [ { "displayName": "Audit", "resourceGroups": [
            { "name": "many", "location": "eastus", "generate": [ { "type": "webApp", "count": 10000, "namePrefix": "app",
              "template": { "kind": "app,linux,container", "siteConfig": { "linuxFxVersion": "DOCKER|x.azurecr.io/a:1" } } } ] } ] } ],
          "behaviours": { "replicationDelaySeconds": 30, "lroSeconds": { "default": 2, "containerGroups": 5 },
                          "throttling": { "enabled": true, "readCapacity": 100000 },
                          "faults": [ { "method": "DELETE", "pathContains": "/sites/", "status": 503, "nth": 2, "count": 3 } ] }
        }
        """;
        var sw = Stopwatch.StartNew();
        await using var h = await ArmHarness.StartAsync(scenario, seed: false);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"10,000 apps took {sw.Elapsed.TotalMilliseconds:F0} ms");
        var b = h.Host.Behaviours;
        Assert.Equal(TimeSpan.FromSeconds(30), b.ReplicationDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), b.LroDurationFor("containerGroups"));
        Assert.Equal(TimeSpan.FromSeconds(2), b.LroDurationFor("virtualMachines"));
        Assert.True(b.Throttling.Enabled);
        Assert.Equal((3, 2), (b.Faults.Rules.Single().Count, b.Faults.Rules.Single().Nth));

        var seen = 0;
        string? next = $"/subscriptions/{h.Sub}/resourceGroups/many/providers/Microsoft.Web/sites?api-version=2024-11-01";
        var pages = 0;
        while (next is not null)
        {
            var (status, body, _) = await h.GetAsync(next);
            Assert.Equal(200, status);
            seen += body!["value"]!.AsArray().Count;
            next = body["nextLink"]?.GetValue<string>();
            pages++;
        }
        Assert.Equal(10000, seen);
        Assert.Equal(10, pages);

        var (argStatus, arg, _) = await h.SendAsync(HttpMethod.Post, "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
            new JsonObject { ["query"] = "resources | where type =~ 'Microsoft.Web/sites' and properties.siteConfig.linuxFxVersion startswith 'DOCKER|' | project id",
                             ["options"] = new JsonObject { ["$top"] = 1000 } });
        Assert.Equal(200, argStatus);
        Assert.Equal(10000, arg!["totalRecords"]!.GetValue<int>());
        Assert.Equal(1000, arg["count"]!.GetValue<int>());
        Assert.NotNull(arg["$skipToken"]);
    }

    [Fact]
    public async Task Scenario_principals_groups_custom_roles_and_assignments()
    {
        const string scenario = """
        {
          "tenant": { "id": "11111111-2222-3333-4444-555555555555", "displayName": "Fabrikam" },
          "operator": { "clientId": "aaaaaaaa-0000-0000-0000-000000000001", "clientSecret": "op-secret" },
          "principals": [
            { "kind": "servicePrincipal", "name": "ci", "clientSecret": "s", "objectId": "bbbbbbbb-0000-0000-0000-000000000002" },
            { "kind": "group", "name": "team", "members": [ "ci" ] }
          ],
          "customRoles": [ { "roleName": "Puller", "actions": [ "Microsoft.ContainerRegistry/registries/pull/read" ] } ],
          "subscriptions": [ { "id": "cccccccc-0000-0000-0000-000000000003", "resourceGroups": [ { "name": "rg", "resources": [
            { "type": "userAssignedIdentity", "name": "uid" },
            { "type": "registry", "name": "fabrikamacr", "roleAssignmentMode": "AbacRepositoryPermissions",
              "properties": { "publicNetworkAccess": "Disabled", "roleAssignmentMode": "AbacRepositoryPermissions" } },
            { "type": "vm", "name": "vm1", "identity": { "type": "UserAssigned", "userAssignedIdentities": [ "uid" ] } },
            { "type": "webApp", "name": "web1", "identity": { "type": "SystemAssigned" }, "slots": [ { "name": "staging", "identity": { "type": "SystemAssigned" } } ] }
          ] } ] } ],
          "roleAssignments": [
            { "principal": "team", "role": "Puller", "scope": "/subscriptions/{subscriptionId}/resourceGroups/rg" },
            { "principal": "web1", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/fabrikamacr" }
          ]
        }
        """;
        await using var h = await ArmHarness.StartAsync(scenario, seed: false);
        var w = h.World;
        Assert.Equal("11111111-2222-3333-4444-555555555555", w.TenantId);
        Assert.Equal("aaaaaaaa-0000-0000-0000-000000000001", w.Operator.AppId);
        Assert.Equal("cccccccc-0000-0000-0000-000000000003", h.Sub);
        var acr = w.FindRegistry("FABRIKAMACR")!;
        Assert.False(acr.PublicNetworkAccess);
        Assert.True(acr.AbacMode);
        Assert.Same(acr.Name, w.FindRegistry(acr.LoginServer)!.Name == acr.Name ? acr.Name : null);
        var ci = w.FindPrincipal("bbbbbbbb-0000-0000-0000-000000000002")!;
        Assert.True(w.IsAllowed(ci.ObjectId, "Microsoft.ContainerRegistry/registries/pull/read", acr.Id));
        var vm = w.GetIdentities($"/subscriptions/{h.Sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1")!;
        Assert.Null(vm.SystemAssigned);
        Assert.Equal("uid", vm.UserAssigned.Single().Principal.DisplayName);
        var web = w.GetIdentities($"/subscriptions/{h.Sub}/resourceGroups/rg/providers/Microsoft.Web/sites/web1")!;
        var slot = w.GetIdentities($"/subscriptions/{h.Sub}/resourceGroups/rg/providers/Microsoft.Web/sites/web1/slots/staging")!;
        Assert.NotEqual(web.SystemAssigned!.ObjectId, slot.SystemAssigned!.ObjectId);
        Assert.Equal("web1/slots/staging", slot.SystemAssigned.DisplayName);
        Assert.True(w.IsAllowed(web.SystemAssigned.ObjectId, "Microsoft.ContainerRegistry/registries/pull/read", acr.Id));
        Assert.Contains(w.IdentityCapableResources(), r => r.Type == "Microsoft.Web/sites/slots");
        Assert.True(w.CheckClientSecret("aaaaaaaa-0000-0000-0000-000000000001", "op-secret"));
        Assert.False(w.CheckClientSecret("aaaaaaaa-0000-0000-0000-000000000001", "wrong"));
    }

    [Fact]
    public async Task Endpoints_file_carries_the_world_part()
    {
        await using var h = await ArmHarness.StartAsync();
        var e = JsonNode.Parse(await File.ReadAllTextAsync(h.Host.EndpointsFile))!;
        Assert.Equal(h.World.TenantId, e["tenantId"]!.GetValue<string>());
        Assert.Equal(h.Sub, e["subscriptionIds"]![0]!.GetValue<string>());
        Assert.Equal(h.World.Operator.ObjectId, e["operator"]!["principalId"]!.GetValue<string>());
        Assert.Equal(h.World.Operator.AppId, e["operator"]!["clientId"]!.GetValue<string>());
        Assert.True(h.World.CheckClientSecret(h.World.Operator.AppId!, e["operator"]!["clientSecret"]!.GetValue<string>()));
        Assert.Equal(h.RegistryId, e["registries"]!["myContainerRegistry"]!["id"]!.GetValue<string>());
        Assert.Equal(h.World.FindRegistry("myContainerRegistry")!.LoginServer, e["registries"]!["myContainerRegistry"]!["loginServer"]!.GetValue<string>());
        Assert.StartsWith("https://127.0.0.1:", e["armEndpoint"]!.GetValue<string>());
        // The operator is Owner of the subscription.
        Assert.Contains(h.World.AssignmentsAt(h.World.Operator.ObjectId, h.RgId), a => a.Definition.RoleName == "Owner");
    }

    [Fact]
    public void Bad_scenarios_fail_with_the_source_named()
    {
        var world = new World.World();
        var loader = new ScenarioLoader(world, new Behaviour.Behaviours());
        var e = Assert.Throws<ScenarioException>(() => loader.Apply("{ \"subscriptions\": [ ", "broken.json"));
        Assert.StartsWith("broken.json:", e.Message);
        e = Assert.Throws<ScenarioException>(() => loader.Apply("""
            { "subscriptions": [ { "resourceGroups": [ { "name": "rg", "resources": [ { "type": "registry", "name": "x!" } ] } ] } ] }
            """, "bad-name.json"));
        Assert.Contains("x!", e.Message);
    }

    [Fact]
    public void Removing_a_system_identity_orphans_assignments_and_ids_keep_their_casing()
    {
        var world = new World.World();
        world.EnsureDefaults();
        var sub = world.Subscriptions[0].SubscriptionId;
        world.AddResourceGroup(sub, "MixedCase");
        var id = $"/subscriptions/{sub}/resourcegroups/mixedcase/providers/microsoft.web/sites/App1";
        var created = World.ResourceOps.Write(world, id, new JsonObject { ["location"] = "westus", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" } },
            patch: false, new World.WriteContext());
        Assert.Null(created.Error);
        Assert.Equal($"/subscriptions/{sub}/resourceGroups/MixedCase/providers/Microsoft.Web/sites/App1", created.Entry!.Id);
        var pid = world.GetIdentities(id.ToUpperInvariant())!.SystemAssigned!.ObjectId;
        world.AddRoleAssignment(created.Entry.Id, "AcrPull", pid);
        world.DeleteResource(id);
        Assert.Null(world.FindPrincipal(pid));
        Assert.NotNull(world.FindPrincipal(pid, includeDeleted: true)!.DeletedAt);
        Assert.Single(world.RoleAssignments(), a => a.PrincipalId == pid);
    }
}
