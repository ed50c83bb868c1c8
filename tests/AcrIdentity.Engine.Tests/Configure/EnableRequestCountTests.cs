using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox.Behaviour;

namespace AcrIdentity.Engine.Tests.Configure;

/// <summary>
/// What Enable costs in ARM requests, which users meet as throttling across a fleet (issue 9: fewer than the az
/// CLI's 8 for seed 000). Each write's reply is its read-back, so nothing is read twice.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class EnableRequestCountTests
{
    private readonly SandboxFixture _sbx;

    public EnableRequestCountTests(SandboxFixture sandbox) => _sbx = sandbox;

    /// <summary>Each ARM request since the mark as "METHOD what", what being the part of this test's world it hit.</summary>
    private List<string> ArmRequestsSince(int mark, string target, string registryId) =>
        _sbx.Host.Requests.Entries.Skip(mark)
            .Where(e => e.Kind == RequestKind.Arm)
            .Select(e => e.Method + " " + What(e.PathAndQuery.Split('?')[0], target, registryId))
            .ToList();

    private static string What(string path, string target, string registryId)
    {
        if (path.EndsWith("/providers/Microsoft.ContainerRegistry/registries", StringComparison.OrdinalIgnoreCase)) return "registries";
        if (path.StartsWith(registryId + "/providers/Microsoft.Authorization/roleAssignments/", StringComparison.OrdinalIgnoreCase)) return "roleAssignment";
        if (path.StartsWith(registryId + "/providers/Microsoft.Authorization/roleAssignments", StringComparison.OrdinalIgnoreCase)) return "roleAssignments";
        if (string.Equals(path, target, StringComparison.OrdinalIgnoreCase)) return "target";
        if (string.Equals(path, target + "/config/web", StringComparison.OrdinalIgnoreCase)) return "target/config/web";
        return path;
    }

    [Fact]
    public async Task A_first_Enable_of_a_web_app_takes_six_ARM_requests_and_a_rerun_four_reads()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string registryName = registryId.Split('/').Last();
        string app = await w.WebAppAsync(login);
        var request = new EnableRequest { ResourceId = app, Registry = registryName };

        int mark = _sbx.Host.Requests.Count;
        var first = Assert.Single(await w.EnableAsync(request));
        var firstRequests = ArmRequestsSince(mark, app, registryId);

        Assert.Null(first.Error);
        Assert.All(first.Steps, s => Assert.Equal(StepOutcome.Done, s.Outcome));
        // The reads the plan needs, then one request per step: the identity write's reply carries the principal ID
        // and the config write's reply the settings, so neither is read again.
        Assert.Equal(new[]
        {
            "GET registries", "GET target", "GET target/config/web",
            "PATCH target", "PUT roleAssignment", "PATCH target/config/web",
        }, firstRequests);
        Assert.False(string.IsNullOrEmpty(first.Identity!.PrincipalId));
        Assert.Equal((string)(await w.GetAsync(app))["identity"]!["principalId"]!, first.Identity.PrincipalId);

        mark = _sbx.Host.Requests.Count;
        var rerun = Assert.Single(await w.EnableAsync(request));
        var rerunRequests = ArmRequestsSince(mark, app, registryId);

        Assert.Null(rerun.Error);
        Assert.All(rerun.Steps, s => Assert.Equal(StepOutcome.AlreadyDone, s.Outcome));
        // "Already configured" rests on fresh reads of everything, the principal's role assignments included.
        Assert.Equal(new[] { "GET registries", "GET target", "GET target/config/web", "GET roleAssignments" }, rerunRequests);
    }

    /// <param name="targetReads">GETs of the target: only the plan's read (site and config/web for web apps). A write
    /// that runs long (202, Azure-AsyncOperation) would add the final GET that ARM's protocol ends with; the sandbox
    /// answers these writes at once here.</param>
    [Theory]
    [InlineData("webAppUserAssigned", 2)]
    [InlineData("vm", 1)]
    [InlineData("containerGroup", 1)]
    [InlineData("containerApp", 1)]
    public async Task No_target_is_read_back_after_its_own_write(string kind, int targetReads)
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, _, _) = await w.IdentityAsync();
        string target = kind switch
        {
            "vm" => await w.VmAsync(),
            "containerGroup" => await w.ContainerGroupAsync(login),
            "containerApp" => await w.ContainerAppAsync(login),
            _ => await w.WebAppAsync(login),
        };
        var request = new EnableRequest { ResourceId = target, Registry = registryId, UserAssignedIdentity = kind == "containerApp" ? null : uamiId };

        int mark = _sbx.Host.Requests.Count;
        var outcome = Assert.Single(await w.EnableAsync(request));
        var requests = ArmRequestsSince(mark, target, registryId);

        Assert.Null(outcome.Error);
        Assert.All(outcome.Steps, s => Assert.Equal(StepOutcome.Done, s.Outcome));
        var reads = requests.Where(r => r.StartsWith("GET target", StringComparison.Ordinal)).ToList();
        Assert.True(reads.Count == targetReads, string.Join(" | ", requests));
    }
}
