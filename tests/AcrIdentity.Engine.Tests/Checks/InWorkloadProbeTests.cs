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
        Host = await SandboxHost.StartAsync(new SandboxOptions { StateDir = _stateDir, CaDir = caDir, ScenarioJson = scenario.ToJsonString() });
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

    private async Task<PullAccessReport> TestAsync(EnableWorld w, string vm, string registry, bool inWorkload = true)
    {
        var reports = await new PullAccessTester(w.Context, new RecordingHost())
            .TestAsync(new PullAccessRequest { ResourceId = vm, Registry = registry, Image = "aci-helloworld:v1", InWorkload = inWorkload }, CancellationToken.None);
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

    [Fact]
    public async Task Vm_with_AcrPull_passes_the_probe_then_fails_at_the_token_step_once_the_role_is_revoked()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        string reg = RegistryId(w, "probeacr");
        string vm = await VmWithPullAsync(w, reg);

        var healthy = await TestAsync(w, vm, reg);
        PullCheck pass = healthy["InWorkloadProbe"]!;
        Assert.True(pass.Result == CheckResult.Pass, Dump(healthy));
        Assert.Contains("HEAD manifest aci-helloworld:v1 200", pass.Message);
        Assert.True(healthy.CanPull, Dump(healthy));

        foreach (var a in await w.AssignmentsAsync(reg)) await w.Arm.DeleteAsync((string)a["id"]!, CancellationToken.None);
        var revoked = await TestAsync(w, vm, reg);
        PullCheck fail = revoked["InWorkloadProbe"]!;
        Assert.True(fail.Result == CheckResult.Fail, Dump(revoked));
        Assert.Contains("imds → exchange ok, then /oauth2/token (scope repository:aci-helloworld:pull)", fail.Message);
        Assert.Contains("aci-helloworld", fail.Fix);
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
        string vmss = await w.VmAsync("""{"type":"SystemAssigned"}""", scaleSet: true);
        var r = await TestAsync(w, vmss, reg);
        Assert.Equal(CheckResult.Skipped, r["InWorkloadProbe"]!.Result);
        Assert.Contains("scale set", r["InWorkloadProbe"]!.Message);
    }
}
