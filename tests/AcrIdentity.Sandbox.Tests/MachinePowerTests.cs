using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Scenario;

namespace AcrIdentity.Sandbox.Tests;

/// <summary>deallocate / powerOff / start on VMs, scale sets and their instances, as ARM long-running operations,
/// the instance views that show them, and Run Command refusing a machine that is not running.</summary>
public sealed class MachinePowerTests(ArmFixture f) : IClassFixture<ArmFixture>
{
    const string V = "?api-version=2024-11-01";
    readonly ArmHarness H = f.H;

    async Task<string> ScaleSetAsync(int capacity)
    {
        var id = $"{H.RgId}/providers/Microsoft.Compute/virtualMachineScaleSets/ss{Guid.NewGuid():N}"[..^20];
        var (status, _, _) = await H.PutAsync(id + V, new JsonObject
        {
            ["location"] = "westus", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
            ["sku"] = new JsonObject { ["name"] = "Standard_B2s", ["capacity"] = capacity },
        });
        Assert.Equal(201, status);
        return id;
    }

    async Task<string> VmAsync()
    {
        var id = $"{H.RgId}/providers/Microsoft.Compute/virtualMachines/vm{Guid.NewGuid():N}"[..^20];
        var (status, _, _) = await H.PutAsync(id + V, new JsonObject { ["location"] = "westus", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" } });
        Assert.Equal(201, status);
        return id;
    }

    /// <summary>POSTs an action and follows the operation as az does: 202, Azure-AsyncOperation until Succeeded, then the Location result.</summary>
    async Task ActAsync(string path, JsonObject? body = null)
    {
        var (status, reply, resp) = await H.SendAsync(HttpMethod.Post, path + V, body);
        Assert.True(status == 202, $"{status} {reply}");
        var (st, op, _) = await H.GetAsync(resp.Headers.GetValues("Azure-AsyncOperation").Single());
        Assert.Equal(200, st);
        Assert.Equal("Succeeded", op!["status"]!.GetValue<string>());
        (st, var result, _) = await H.GetAsync(resp.Headers.Location!.ToString());
        Assert.Equal(200, st);
        Assert.Null(result);
    }

    async Task<string[]> PowerStatesAsync(string vmss)
    {
        var (status, body, _) = await H.GetAsync($"{vmss}/virtualMachines{V}&$expand=instanceView");
        Assert.Equal(200, status);
        return body!["value"]!.AsArray().Select(i => PowerOf(i!)).ToArray();
    }

    static string PowerOf(JsonNode machine) => machine["properties"]!["instanceView"]!["statuses"]!.AsArray()
        .Select(s => s!["code"]!.GetValue<string>()).Single(c => c.StartsWith("PowerState/", StringComparison.Ordinal));

    static JsonObject Script() => new() { ["commandId"] = "RunShellScript", ["script"] = new JsonArray("echo probe") };

    [Fact]
    public async Task Scale_set_and_instance_actions_change_the_instance_views()
    {
        string vmss = await ScaleSetAsync(3);
        Assert.Equal(["PowerState/running", "PowerState/running", "PowerState/running"], await PowerStatesAsync(vmss));

        await ActAsync($"{vmss}/deallocate", new JsonObject { ["instanceIds"] = new JsonArray("0", "2") });
        Assert.Equal(["PowerState/deallocated", "PowerState/running", "PowerState/deallocated"], await PowerStatesAsync(vmss));

        await ActAsync($"{vmss}/virtualMachines/1/powerOff");
        Assert.Equal(["PowerState/deallocated", "PowerState/stopped", "PowerState/deallocated"], await PowerStatesAsync(vmss));
        var (status, one, _) = await H.GetAsync($"{vmss}/virtualMachines/1{V}&$expand=instanceView");
        Assert.Equal(200, status);
        Assert.Equal("PowerState/stopped", PowerOf(one!));

        // No body = every instance; az vmss start sends ["*"].
        await ActAsync($"{vmss}/start");
        Assert.All(await PowerStatesAsync(vmss), s => Assert.Equal("PowerState/running", s));
        await ActAsync($"{vmss}/powerOff", new JsonObject { ["instanceIds"] = new JsonArray("*") });
        Assert.All(await PowerStatesAsync(vmss), s => Assert.Equal("PowerState/stopped", s));
        await ActAsync($"{vmss}/virtualMachines/2/start");
        Assert.Equal("PowerState/running", (await PowerStatesAsync(vmss))[2]);
    }

    [Fact]
    public async Task Unknown_instances_and_callers_without_the_action_are_refused()
    {
        string vmss = await ScaleSetAsync(2);
        var (status, body, _) = await H.SendAsync(HttpMethod.Post, $"{vmss}/deallocate{V}", new JsonObject { ["instanceIds"] = new JsonArray("0", "9") });
        Assert.Equal(400, status);
        Assert.Equal("InvalidParameter", ArmHarness.Code(body));
        Assert.Equal("The provided instanceId 9 is not an active Virtual Machine Scale Set VM instanceId.", ArmHarness.Message(body));
        Assert.Equal(["PowerState/running", "PowerState/running"], await PowerStatesAsync(vmss));

        (status, body, _) = await H.SendAsync(HttpMethod.Post, $"{vmss}/deallocate{V}", null, "reader-app");
        Assert.Equal(403, status);
        Assert.Contains("Microsoft.Compute/virtualMachineScaleSets/deallocate/action", ArmHarness.Message(body));
        (status, _, _) = await H.SendAsync(HttpMethod.Post, $"{vmss}/virtualMachines/5/start{V}");
        Assert.Equal(404, status);
    }

    [Fact]
    public async Task Run_command_is_refused_on_a_stopped_or_deallocated_machine_as_Azure_refuses_it()
    {
        string vmss = await ScaleSetAsync(2);
        await ActAsync($"{vmss}/virtualMachines/0/deallocate");
        var (status, body, _) = await H.SendAsync(HttpMethod.Post, $"{vmss}/virtualMachines/0/runCommand{V}", Script());
        Assert.Equal(409, status);
        Assert.Equal("OperationNotAllowed", ArmHarness.Code(body));
        Assert.Equal("The operation requires the VM to be running (or set to run).", ArmHarness.Message(body));
        (status, _, _) = await H.SendAsync(HttpMethod.Post, $"{vmss}/virtualMachines/1/runCommand{V}", Script());
        Assert.Equal(202, status);

        string vm = await VmAsync();
        await ActAsync($"{vm}/powerOff");
        var (st, shown, _) = await H.GetAsync($"{vm}{V}&$expand=instanceView");
        Assert.Equal(200, st);
        Assert.Equal("PowerState/stopped", PowerOf(shown!));
        (status, body, _) = await H.SendAsync(HttpMethod.Post, $"{vm}/runCommand{V}", Script());
        Assert.Equal(409, status);
        Assert.Equal("OperationNotAllowed", ArmHarness.Code(body));

        await ActAsync($"{vm}/deallocate");
        (_, shown, _) = await H.GetAsync($"{vm}{V}&$expand=instanceView");
        Assert.Equal("PowerState/deallocated", PowerOf(shown!));
        // powerOff has nothing to stop on a deallocated VM.
        await ActAsync($"{vm}/powerOff");
        (_, shown, _) = await H.GetAsync($"{vm}{V}&$expand=instanceView");
        Assert.Equal("PowerState/deallocated", PowerOf(shown!));
        // A plain GET has no instance view.
        (_, shown, _) = await H.GetAsync(vm + V);
        Assert.Null(shown!["properties"]!["instanceView"]);

        await ActAsync($"{vm}/start");
        (status, _, _) = await H.SendAsync(HttpMethod.Post, $"{vm}/runCommand{V}", Script());
        Assert.Equal(202, status);
    }

    [Fact]
    public async Task While_the_operation_runs_the_instance_view_shows_the_transition()
    {
        string vmss = await ScaleSetAsync(1);
        var clock = H.World.Clock;
        var now = DateTimeOffset.UtcNow;
        H.World.Clock = () => now;
        H.Host.Behaviours.LroDurations["virtualMachines"] = TimeSpan.FromSeconds(30);
        try
        {
            var (status, _, resp) = await H.SendAsync(HttpMethod.Post, $"{vmss}/deallocate{V}");
            Assert.Equal(202, status);
            Assert.Equal(["PowerState/deallocating"], await PowerStatesAsync(vmss));
            var (_, op, _) = await H.GetAsync(resp.Headers.GetValues("Azure-AsyncOperation").Single());
            Assert.Equal("InProgress", op!["status"]!.GetValue<string>());
            (status, _, _) = await H.SendAsync(HttpMethod.Post, $"{vmss}/virtualMachines/0/runCommand{V}", Script());
            Assert.Equal(409, status);

            now += TimeSpan.FromSeconds(31);
            Assert.Equal(["PowerState/deallocated"], await PowerStatesAsync(vmss));
            (_, op, _) = await H.GetAsync(resp.Headers.GetValues("Azure-AsyncOperation").Single());
            Assert.Equal("Succeeded", op!["status"]!.GetValue<string>());

            (status, _, _) = await H.SendAsync(HttpMethod.Post, $"{vmss}/start{V}");
            Assert.Equal(202, status);
            Assert.Equal(["PowerState/starting"], await PowerStatesAsync(vmss));
            // "running (or set to run)": a starting machine is not refused.
            Assert.True(H.World.IsSetToRun($"{vmss}/virtualMachines/0"));
        }
        finally
        {
            H.Host.Behaviours.LroDurations.TryRemove("virtualMachines", out _);
            H.World.Clock = clock;
        }
    }

    [Fact]
    public void A_scenario_seeds_stopped_machines_and_refuses_bad_power_states()
    {
        var world = new World.World();
        new ScenarioLoader(world, new Behaviour.Behaviours()).Apply("""
            { "subscriptions": [ { "resourceGroups": [ { "name": "rg", "resources": [
              { "type": "vm", "name": "off", "powerState": "deallocated" },
              { "type": "vmss", "name": "half", "sku": { "capacity": 3 }, "powerState": { "0": "deallocated", "2": "stopped" } },
              { "type": "vmss", "name": "cold", "sku": { "capacity": 2 }, "powerState": "deallocated" }
            ] } ] } ] }
            """, "power.json");
        var rg = $"/subscriptions/{world.Subscriptions[0].SubscriptionId}/resourceGroups/rg/providers/Microsoft.Compute";
        Assert.Equal("deallocated", world.PowerStateOf($"{rg}/virtualMachines/off"));
        Assert.Equal(["deallocated", "running", "stopped"], Enumerable.Range(0, 3).Select(i => world.PowerStateOf($"{rg}/virtualMachineScaleSets/half/virtualMachines/{i}")));
        Assert.Equal(["deallocated", "deallocated"], Enumerable.Range(0, 2).Select(i => world.PowerStateOf($"{rg}/virtualMachineScaleSets/cold/virtualMachines/{i}")));
        // The body keeps no trace of the scenario-only member.
        Assert.Null(world.GetResource($"{rg}/virtualMachines/off")!["powerState"]);

        foreach (var (resource, expected) in new[]
        {
            ("""{ "type": "vm", "name": "x", "powerState": "sleeping" }""", "not one of running, stopped, deallocated"),
            ("""{ "type": "vmss", "name": "x", "sku": { "capacity": 1 }, "powerState": { "4": "stopped" } }""", "instance '4'"),
            ("""{ "type": "registry", "name": "xregistry", "powerState": "stopped" }""", "vm and vmss resources only"),
        })
        {
            var e = Assert.Throws<ScenarioException>(() => new ScenarioLoader(new World.World(), new Behaviour.Behaviours()).Apply(
                $$"""{ "subscriptions": [ { "resourceGroups": [ { "name": "rg", "resources": [ {{resource}} ] } ] } ] }""", "bad-power.json"));
            Assert.Contains(expected, e.Message);
        }
    }
}
