using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox.Behaviour;

namespace AcrIdentity.Engine.Tests.Configure;

/// <summary>
/// Azure's real failure modes: replication delay, throttling storms, server errors, and a failure at each write
/// in turn. Every case ends configured (at once or after a rerun) with exactly one role assignment.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class EnableResilienceTests : IDisposable
{
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private readonly SandboxFixture _sbx;

    public EnableResilienceTests(SandboxFixture sandbox)
    {
        _sbx = sandbox;
        Reset();
    }

    public void Dispose() => Reset();

    private void Reset() => _sbx.Host.Behaviours.Reset();

    private static async Task AssertConfiguredWebAppAsync(EnableWorld w, string app, string registryId)
    {
        var site = await w.GetAsync(app);
        string principal = (string)site["identity"]!["principalId"]!;
        var mine = (await w.AssignmentsAsync(registryId)).Where(a => (string?)a["properties"]!["principalId"] == principal).ToList();
        Assert.Single(mine);
        Assert.True((bool)(await w.GetAsync(app + "/config/web"))["properties"]!["acrUseManagedIdentityCreds"]!);
        Assert.Single(await w.AssignmentsAsync(registryId));
    }

    [Theory]
    [InlineData("PATCH", "/providers/Microsoft.Web/sites/", "Identity")]
    [InlineData("PUT", "/roleAssignments/", "RoleAssignment")]
    [InlineData("PATCH", "/config/web", "PullConfiguration")]
    public async Task A_lasting_failure_at_each_write_stops_there_and_a_rerun_finishes_with_one_assignment(string method, string path, string failingStep)
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        // PATCH on the site: the identity write (config/web is a separate path the rule below leaves alone).
        string match = path == "/providers/Microsoft.Web/sites/" ? app.Split("/providers/")[1] + "?" : path;
        var rule = _sbx.Host.Behaviours.Faults.Add(new FaultRule { Method = method, PathContains = match, Status = 500, Code = "InternalServerError", Message = "Injected.", Count = 1000 });

        var first = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId }));

        Assert.True(rule.TimesFired > 1, "the gateway retries a 500 before giving up");
        Assert.NotNull(first.Error);
        var failed = Assert.Single(first.Steps, s => s.Outcome == StepOutcome.Failed);
        Assert.Equal(failingStep, failed.Kind.ToString());
        Assert.All(first.Steps.SkipWhile(s => s != failed).Skip(1), s => Assert.Equal(StepOutcome.NotRun, s.Outcome));
        Assert.All(first.Steps.TakeWhile(s => s != failed), s => Assert.Equal(StepOutcome.Done, s.Outcome));

        _sbx.Host.Behaviours.Faults.Clear();
        var rerun = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId }));
        Assert.Null(rerun.Error);
        Assert.All(rerun.Steps.TakeWhile(s => s.Kind.ToString() != failingStep), s => Assert.Equal(StepOutcome.AlreadyDone, s.Outcome));
        await AssertConfiguredWebAppAsync(w, app, registryId);
    }

    [Fact]
    public async Task Transient_server_errors_on_every_write_are_retried_within_one_run()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        var faults = _sbx.Host.Behaviours.Faults;
        var rules = new[]
        {
            faults.Add(new FaultRule { Method = "PATCH", Status = 503, Code = "ServiceUnavailable", Message = "Injected.", Count = 2 }),
            faults.Add(new FaultRule { Method = "PUT", PathContains = "roleAssignments", Status = 500, Message = "Injected.", Count = 2 }),
            faults.Add(new FaultRule { Method = "GET", PathContains = "config/web", Status = 502, Message = "Injected.", Count = 1 }),
        };

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId }));

        Assert.Null(outcome.Error);
        Assert.All(rules, r => Assert.True(r.TimesFired > 0));
        await AssertConfiguredWebAppAsync(w, app, registryId);
    }

    [Fact]
    public async Task A_429_storm_is_waited_out()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        var t = _sbx.Host.Behaviours.Throttling;
        t.Reset();
        t.ReadCapacity = 2;
        t.ReadRefillPerSecond = 4;
        t.WriteCapacity = 1;
        t.WriteRefillPerSecond = 1;
        t.Enabled = true;
        int mark = w.Mark;
        try
        {
            var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId }));
            Assert.Null(outcome.Error);
            Assert.Contains(_sbx.Host.Requests.Entries.Skip(mark), e => e.Status == 429);
        }
        finally
        {
            t.Enabled = false;
            t.ReadCapacity = 250;
            t.ReadRefillPerSecond = 25;
            t.WriteCapacity = 200;
            t.WriteRefillPerSecond = 10;
            t.Reset();
        }
        await AssertConfiguredWebAppAsync(w, app, registryId);
    }

    [Fact]
    public async Task PrincipalNotFound_is_retried_with_progress_until_the_principal_replicates()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        var rule = _sbx.Host.Behaviours.Faults.Add(new FaultRule
        {
            Method = "PUT", PathContains = "roleAssignments", Status = 400, Code = "PrincipalNotFound", Count = 3,
            Message = "Principal 0123 does not exist in the directory. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay.",
        });
        var host = new RecordingHost();

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId }, host));

        Assert.Null(outcome.Error);
        Assert.Equal(3, rule.TimesFired);
        Assert.Contains(host.Progress, p => p.Status.Contains("replicate", StringComparison.Ordinal));
        Assert.Contains(host.Progress, p => p.Completed);
        await AssertConfiguredWebAppAsync(w, app, registryId);
    }

    [Fact]
    public async Task PrincipalNotFound_past_the_propagation_timeout_fails_that_step_with_advice_and_a_rerun_finishes()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        _sbx.Host.Behaviours.Faults.Add(new FaultRule { Method = "PUT", PathContains = "roleAssignments", Status = 400, Code = "PrincipalNotFound", Message = "Principal not found.", Count = 1000 });

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId, PropagationTimeout = TimeSpan.FromSeconds(1) }));

        Assert.Equal("PrincipalNotFound", outcome.Error!.Reason);
        Assert.Contains("-PropagationTimeout", outcome.Error.RecommendedAction);
        Assert.Equal(new[] { StepOutcome.Done, StepOutcome.Failed, StepOutcome.NotRun }, outcome.Steps.Select(s => s.Outcome));

        _sbx.Host.Behaviours.Faults.Clear();
        Assert.Null(Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId })).Error);
        await AssertConfiguredWebAppAsync(w, app, registryId);
    }

    [Fact]
    public async Task Replication_delay_does_not_bite_because_principalType_is_sent()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        _sbx.Host.Behaviours.ReplicationDelay = TimeSpan.FromMinutes(10);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, _, principalId) = await w.IdentityAsync();
        string app = await w.WebAppAsync(login);
        int mark = w.Mark;

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId, UserAssignedIdentity = uamiId }));

        Assert.Null(outcome.Error);
        Assert.DoesNotContain(_sbx.Host.Requests.Entries.Skip(mark), e => e.Status == 400);
        Assert.Single(await w.AssignmentsAsync(registryId), a => (string?)a["properties"]!["principalId"] == principalId);
    }

    [Fact]
    public async Task RoleAssignmentExists_at_apply_time_counts_as_success()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        string existing = Guid.NewGuid().ToString("N");
        _sbx.Host.Behaviours.Faults.Add(new FaultRule
        {
            Method = "PUT", PathContains = "roleAssignments", Status = 409, Code = "RoleAssignmentExists", Count = 1,
            Message = $"The role assignment already exists. The ID of the existing role assignment is {existing}.",
        });

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId }));

        Assert.Null(outcome.Error);
        var role = outcome.Steps.Single(s => s.Kind == StepKind.RoleAssignment);
        Assert.Equal(StepOutcome.Done, role.Outcome);
        Assert.EndsWith("/" + Guid.ParseExact(existing, "N"), role.ResourceId);
        Assert.Contains("RoleAssignmentExists", role.Detail);
    }

    [Theory]
    [InlineData("/config/web", "PullConfigurationDrift", StepKind.PullConfiguration)]
    [InlineData("IDENTITY", "IdentityDrift", StepKind.Identity)]
    public async Task A_write_that_answers_200_but_does_not_stick_fails_loudly(string path, string reason, StepKind failing)
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        // A 200 that changes nothing: what a provider bug or a concurrent writer looks like from here (pain point 4).
        string match = path == "IDENTITY" ? app.Split("/providers/")[1] + "?" : path;
        _sbx.Host.Behaviours.Faults.Add(new FaultRule { Method = "PATCH", PathContains = match, Status = 200, Code = "Ignored", Message = "Accepted and ignored.", Count = 1 });

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId }));

        Assert.Equal(reason, outcome.Error?.Reason);
        Assert.Equal(StepOutcome.Failed, outcome.Steps.Single(s => s.Kind == failing).Outcome);
        Assert.False(string.IsNullOrEmpty(outcome.Error!.RecommendedAction));

        var rerun = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId }));
        Assert.Null(rerun.Error);
        await AssertConfiguredWebAppAsync(w, app, registryId);
    }

    [Fact]
    public async Task Container_group_InaccessibleImage_while_the_role_propagates_is_retried()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, _, principalId) = await w.IdentityAsync();
        string group = await w.ContainerGroupAsync(login);
        var rule = _sbx.Host.Behaviours.Faults.Add(new FaultRule
        {
            Method = "PUT", PathContains = "containerGroups", Status = 400, Code = "InaccessibleImage", Count = 2,
            Message = "The image 'x' in container group 'g' is not accessible. Please check the image and registry credential.",
        });
        var host = new RecordingHost();

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = group, Registry = registryId, UserAssignedIdentity = uamiId }, host));

        Assert.Null(outcome.Error);
        Assert.Equal(2, rule.TimesFired);
        Assert.Contains(host.Verbose, l => l.Contains("InaccessibleImage", StringComparison.Ordinal));
        Assert.Single(await w.AssignmentsAsync(registryId), a => (string?)a["properties"]!["principalId"] == principalId);
        Assert.Equal(uamiId, (string?)(await w.GetAsync(group))["properties"]!["imageRegistryCredentials"]![0]!["identity"], ignoreCase: true);
    }

    [Fact]
    public async Task Two_concurrent_runs_on_one_target_leave_exactly_one_assignment()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, _) = await w.RegistryAsync();
        var (uamiId, _, principalId) = await w.IdentityAsync();
        string vm = await w.VmAsync();

        // Whether the second run plans before or after the first one's PUT, it ends on the same assignment.
        var runs = await Task.WhenAll(
            w.EnableAsync(new EnableRequest { ResourceId = vm, Registry = registryId, UserAssignedIdentity = uamiId }),
            w.EnableAsync(new EnableRequest { ResourceId = vm, Registry = registryId, UserAssignedIdentity = uamiId }));

        Assert.All(runs, r => Assert.Null(Assert.Single(r).Error));
        Assert.Single(await w.AssignmentsAsync(registryId), a => (string?)a["properties"]!["principalId"] == principalId);
        Assert.Equal(runs[0][0].RoleAssignmentId, runs[1][0].RoleAssignmentId, ignoreCase: true);
    }
}
