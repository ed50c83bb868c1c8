using System.Text.Json.Nodes;
using AcrIdentity.Engine.Checks;
using AcrIdentity.Engine.Tests.Configure;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox;
using Xunit.Abstractions;

namespace AcrIdentity.Engine.Tests.Checks;

/// <summary>A sandbox with running registries (the shared one has none), so the probe's manifest HEAD is real.</summary>
public sealed class ProbeSandbox : IAsyncLifetime
{
    public SandboxHost Host { get; private set; } = null!;
    private readonly string _stateDir = Directory.CreateTempSubdirectory("acrid-probe-sbx").FullName;

    public async Task InitializeAsync()
    {
        string? caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        Assert.False(string.IsNullOrEmpty(caDir) || string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SSL_CERT_FILE")),
            "Run through tests/run (SSL_CERT_FILE and ACRIDENTITY_SANDBOX_CA_DIR must name the sandbox CA).");
        var scenario = JsonNode.Parse("""
            {"defaultLocation":"westus","subscriptions":[{"displayName":"Sandbox Subscription","resourceGroups":[{"name":"probe","location":"westus","resources":[
              {"type":"registry","name":"probeacr","sku":{"name":"Premium"},"properties":{},"images":["aci-helloworld:v1"]},
              {"type":"registry","name":"probeabac","sku":{"name":"Premium"},"properties":{"roleAssignmentMode":"AbacRepositoryPermissions"},"images":["aci-helloworld:v1"]}
            ]}]}]}
            """)!;
        Host = await SandboxHost.StartAsync(new SandboxOptions
        {
            StateDir = _stateDir, CaDir = caDir, ScenarioJson = scenario.ToJsonString(), PowerShell = PwshHostDll(),
        });
    }

    /// <summary>tools/PwshHost, our pwsh stand-in, runs Run Command's RunPowerShellScript (built with this project).</summary>
    public static string PwshHostDll()
    {
        // We run from tests/AcrIdentity.Engine.Tests/bin/<config>/net10.0/.
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/', '\\'));
        string config = baseDir.Parent!.Name;
        for (var dir = baseDir; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AcrIdentity.sln")))
            {
                string dll = Path.Combine(dir.FullName, "tools", "PwshHost", "bin", config, "net10.0", "PwshHost.dll");
                Assert.True(File.Exists(dll), $"{dll} is not built (build the solution first)");
                return dll;
            }
        }
        throw new InvalidOperationException("AcrIdentity.sln not found above " + AppContext.BaseDirectory);
    }

    public async Task DisposeAsync()
    {
        if (Host != null) await Host.DisposeAsync();
        try { Directory.Delete(_stateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// -InWorkload: the probe runs in the VM (the sandbox runs Run Command's script locally as the VM's identity),
/// and the check names the step that failed with the registry's answer.
/// </summary>
public sealed class InWorkloadProbeTests : IClassFixture<ProbeSandbox>
{
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private readonly ProbeSandbox _sbx;
    private readonly ITestOutputHelper _out;

    public InWorkloadProbeTests(ProbeSandbox sandbox, ITestOutputHelper output) => (_sbx, _out) = (sandbox, output);

    private string RegistryId(EnableWorld w, string name) =>
        $"/subscriptions/{w.SubscriptionId}/resourceGroups/probe/providers/Microsoft.ContainerRegistry/registries/{name}";

    private async Task<PullAccessReport> TestAsync(EnableWorld w, string vm, string registry, bool inWorkload = true, string? instanceId = null, RecordingHost? host = null,
        string image = "aci-helloworld:v1")
    {
        var reports = await new PullAccessTester(w.Context, host ?? new RecordingHost())
            .TestAsync(new PullAccessRequest { ResourceId = vm, Registry = registry, Image = image, InWorkload = inWorkload, InstanceId = instanceId }, CancellationToken.None);
        var r = Assert.Single(reports);
        Assert.Equal(PullAccessTester.CheckIds, r.Checks.Select(c => c.Id));
        Assert.DoesNotContain(r.Checks, c => (c.Message + c.Fix).Contains("eyJ", StringComparison.Ordinal));
        _out.WriteLine($"{r["InWorkloadProbe"]!.Result}: {r["InWorkloadProbe"]!.Message} | fix: {r["InWorkloadProbe"]!.Fix}");
        return r;
    }

    private static string Dump(PullAccessReport r) => string.Join("\n", r.Checks.Select(c => $"{c.Id}: {c.Result} — {c.Message} | fix: {c.Fix}"));

    private static async Task<string> VmWithPullAsync(EnableWorld w, string registry)
    {
        string vm = await w.VmAsync("""{"type":"SystemAssigned"}""");
        await w.AssignAsync(registry, AcrPull, (string)(await w.GetAsync(vm))["identity"]!["principalId"]!);
        return vm;
    }

    /// <summary>The probe got past IMDS and the exchange and the registry refused the repository-scoped token.</summary>
    private static PullCheck StoppedAtScopedToken(PullAccessReport r)
    {
        PullCheck c = r["InWorkloadProbe"]!;
        Assert.True(c.Result == CheckResult.Fail, Dump(r));
        Assert.Contains("exchange ok, then /oauth2/token (scope repository:aci-helloworld:pull)", c.Message);
        return c;
    }

    private static async Task<string> PrincipalAsync(EnableWorld w, string id) => (string)(await w.GetAsync(id))["identity"]!["principalId"]!;

    /// <summary>A Uniform scale set with a system identity and <paramref name="capacity"/> instances.</summary>
    private static async Task<string> ScaleSetAsync(EnableWorld w, int capacity, string os = "Linux")
    {
        var set = await w.PutAsync($"{w.GroupId}/providers/Microsoft.Compute/virtualMachineScaleSets/{EnableWorld.Unique("myScaleSet")}",
            new JsonObject
            {
                ["location"] = "westus",
                ["sku"] = new JsonObject { ["name"] = "Standard_D2s_v3", ["tier"] = "Standard", ["capacity"] = capacity },
                ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
                ["properties"] = JsonNode.Parse("""{"orchestrationMode":"Uniform","virtualMachineProfile":{"storageProfile":{"osDisk":{"osType":"OS"}}}}""".Replace("OS\"", os + "\"")),
            }.ToJsonString());
        return (string)set["id"]!;
    }

    private static async Task<string> VmAsync(EnableWorld w, string os)
    {
        var vm = await w.PutAsync($"{w.GroupId}/providers/Microsoft.Compute/virtualMachines/{EnableWorld.Unique("myDockerVM")}",
            """{"location":"westus","identity":{"type":"SystemAssigned"},"properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},"storageProfile":{"osDisk":{"osType":"OS"}}}}""".Replace("OS\"", os + "\""));
        return (string)vm["id"]!;
    }

    [Fact]
    public async Task Scale_set_with_AcrPull_passes_in_its_first_instance_or_the_one_asked_for_and_names_it()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeacr");
        string vmss = await ScaleSetAsync(w, capacity: 2);
        await w.AssignAsync(reg, AcrPull, await PrincipalAsync(w, vmss));
        string name = vmss.Split('/').Last();

        var host = new RecordingHost();
        var first = await TestAsync(w, vmss, reg, host: host);
        PullCheck pass = first["InWorkloadProbe"]!;
        Assert.True(pass.Result == CheckResult.Pass, Dump(first));
        Assert.StartsWith($"Inside {name} instance 0 as ", pass.Message);
        Assert.Contains("HEAD manifest aci-helloworld:v1 200", pass.Message);
        Assert.Contains(host.Verbose, l => l.Contains("has 2 instance(s); probing instance 0", StringComparison.Ordinal));

        var second = await TestAsync(w, vmss, reg, instanceId: "1");
        Assert.True(second["InWorkloadProbe"]!.Result == CheckResult.Pass, Dump(second));
        Assert.StartsWith($"Inside {name} instance 1 as ", second["InWorkloadProbe"]!.Message);
    }

    [Fact]
    public async Task Scale_set_without_AcrPull_fails_at_the_scoped_token_step_with_the_fix()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeacr");
        string vmss = await ScaleSetAsync(w, capacity: 1);
        PullCheck c = StoppedAtScopedToken(await TestAsync(w, vmss, reg));
        Assert.Contains("instance 0", c.Message);
        Assert.Contains("AcrPull", c.Fix);
        Assert.Contains("Enable-AcrManagedIdentityPull", c.Fix);
    }

    [Fact]
    public async Task Scale_set_with_no_instances_is_skipped_with_the_fix_and_a_missing_instance_is_an_error()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeacr");
        string empty = await ScaleSetAsync(w, capacity: 0);
        var r = await TestAsync(w, empty, reg);
        PullCheck c = r["InWorkloadProbe"]!;
        Assert.Equal(CheckResult.Skipped, c.Result);
        Assert.Contains("has no instances", c.Message);
        Assert.Contains("--new-capacity 1", c.Fix);

        string vmss = await ScaleSetAsync(w, capacity: 2);
        var missing = await Assert.ThrowsAsync<AcrIdentity.Engine.Errors.EngineException>(() => TestAsync(w, vmss, reg, instanceId: "7"));
        Assert.Equal("InstanceNotFound", missing.Reason);
        Assert.Contains("its instances are 0, 1", missing.Message);

        string vm = await w.VmAsync("""{"type":"SystemAssigned"}""");
        var notSet = await Assert.ThrowsAsync<AcrIdentity.Engine.Errors.EngineException>(() => TestAsync(w, vm, reg, instanceId: "0"));
        Assert.Equal("InstanceIdNotApplicable", notSet.Reason);
    }

    /// <summary>As a user would stop machines: POST {machine}/{deallocate|powerOff}, an ARM long-running operation.</summary>
    private static Task PowerAsync(EnableWorld w, string machine, string action, params string[] instanceIds) =>
        w.Arm.PostAsync($"{machine}/{action}", instanceIds.Length == 0 ? null : new JsonObject { ["instanceIds"] = new JsonArray(instanceIds.Select(i => (JsonNode?)i).ToArray()) }, CancellationToken.None);

    /// <summary>A scale set with AcrPull on probeacr, then <paramref name="stop"/> stops some of its instances.</summary>
    private async Task<(EnableWorld W, string Registry, string ScaleSet, string Name, string Group)> StoppedScaleSetAsync(int capacity, Func<EnableWorld, string, Task> stop)
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeacr");
        string vmss = await ScaleSetAsync(w, capacity);
        await w.AssignAsync(reg, AcrPull, await PrincipalAsync(w, vmss));
        await stop(w, vmss);
        return (w, reg, vmss, vmss.Split('/').Last(), w.GroupId.Split('/').Last());
    }

    /// <summary>The probe could not run: Skipped, and a stopped machine says nothing about pull access, so the other checks decide CanPull.</summary>
    private static PullCheck SkippedWithPullDecidedElsewhere(PullAccessReport r)
    {
        PullCheck c = r["InWorkloadProbe"]!;
        Assert.True(c.Result == CheckResult.Skipped, Dump(r));
        Assert.True(r.CanPull, Dump(r));
        return c;
    }

    [Fact]
    public async Task Scale_set_with_every_instance_deallocated_is_skipped_with_the_start_command()
    {
        var (w, reg, vmss, name, rg) = await StoppedScaleSetAsync(2, (w, s) => PowerAsync(w, s, "deallocate"));
        PullCheck c = SkippedWithPullDecidedElsewhere(await TestAsync(w, vmss, reg));
        Assert.Contains($"none of the 2 instance(s) of scale set {name} is running (0: deallocated, 1: deallocated)", c.Message);
        Assert.Equal($"Start an instance (az vmss start --resource-group {rg} --name {name} --instance-ids 0), then run again.", c.Fix);
    }

    [Fact]
    public async Task Scale_set_with_a_stopped_instance_probes_the_first_running_one_and_names_it()
    {
        var (w, reg, vmss, name, _) = await StoppedScaleSetAsync(3, async (w, s) =>
        {
            await PowerAsync(w, s, "deallocate", "0");
            await PowerAsync(w, s + "/virtualMachines/1", "powerOff");
        });

        var host = new RecordingHost();
        var r = await TestAsync(w, vmss, reg, host: host);
        PullCheck c = r["InWorkloadProbe"]!;
        Assert.True(c.Result == CheckResult.Pass, Dump(r));
        Assert.StartsWith($"Inside {name} instance 2 as ", c.Message);
        Assert.Contains(host.Verbose, l => l.Contains($"instance 2 is the first running instance of {name}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InstanceId_of_a_deallocated_instance_is_skipped_with_the_command_that_starts_it()
    {
        var (w, reg, vmss, name, rg) = await StoppedScaleSetAsync(2, (w, s) => PowerAsync(w, s, "deallocate", "1"));
        PullCheck c = SkippedWithPullDecidedElsewhere(await TestAsync(w, vmss, reg, instanceId: "1"));
        Assert.Equal($"Skipped: instance 1 of scale set {name} is not running (deallocated), so Run Command cannot run the probe in it.", c.Message);
        Assert.Equal($"Start it (az vmss start --resource-group {rg} --name {name} --instance-ids 1), then run again; or pass -InstanceId 0 (running), or leave -InstanceId out.", c.Fix);

        await w.Arm.PostAsync($"{vmss}/virtualMachines/1/start", null, CancellationToken.None);
        Assert.True((await TestAsync(w, vmss, reg, instanceId: "1"))["InWorkloadProbe"]!.Result == CheckResult.Pass);
    }

    [Fact]
    public async Task Deallocated_vm_is_skipped_saying_it_is_not_running_and_how_to_start_it()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeacr");
        string vm = await VmWithPullAsync(w, reg);
        await PowerAsync(w, vm, "deallocate");
        string name = vm.Split('/').Last();

        PullCheck c = SkippedWithPullDecidedElsewhere(await TestAsync(w, vm, reg));
        Assert.Equal($"Skipped: {name} is not running, so Run Command cannot run the probe in it (Azure: The operation requires the VM to be running (or set to run).).", c.Message);
        Assert.Equal($"Start it (az vm start --resource-group {w.GroupId.Split('/').Last()} --name {name}), then run again.", c.Fix);
    }

    [Fact]
    public async Task Windows_scale_set_instance_runs_the_PowerShell_probe()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeabac");
        string vmss = await ScaleSetAsync(w, capacity: 1, os: "Windows");
        await w.AssignAsync(reg, AcrPull, await PrincipalAsync(w, vmss));
        // ABAC: AcrPull alone grants no repository, which only the scoped token step shows.
        PullCheck c = StoppedAtScopedToken(await TestAsync(w, vmss, reg));
        Assert.Contains("instance 0", c.Message);
        Assert.Contains("Repository Reader", c.Fix);
    }

    [Theory]
    [InlineData("Linux", "RunShellScript")]
    [InlineData("Windows", "RunPowerShellScript")]
    public async Task Vm_with_AcrPull_passes_the_probe_then_fails_at_the_token_step_once_the_role_is_revoked(string os, string commandId)
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeacr");
        string vm = await VmAsync(w, os);
        await w.AssignAsync(reg, AcrPull, await PrincipalAsync(w, vm));

        var host = new RecordingHost();
        var healthy = await TestAsync(w, vm, reg, host: host);
        PullCheck pass = healthy["InWorkloadProbe"]!;
        Assert.True(pass.Result == CheckResult.Pass, Dump(healthy));
        Assert.Contains("HEAD manifest aci-helloworld:v1 200", pass.Message);
        Assert.True(healthy.CanPull, Dump(healthy));
        // The sandbox refuses a command for the other OS, so this is the script that ran.
        Assert.Contains(host.Verbose, l => l.Contains($"Run Command {commandId} on {vm.Split('/').Last()}", StringComparison.Ordinal));

        foreach (var a in await w.AssignmentsAsync(reg)) await w.Arm.DeleteAsync((string)a["id"]!, CancellationToken.None);
        PullCheck fail = StoppedAtScopedToken(await TestAsync(w, vm, reg));
        Assert.Contains("imds → exchange ok", fail.Message);
        Assert.Contains("aci-helloworld", fail.Fix);
    }

    [Fact]
    public async Task Underscores_in_repository_and_tag_reach_the_registry()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeacr");
        string vm = await VmWithPullAsync(w, reg);

        // Not pushed: the probe runs all the way to the manifest, which the registry does not have.
        PullCheck c = (await TestAsync(w, vm, reg, image: "my_app:v1_2"))["InWorkloadProbe"]!;
        Assert.Equal(CheckResult.Fail, c.Result);
        Assert.Contains("then HEAD manifest my_app:v1_2 answered 404", c.Message);
    }

    [Fact]
    public async Task Vm_without_identity_fails_at_the_imds_step()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeacr");
        string vm = await w.VmAsync();
        var r = await TestAsync(w, vm, reg);
        PullCheck c = r["InWorkloadProbe"]!;
        Assert.True(c.Result == CheckResult.Fail, Dump(r));
        Assert.Contains("the IMDS token failed (", c.Message);
        Assert.Contains("Enable-AcrManagedIdentityPull", c.Fix);
    }

    [Fact]
    public async Task Abac_registry_with_AcrPull_only_fails_at_the_scoped_token_step()
    {
        // The case a check that stops at /oauth2/exchange (az aks check-acr) reports as healthy.
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeabac");
        string vm = await VmWithPullAsync(w, reg);
        var r = await TestAsync(w, vm, reg);
        PullCheck c = r["InWorkloadProbe"]!;
        Assert.True(c.Result == CheckResult.Fail, Dump(r));
        Assert.Contains("exchange ok, then /oauth2/token (scope repository:aci-helloworld:pull)", c.Message);
        Assert.Contains("Repository Reader", c.Fix);
    }

    [Fact]
    public async Task Not_asked_or_not_a_vm_is_skipped_with_the_reason()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeacr");
        string vm = await VmWithPullAsync(w, reg);
        Assert.Contains("-InWorkload", (await TestAsync(w, vm, reg, inWorkload: false))["InWorkloadProbe"]!.Message);
        var app = await w.WebAppAsync("probeacr.azurecr.io", identityJson: """{"type":"SystemAssigned"}""");
        var r = await TestAsync(w, app, reg);
        Assert.Equal(CheckResult.Skipped, r["InWorkloadProbe"]!.Result);
        Assert.Contains("has no Run Command", r["InWorkloadProbe"]!.Message);
    }

    [Fact]
    public async Task Windows_vm_in_a_sandbox_without_PowerShell_fails_saying_so()
    {
        string stateDir = Directory.CreateTempSubdirectory("acrid-probe-nopwsh").FullName;
        var scenario = """
            {"defaultLocation":"westus","subscriptions":[{"displayName":"Sandbox Subscription","resourceGroups":[{"name":"probe","location":"westus","resources":[
              {"type":"registry","name":"probeacr","sku":{"name":"Premium"},"properties":{}},
              {"type":"vm","name":"winVm","identity":{"type":"SystemAssigned"},"properties":{"storageProfile":{"osDisk":{"osType":"Windows"}}}}
            ]}]}]}
            """;
        await using (var host = await SandboxHost.StartAsync(new SandboxOptions
        {
            StateDir = stateDir, CaDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR"), ScenarioJson = scenario,
            StartRegistries = false, PowerShell = Path.Combine(stateDir, "no-such-pwsh"),
        }))
        {
            var w = await EnableWorld.CreateAsync(host);
            string vm = $"/subscriptions/{w.SubscriptionId}/resourceGroups/probe/providers/Microsoft.Compute/virtualMachines/winVm";
            var r = await TestAsync(w, vm, RegistryId(w, "probeacr"));
            PullCheck c = r["InWorkloadProbe"]!;
            Assert.True(c.Result == CheckResult.Fail, Dump(r));
            Assert.Contains("ended ComponentStatus/StdOut/succeeded without the probe's answer", c.Message);
            Assert.Contains("no PowerShell to run RunPowerShellScript", c.Message);
            Assert.Contains("Windows PowerShell", c.Fix);
        }
        try { Directory.Delete(stateDir, recursive: true); } catch (IOException) { }
    }
}
