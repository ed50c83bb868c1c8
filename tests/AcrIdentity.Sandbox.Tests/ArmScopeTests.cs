using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Tests;

public sealed class ArmScopeTests(ArmFixture f) : IClassFixture<ArmFixture>
{
    readonly ArmHarness H = f.H;

    [Fact]
    public async Task Management_group_assignment_is_inherited_by_the_subscription_tree()
    {
        var root = $"/providers/Microsoft.Management/managementGroups/{H.World.TenantId}";
        var sp = H.World.AddServicePrincipal("mg-sp", createdAt: DateTimeOffset.UnixEpoch);
        H.World.AddRoleAssignment(root, "User Access Administrator", H.World.Operator.ObjectId);
        var name = Guid.NewGuid().ToString();
        var (status, body, _) = await H.PutAsync($"{root}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01", new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["roleDefinitionId"] = "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
                ["principalId"] = sp.ObjectId,
            },
        });
        Assert.Equal(201, status);
        Assert.Equal(root, body!["properties"]!["scope"]!.GetValue<string>());
        Assert.Equal("/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
            body["properties"]!["roleDefinitionId"]!.GetValue<string>());
        Assert.True(H.World.IsAllowed(sp.ObjectId, "Microsoft.Web/sites/read", $"{H.RgId}/providers/Microsoft.Web/sites/myLinuxApp"));

        (status, body, _) = await H.GetAsync($"/providers/Microsoft.Management/managementGroups/nope/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01");
        Assert.Equal(404, status);
        Assert.Equal("ManagementGroupNotFound", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Scale_set_identity_and_function_app_kind()
    {
        var vmss = $"{H.RgId}/providers/Microsoft.Compute/virtualMachineScaleSets/ss1?api-version=2024-11-01";
        var (status, _, resp) = await H.PutAsync(vmss, new JsonObject { ["location"] = "westus", ["sku"] = new JsonObject { ["name"] = "Standard_B2s", ["capacity"] = 2 } });
        Assert.Equal(201, status);
        Assert.True(resp.Headers.Contains("Azure-AsyncOperation"));
        var (st, body, _) = await H.PatchAsync(vmss, new JsonObject { ["identity"] = new JsonObject { ["type"] = "SystemAssigned" } });
        Assert.Equal(200, st);
        Assert.NotNull(H.World.FindPrincipal(body!["identity"]!["principalId"]!.GetValue<string>()));
        Assert.Equal(2, body["sku"]!["capacity"]!.GetValue<int>());

        var func = $"{H.RgId}/providers/Microsoft.Web/sites/func1?api-version=2024-11-01";
        (st, body, _) = await H.PutAsync(func, new JsonObject { ["location"] = "westus", ["kind"] = "functionapp,linux,container" });
        Assert.Equal(200, st);
        Assert.Equal("functionapp,linux,container", body!["kind"]!.GetValue<string>());
        Assert.True(body["properties"]!["reserved"]!.GetValue<bool>());
        (st, body, _) = await H.GetAsync($"/subscriptions/{H.Sub}/providers/Microsoft.Web/sites?api-version=2024-11-01");
        Assert.Contains(body!["value"]!.AsArray(), s => s!["name"]!.GetValue<string>() == "func1");
    }

    [Fact]
    public async Task Head_on_a_resource_group_and_caller_permissions()
    {
        var (status, _, _) = await H.SendAsync(HttpMethod.Head, $"{H.RgId}?api-version=2021-04-01");
        Assert.Equal(204, status);
        (status, _, _) = await H.SendAsync(HttpMethod.Head, $"/subscriptions/{H.Sub}/resourcegroups/absent?api-version=2021-04-01");
        Assert.Equal(404, status);

        var (st, body, _) = await H.GetAsync($"{H.RegistryId}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01", "reader-app");
        Assert.Equal(200, st);
        Assert.Equal("*/read", body!["value"]![0]!["actions"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_paths_types_and_actions_are_404()
    {
        var (status, body, _) = await H.GetAsync($"{H.RgId}/providers/Microsoft.Web/nosuchtypes/x?api-version=2024-11-01");
        Assert.Equal(404, status);
        Assert.Equal("InvalidResourceType", ArmHarness.Code(body));
        // runCommand has a handler (Arm/RunCommandArea.cs); restart has none.
        (status, body, _) = await H.SendAsync(HttpMethod.Post, $"{H.RgId}/providers/Microsoft.Compute/virtualMachines/myDockerVM/restart?api-version=2024-11-01",
            new JsonObject());
        Assert.Equal(404, status);
        (status, body, _) = await H.GetAsync($"/subscriptions/{H.Sub}/nothing?api-version=2021-04-01");
        Assert.Equal(404, status);
        Assert.Equal("NotFound", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Registered_actions_answer_posts()
    {
        Arm.ArmActions.Register("Microsoft.Compute/virtualMachines", "testEcho", (r, res) =>
            Arm.ArmHttp.Json(r.Http, 200, new JsonObject { ["on"] = res.Id }));
        var (status, body, _) = await H.SendAsync(HttpMethod.Post, $"{H.RgId}/providers/Microsoft.Compute/virtualMachines/MYDOCKERVM/testEcho?api-version=2024-11-01", new JsonObject());
        Assert.Equal(200, status);
        Assert.Equal($"{H.RgId}/providers/Microsoft.Compute/virtualMachines/myDockerVM", body!["on"]!.GetValue<string>());
        (status, _, _) = await H.SendAsync(HttpMethod.Post, $"{H.RgId}/providers/Microsoft.Compute/virtualMachines/myDockerVM/testEcho?api-version=2024-11-01", new JsonObject(), "reader-app");
        Assert.Equal(403, status);
    }
}
