using AcrIdentity.Engine.Audit;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox.Behaviour;

namespace AcrIdentity.Engine.Tests.Audit;

/// <summary>Get-AcrPullAccess's engine against a world with every kind of grant (AuditWorld).</summary>
public sealed class AuditTests : IClassFixture<AuditWorld>
{
    private readonly AuditWorld _w;

    public AuditTests(AuditWorld world)
    {
        _w = world;
        _w.Sbx.Host.Behaviours.Faults.Clear();
        _w.Sbx.Host.Behaviours.GraphDirectoryReadDenied = null;
    }

    private int GraphCalls() => _w.Sbx.Host.Requests.Entries.Count(e => e.PathAndQuery.Contains("/directoryObjects/getByIds", StringComparison.OrdinalIgnoreCase));

    private async Task<AuditResult> AuditAsync(AuditRequest request, RecordingHost? host = null) =>
        await new AccessAuditor(_w.Sbx.Context, host ?? new RecordingHost()).AuditAsync(request, CancellationToken.None);

    private static PullAccessEntry Row(AuditResult r, string registry, string principal, string role) =>
        Assert.Single(r.Entries, e => e.Registry == registry && string.Equals(e.PrincipalId, principal, StringComparison.OrdinalIgnoreCase) && e.Role == role);

    [Fact]
    public async Task Direct_inherited_and_custom_role_assignments_are_found_and_attributed_through_resource_graph()
    {
        var r = await AuditAsync(new AuditRequest { Registry = "auditreg1" });
        Assert.True(r.UsedResourceGraph);
        Check(r);
    }

    [Fact]
    public async Task Arm_lists_give_the_same_rows_as_resource_graph()
    {
        var graph = await AuditAsync(new AuditRequest { Scope = _w.Sbx.Rg("reg") });
        _w.Sbx.Host.Requests.Clear();
        var arm = await AuditAsync(new AuditRequest { Scope = _w.Sbx.Rg("reg"), ForceArm = true });

        Assert.False(arm.UsedResourceGraph);
        Assert.Empty(_w.Sbx.Host.Requests.Where(e => e.Kind == RequestKind.Arg));
        Assert.Equal(Keys(graph), Keys(arm));
        Check(arm);
    }

    [Fact]
    public async Task Falls_back_to_arm_when_resource_graph_is_unavailable()
    {
        _w.Sbx.Host.Behaviours.Faults.Add(new FaultRule { Method = "POST", PathContains = "Microsoft.ResourceGraph", Status = 404, Code = "NoRegisteredProviderFound", Count = 1000 });
        var host = new RecordingHost();

        var r = await AuditAsync(new AuditRequest { Registry = "auditreg1" }, host);

        Assert.False(r.UsedResourceGraph);
        Assert.Contains(host.Warnings, w => w.Contains("Falling back to ARM", StringComparison.Ordinal));
        Check(r);
    }

    private void Check(AuditResult r)
    {
        // Direct, system-assigned: the web app itself.
        var web1 = Row(r, "auditreg1", _w.Sbx.SystemPrincipal(_w.Web1), "AcrPull");
        Assert.Equal("Registry", web1.ScopeLevel);
        Assert.Null(web1.InheritedFrom);
        Assert.Equal("SystemAssigned", web1.IdentityType);
        Assert.Equal(new[] { _w.Web1 }, web1.Resources, StringComparer.OrdinalIgnoreCase);
        Assert.True(web1.GrantsPull);
        Assert.False(web1.IsOrphaned || web1.IsOverPrivileged);

        // Inherited from the resource group, user-assigned: the identity and every resource that carries it.
        var shared = Row(r, "auditreg1", _w.Sbx.UamiPrincipal(_w.Shared), "AcrPull");
        Assert.Equal("ResourceGroup", shared.ScopeLevel);
        Assert.Equal(_w.Sbx.Rg("reg"), shared.InheritedFrom, ignoreCase: true);
        Assert.Equal("UserAssigned", shared.IdentityType);
        Assert.Equal(_w.Shared, shared.IdentityResourceId, ignoreCase: true);
        Assert.Equal(new[] { _w.Web2, _w.Web3 }.OrderBy(x => x), shared.Resources.OrderBy(x => x), StringComparer.OrdinalIgnoreCase);

        // Inherited from the subscription, a user, and a role that also pushes.
        var bob = Row(r, "auditreg1", AuditWorld.BobId, "AcrPush");
        Assert.Equal("Subscription", bob.ScopeLevel);
        Assert.Equal("/subscriptions/" + AuditWorld.Sub, bob.InheritedFrom, ignoreCase: true);
        Assert.Equal("User", bob.PrincipalType);
        Assert.True(bob.IsOverPrivileged);
        Assert.False(bob.IsOrphaned);

        // Inherited from the management group the subscription is under; the other group's grant does not apply.
        var pullers = Row(r, "auditreg1", AuditWorld.PullersId, "AcrPull");
        Assert.Equal("ManagementGroup", pullers.ScopeLevel);
        Assert.Equal("/providers/Microsoft.Management/managementGroups/platform", pullers.InheritedFrom, ignoreCase: true);
        Assert.Equal("Group", pullers.PrincipalType);
        Assert.DoesNotContain(r.Entries, e => e.PrincipalId == AuditWorld.AliceId);

        // Inherited from the root: Reader's */read includes pull/read.
        var reader = Row(r, "auditreg1", AuditWorld.OperatorId, "Reader");
        Assert.Equal("Root", reader.ScopeLevel);

        // Custom roles, judged by their actions: pull-only (the AKS kubelet identity) and registry admin (over-privileged).
        var kubelet = Row(r, "auditreg1", _w.KubeletPrincipal, "Image Puller");
        Assert.Equal("CustomRole", kubelet.RoleType);
        Assert.Equal("Kubelet", kubelet.IdentityType);
        Assert.Equal(new[] { _w.Aks }, kubelet.Resources, StringComparer.OrdinalIgnoreCase);
        Assert.False(kubelet.IsOverPrivileged);
        var admin = Row(r, "auditreg1", _w.Sbx.SystemPrincipal(_w.Web4), "Registry Admin");
        Assert.Equal("CustomRole", admin.RoleType);
        Assert.True(admin.IsOverPrivileged);
        Assert.Equal(new[] { _w.Web4 }, admin.Resources, StringComparer.OrdinalIgnoreCase);

        // The deleted identity's grant: orphaned, no resources.
        var gone = Row(r, "auditreg1", _w.GonePrincipal, "AcrPull");
        Assert.True(gone.IsOrphaned);
        Assert.Empty(gone.Resources);
        Assert.Null(gone.IdentityType);

        // Contributor on the apps' group does not cover the registry; nothing else sneaks in.
        Assert.DoesNotContain(r.Entries, e => e.Role == "Contributor");
        Assert.All(r.Entries.Where(e => e.Registry == "auditreg1"), e => Assert.Equal(_w.Registry, e.RegistryId, ignoreCase: true));
    }

    [Fact]
    public async Task Entra_names_users_groups_and_app_registrations_and_only_deleted_principals_are_orphaned()
    {
        _w.Sbx.Host.Requests.Clear();
        var host = new RecordingHost();

        var r = await AuditAsync(new AuditRequest { Registry = "auditreg1" }, host);

        Assert.True(r.DirectoryChecked);
        Assert.Empty(host.Warnings);
        // One Graph call for every principal no visible identity has (users, group, app, the deleted one, the operator).
        Assert.Equal(1, GraphCalls());

        var app = Row(r, "auditreg1", AuditWorld.CiAppId, "AcrPull");
        Assert.False(app.IsOrphaned);
        Assert.Equal("ci-app", app.PrincipalName);
        Assert.Equal("Application", app.PrincipalKind);
        Assert.Null(app.IdentityType);
        Assert.Null(app.Note);

        var bob = Row(r, "auditreg1", AuditWorld.BobId, "AcrPush");
        Assert.Equal(("bob@sandbox.onmicrosoft.com", "User"), (bob.PrincipalName, bob.PrincipalKind));
        var pullers = Row(r, "auditreg1", AuditWorld.PullersId, "AcrPull");
        Assert.Equal(("pullers", "Group"), (pullers.PrincipalName, pullers.PrincipalKind));
        Assert.False(bob.IsOrphaned || pullers.IsOrphaned);

        var gone = Row(r, "auditreg1", _w.GonePrincipal, "AcrPull");
        Assert.True(gone.IsOrphaned);
        Assert.Null(gone.PrincipalName);
        Assert.Contains("no longer exists in Entra ID", gone.Note);

        // Managed identities the caller sees are named without asking Graph.
        var web1 = Row(r, "auditreg1", _w.Sbx.SystemPrincipal(_w.Web1), "AcrPull");
        Assert.Equal(("web1", "ManagedIdentity"), (web1.PrincipalName, web1.PrincipalKind));
        Assert.Equal("elsewhere", Row(r, "auditreg1", _w.Sbx.UamiPrincipal(_w.Elsewhere), "AcrPull").PrincipalName);
    }

    [Fact]
    public async Task An_identity_in_a_subscription_the_caller_cannot_see_is_not_orphaned()
    {
        var auditor = await _w.Sbx.ConnectAsAsync(AuditWorld.AuditorClientId, AuditWorld.AuditorSecret);
        string principal = _w.Sbx.UamiPrincipal(_w.Elsewhere);

        var r = await new AccessAuditor(auditor, new RecordingHost()).AuditAsync(new AuditRequest { Registry = "auditreg1" }, CancellationToken.None);

        var row = Row(r, "auditreg1", principal, "AcrPull");
        Assert.False(row.IsOrphaned);
        Assert.Equal(("elsewhere", "ManagedIdentity", "UserAssigned"), (row.PrincipalName, row.PrincipalKind, row.IdentityType));
        Assert.Equal(_w.Elsewhere, row.IdentityResourceId, ignoreCase: true);
        Assert.Empty(row.Resources);
        Assert.Contains("subscription you cannot see", row.Note);
        // The deleted identity is still orphaned for this caller.
        Assert.True(Row(r, "auditreg1", _w.GonePrincipal, "AcrPull").IsOrphaned);
    }

    [Fact]
    public async Task When_entra_refuses_the_audit_warns_once_guesses_and_still_returns_rows()
    {
        _w.Sbx.Host.Behaviours.GraphDirectoryReadDenied = new[] { "*" };
        _w.Sbx.Host.Requests.Clear();
        var host = new RecordingHost();

        var r = await AuditAsync(new AuditRequest { Registry = "auditreg1" }, host);

        Assert.False(r.DirectoryChecked);
        Assert.Contains(_w.Sbx.Host.Requests.Entries, e => e.Kind == RequestKind.Graph && e.Status == 403);
        string warning = Assert.Single(host.Warnings);
        Assert.Contains("Authorization_RequestDenied", warning);
        Assert.Contains("IsOrphaned is a guess", warning);
        Check(r);
        // The guess flags the app registration too, and says so on the row.
        var app = Row(r, "auditreg1", AuditWorld.CiAppId, "AcrPull");
        Assert.True(app.IsOrphaned);
        Assert.Contains("app registration", app.Note);
        Assert.Null(app.PrincipalName);
        Assert.False(Row(r, "auditreg1", AuditWorld.BobId, "AcrPush").IsOrphaned);
    }

    [Fact]
    public async Task Resource_graph_quota_is_waited_for_instead_of_running_into_429()
    {
        var b = _w.Sbx.Host.Behaviours;
        int quota = b.ArgQuotaPerWindow;
        b.ArgQuotaPerWindow = 2;
        b.ArgThrottlingEnabled = true;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(5.2)); // an empty window to start from
            _w.Sbx.Host.Requests.Clear();
            var host = new RecordingHost();

            var r = await AuditAsync(new AuditRequest { Scope = AuditWorld.Sub }, host);

            string log = string.Join("\n", _w.Sbx.Host.Requests.Entries.Select(e => $"{e.Timestamp:ss.fff} {e.Kind} {e.Method} {e.Status} {e.PathAndQuery}")) + "\n" + string.Join("\n", host.Verbose) + string.Join("\n", host.Warnings);
            Assert.True(r.UsedResourceGraph, log);
            Assert.True(r.ResourceGraphPages >= 3, log);
            Assert.Empty(_w.Sbx.Host.Requests.Where(e => e.Kind == RequestKind.Arg && e.Status == 429));
            Assert.Contains(host.Verbose, v => v.Contains("quota used up", StringComparison.Ordinal));
        }
        finally
        {
            b.ArgQuotaPerWindow = quota;
            b.ArgThrottlingEnabled = false;
        }
    }

    [Fact]
    public async Task Abac_mode_registry_honours_only_repository_roles()
    {
        var r = await AuditAsync(new AuditRequest { Registry = _w.Abac });

        var legacy = Row(r, "auditabac1", _w.Sbx.SystemPrincipal(_w.Web1), "AcrPull");
        Assert.True(legacy.RegistryAbacMode);
        Assert.False(legacy.GrantsPull);
        Assert.Contains("ABAC mode", legacy.Note);
        Assert.False(Row(r, "auditabac1", _w.Sbx.UamiPrincipal(_w.Shared), "AcrPull").GrantsPull);
        var reader = Row(r, "auditabac1", _w.Sbx.SystemPrincipal(_w.Web4), "Container Registry Repository Reader");
        Assert.True(reader.GrantsPull);
        Assert.False(reader.IsOverPrivileged);
    }

    [Fact]
    public async Task Scope_covers_every_registry_under_it_and_principal_filter_narrows_rows()
    {
        var all = await AuditAsync(new AuditRequest { Scope = AuditWorld.Sub });
        Assert.Equal(new[] { "auditabac1", "auditreg1" }, all.Entries.Select(e => e.Registry).Distinct().OrderBy(x => x));

        string shared = _w.Sbx.UamiPrincipal(_w.Shared);
        var one = await AuditAsync(new AuditRequest { Scope = _w.Sbx.Rg("reg"), PrincipalId = shared.ToUpperInvariant() });
        Assert.Equal(2, one.Entries.Count);
        Assert.All(one.Entries, e => Assert.Equal(shared, e.PrincipalId, ignoreCase: true));

        var none = await AuditAsync(new AuditRequest { Scope = _w.Sbx.Rg("apps") });
        Assert.Empty(none.Entries);
    }

    [Fact]
    public async Task Bad_scope_and_conflicting_parameters_are_refused_before_any_call()
    {
        _w.Sbx.Host.Requests.Clear();
        var bad = await Assert.ThrowsAsync<Errors.EngineException>(() => AuditAsync(new AuditRequest { Scope = "/subscriptions/nope/resourceGroups" }));
        Assert.Equal("InvalidScope", bad.Reason);
        var both = await Assert.ThrowsAsync<Errors.EngineException>(() => AuditAsync(new AuditRequest { Scope = AuditWorld.Sub, Registry = "auditreg1" }));
        Assert.Equal("ConflictingScope", both.Reason);
        Assert.Empty(_w.Sbx.Host.Requests.Where(e => e.Kind is RequestKind.Arm or RequestKind.Arg));
    }

    private static List<string> Keys(AuditResult r) => r.Entries
        .Select(e => $"{e.Registry}|{e.PrincipalId.ToLowerInvariant()}|{e.Role}|{e.Scope.ToLowerInvariant()}|{e.IdentityType}|{string.Join(",", e.Resources.Select(x => x.ToLowerInvariant()).OrderBy(x => x))}|{e.IsOrphaned}|{e.IsOverPrivileged}|{e.GrantsPull}")
        .OrderBy(k => k).ToList();
}
