using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Tests.Support;

namespace AcrIdentity.Engine.Tests.Configure;

/// <summary>Disable: the pull switch goes back, identities stay, the role goes only when asked.</summary>
[Collection(SandboxCollection.Name)]
public sealed class DisableTests
{
    private readonly SandboxFixture _sbx;

    public DisableTests(SandboxFixture sandbox)
    {
        _sbx = sandbox;
        _sbx.Host.Behaviours.Faults.Clear();
        _sbx.Host.Behaviours.Throttling.Enabled = false;
    }

    private async Task<IReadOnlyList<EnableOutcome>> DisableAsync(EnableWorld w, DisableRequest request, RecordingHost? host = null) =>
        await new PullDisabler(w.Context, host ?? new RecordingHost()).DisableAsync(request, CancellationToken.None);

    [Fact]
    public async Task Web_app_switches_back_keeps_its_identity_and_role_and_a_second_run_writes_nothing()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, _, principalId) = await w.IdentityAsync();
        string app = await w.WebAppAsync(login);
        Assert.Null(Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId, UserAssignedIdentity = uamiId })).Error);

        var outcome = Assert.Single(await DisableAsync(w, new DisableRequest { ResourceId = app, Registry = registryId }));

        Assert.Null(outcome.Error);
        Assert.Equal(StepOutcome.Done, Assert.Single(outcome.Steps).Outcome);
        Assert.False((bool)(await w.GetAsync(app + "/config/web"))["properties"]!["acrUseManagedIdentityCreds"]!);
        Assert.Equal("UserAssigned", (string?)(await w.GetAsync(app))["identity"]!["type"]);
        Assert.Single(await w.AssignmentsAsync(registryId), a => (string?)a["properties"]!["principalId"] == principalId);

        int mark = w.Mark;
        Assert.Equal(StepOutcome.AlreadyDone, Assert.Single(Assert.Single(await DisableAsync(w, new DisableRequest { ResourceId = app, Registry = registryId })).Steps).Outcome);
        Assert.Empty(w.WritesSince(mark));
    }

    [Fact]
    public async Task Remove_role_assignment_deletes_only_the_pull_role_of_the_identity_the_app_used()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, _, principalId) = await w.IdentityAsync();
        var (_, _, otherPrincipal) = await w.IdentityAsync();
        await w.AssignAsync(registryId, PullRoles.AcrPull, otherPrincipal);
        string app = await w.WebAppAsync(login);
        await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId, UserAssignedIdentity = uamiId });

        var outcome = Assert.Single(await DisableAsync(w, new DisableRequest { ResourceId = app, Registry = registryId, RemoveRoleAssignment = true }));

        Assert.Null(outcome.Error);
        Assert.Equal(new[] { StepKind.PullConfiguration, StepKind.RoleAssignment }, outcome.Steps.Select(s => s.Kind));
        Assert.All(outcome.Steps, s => Assert.Equal(StepOutcome.Done, s.Outcome));
        var left = await w.AssignmentsAsync(registryId);
        Assert.DoesNotContain(left, a => (string?)a["properties"]!["principalId"] == principalId);
        Assert.Contains(left, a => (string?)a["properties"]!["principalId"] == otherPrincipal);
    }

    [Fact]
    public async Task Container_group_drops_the_identity_credential_and_keeps_the_identity()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, _, _) = await w.IdentityAsync();
        string group = await w.ContainerGroupAsync(login);
        await w.EnableAsync(new EnableRequest { ResourceId = group, Registry = registryId, UserAssignedIdentity = uamiId });

        var outcome = Assert.Single(await DisableAsync(w, new DisableRequest { ResourceId = group, Registry = registryId }));

        Assert.Null(outcome.Error);
        var g = await w.GetAsync(group);
        Assert.Empty(g["properties"]!["imageRegistryCredentials"]!.AsArray());
        Assert.Equal("UserAssigned", (string?)g["identity"]!["type"]);
    }

    [Fact]
    public async Task Container_app_drops_the_identity_entry_and_keeps_the_password_entry()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.ContainerAppAsync(login);
        await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId });

        var outcome = Assert.Single(await DisableAsync(w, new DisableRequest { ResourceId = app, Registry = registryId, RemoveRoleAssignment = true }));

        Assert.Null(outcome.Error);
        var entry = Assert.Single((await w.GetAsync(app))["properties"]!["configuration"]!["registries"]!.AsArray());
        Assert.Equal("docker.io", (string?)entry!["server"]);
        Assert.Empty(await w.AssignmentsAsync(registryId));
    }

    [Fact]
    public async Task Aks_with_remove_role_assignment_is_detach_acr()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, _) = await w.RegistryAsync();
        string cluster = await w.AksAsync();
        await w.EnableAsync(new EnableRequest { ResourceId = cluster, Registry = registryId });
        Assert.Single(await w.AssignmentsAsync(registryId));

        var outcome = Assert.Single(await DisableAsync(w, new DisableRequest { ResourceId = cluster, Registry = registryId, RemoveRoleAssignment = true }));

        Assert.Null(outcome.Error);
        Assert.Equal(StepAction.Remove, Assert.Single(outcome.Steps).Action);
        Assert.Empty(await w.AssignmentsAsync(registryId));
    }

    [Fact]
    public async Task Vm_without_remove_role_assignment_warns_and_writes_nothing()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, _) = await w.RegistryAsync();
        string vm = await w.VmAsync();
        await w.EnableAsync(new EnableRequest { ResourceId = vm, Registry = registryId });
        var host = new RecordingHost();
        int mark = w.Mark;

        var outcome = Assert.Single(await DisableAsync(w, new DisableRequest { ResourceId = vm, Registry = registryId }, host));

        Assert.Null(outcome.Error);
        Assert.Empty(outcome.Steps);
        Assert.Contains(host.Warnings, l => l.Contains("-RemoveRoleAssignment", StringComparison.Ordinal));
        Assert.Empty(w.WritesSince(mark));
    }
}
