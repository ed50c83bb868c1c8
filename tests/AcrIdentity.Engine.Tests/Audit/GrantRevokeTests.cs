using AcrIdentity.Engine.Audit;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox.Behaviour;

namespace AcrIdentity.Engine.Tests.Audit;

/// <summary>Grant-/Revoke-AcrPullAccess and New-AcrPullIdentity engines, in their own AuditWorld (they change it).</summary>
public sealed class GrantRevokeTests : IClassFixture<AuditWorld>
{
    private readonly AuditWorld _w;

    public GrantRevokeTests(AuditWorld world)
    {
        _w = world;
        _w.Sbx.Host.Behaviours.Faults.Clear();
    }

    private AccessManager Manager(RecordingHost? host = null) => new(_w.Sbx.Context, host ?? new RecordingHost());

    private IReadOnlyList<RequestLogEntry> ArmWritesSince(int mark) =>
        _w.Sbx.Host.Requests.Entries.Skip(mark).Where(e => e.Kind == RequestKind.Arm && e.IsWrite).ToList();

    private async Task<string> NewIdentityAsync(string name)
    {
        var o = await Manager().NewIdentityAsync(new NewIdentityRequest { Name = name, ResourceGroupName = "apps", Registry = "auditreg1" }, CancellationToken.None);
        return o.Id;
    }

    [Fact]
    public async Task Grant_by_client_id_creates_once_then_is_idempotent_and_whatif_writes_nothing()
    {
        string id = $"/subscriptions/{AuditWorld.Sub}/resourceGroups/apps/providers/Microsoft.ManagedIdentity/userAssignedIdentities/grantee1";
        await _w.Sbx.Arm.PutAsync(id, System.Text.Json.Nodes.JsonNode.Parse("{\"location\":\"westus\"}")!, CancellationToken.None);
        string clientId = (string)_w.Sbx.Resource(id)["properties"]!["clientId"]!;
        string principal = _w.Sbx.UamiPrincipal(id);

        int mark = _w.Sbx.Host.Requests.Count;
        var plan = await Manager().GrantAsync(new AccessRequest { Principal = clientId, Registry = "auditreg1", PlanOnly = true }, CancellationToken.None);
        Assert.Equal("WouldCreate", plan.Status);
        Assert.Empty(ArmWritesSince(mark));

        var first = await Manager().GrantAsync(new AccessRequest { Principal = clientId, Registry = "auditreg1" }, CancellationToken.None);
        Assert.Equal("Created", first.Status);
        Assert.Equal(principal, first.PrincipalId);
        Assert.Contains("client ID", first.PrincipalSource);
        Assert.Equal("AcrPull", first.Role);
        Assert.Contains(_w.Sbx.Host.World.RoleAssignments(), a => a.PrincipalId == principal && string.Equals(a.Scope, _w.Registry, StringComparison.OrdinalIgnoreCase));

        mark = _w.Sbx.Host.Requests.Count;
        var again = await Manager().GrantAsync(new AccessRequest { Principal = id, Registry = _w.Registry }, CancellationToken.None);
        Assert.Equal("AlreadyGranted", again.Status);
        Assert.Equal(first.AssignmentId, again.AssignmentId, ignoreCase: true);
        Assert.Empty(ArmWritesSince(mark));
    }

    [Theory]
    [InlineData("user")]
    [InlineData("group")]
    public async Task Grant_to_a_user_or_group_object_id_lets_ARM_look_up_its_type(string kind)
    {
        // A bare object ID is no managed identity we can see: claiming ServicePrincipal would be refused (UnmatchedPrincipalType).
        var world = _w.Sbx.Host.World;
        string objectId = kind == "user"
            ? world.AddUser($"grantee-{Guid.NewGuid():N}@contoso.example", createdAt: DateTimeOffset.UtcNow.AddHours(-1)).ObjectId
            : world.AddGroup($"grantees-{Guid.NewGuid():N}", createdAt: DateTimeOffset.UtcNow.AddHours(-1)).ObjectId;

        var change = await Manager().GrantAsync(new AccessRequest { Principal = objectId, Registry = "auditreg1" }, CancellationToken.None);

        Assert.Equal("Created", change.Status);
        Assert.Contains(world.RoleAssignments(), a => a.PrincipalId == objectId && string.Equals(a.Scope, _w.Registry, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Grant_on_abac_registry_assigns_repository_reader_and_a_resource_id_means_its_system_identity()
    {
        var change = await Manager().GrantAsync(new AccessRequest { Principal = _w.Web1, Registry = "auditabac1", Repository = "team/app" }, CancellationToken.None);

        Assert.Equal("Created", change.Status);
        Assert.Equal("Container Registry Repository Reader", change.Role);
        Assert.Equal(_w.Sbx.SystemPrincipal(_w.Web1), change.PrincipalId);
        var a = Assert.Single(_w.Sbx.Host.World.RoleAssignments(), x => x.PrincipalId == change.PrincipalId && string.Equals(x.Scope, _w.Abac, StringComparison.OrdinalIgnoreCase) && x.Condition != null);
        Assert.Contains("team/app", a.Condition);
    }

    [Fact]
    public async Task Grant_to_a_principal_with_a_broader_role_reports_it_unless_forced()
    {
        string web4 = _w.Sbx.SystemPrincipal(_w.Web4);
        _w.Sbx.Host.World.AddRoleAssignment(_w.Registry, "AcrPush", web4, "ServicePrincipal");

        var covered = await Manager().GrantAsync(new AccessRequest { Principal = web4, Registry = "auditreg1" }, CancellationToken.None);
        Assert.Equal("CoveredByBroaderRole", covered.Status);
        Assert.Equal("AcrPush", covered.Role);

        var forced = await Manager().GrantAsync(new AccessRequest { Principal = web4, Registry = "auditreg1", Force = true }, CancellationToken.None);
        Assert.Equal("Created", forced.Status);
    }

    [Fact]
    public async Task Revoke_removes_the_direct_grant_and_a_second_run_finds_nothing()
    {
        string id = await NewIdentityAsync("revokee1");
        string principal = _w.Sbx.UamiPrincipal(id);

        var plan = await Manager().RevokeAsync(new AccessRequest { Principal = "revokee1", Registry = "auditreg1", PlanOnly = true }, new List<EngineException>(), CancellationToken.None);
        Assert.Equal("WouldRemove", Assert.Single(plan).Status);
        Assert.Contains(_w.Sbx.Host.World.RoleAssignments(), a => a.PrincipalId == principal);

        var refused = new List<EngineException>();
        var removed = await Manager().RevokeAsync(new AccessRequest { Principal = "revokee1", Registry = "auditreg1" }, refused, CancellationToken.None);
        Assert.Empty(refused);
        Assert.Equal("Removed", Assert.Single(removed).Status);
        Assert.DoesNotContain(_w.Sbx.Host.World.RoleAssignments(), a => a.PrincipalId == principal);

        var again = await Manager().RevokeAsync(new AccessRequest { Principal = principal, Registry = "auditreg1" }, refused, CancellationToken.None);
        Assert.Equal("AlreadyAbsent", Assert.Single(again).Status);
    }

    [Fact]
    public async Task Revoke_of_an_inherited_assignment_explains_it_must_be_removed_at_its_own_scope()
    {
        // The shared identity's AcrPull comes from the registry's resource group (an audit row pipes in its AssignmentId).
        var row = (await new AccessAuditor(_w.Sbx.Context, new RecordingHost()).AuditAsync(new AuditRequest { Registry = "auditreg1", PrincipalId = _w.Sbx.UamiPrincipal(_w.Shared) }, CancellationToken.None)).Entries.Single();
        int mark = _w.Sbx.Host.Requests.Count;
        var refused = new List<EngineException>();

        var changes = await Manager().RevokeAsync(new AccessRequest { Principal = row.PrincipalId, Registry = row.RegistryId, AssignmentId = row.AssignmentId }, refused, CancellationToken.None);

        Assert.Empty(changes);
        var ex = Assert.Single(refused);
        Assert.Equal("InheritedAssignment", ex.Reason);
        Assert.Equal(EngineErrorCategory.InvalidOperation, ex.Category);
        Assert.Equal(_w.Sbx.Rg("reg"), ex.TargetId, ignoreCase: true);
        Assert.Contains("resource group", ex.Message);
        Assert.Contains($"-Scope '{_w.Sbx.Rg("reg")}'", ex.RecommendedAction, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(ArmWritesSince(mark));
        Assert.Contains(_w.Sbx.Host.World.RoleAssignments(), a => a.PrincipalId == row.PrincipalId);
    }

    [Fact]
    public async Task Revoke_of_a_group_members_pull_names_the_group()
    {
        var refused = new List<EngineException>();
        var changes = await Manager().RevokeAsync(new AccessRequest { Principal = AuditWorld.AliceId, Registry = "auditreg1" }, refused, CancellationToken.None);

        Assert.Empty(changes);
        var ex = Assert.Single(refused);
        Assert.Equal("AssignedThroughGroup", ex.Reason);
        Assert.Contains(AuditWorld.PullersId, ex.RecommendedAction);
    }

    [Fact]
    public async Task New_identity_is_created_and_granted_and_a_rerun_changes_nothing()
    {
        var o = await Manager().NewIdentityAsync(new NewIdentityRequest { Name = "puller9", ResourceGroupName = "apps", Registry = "auditreg1" }, CancellationToken.None);

        Assert.Equal("Created", o.IdentityStatus);
        Assert.Equal("westus", o.Location);
        Assert.Equal(_w.Sbx.UamiPrincipal(o.Id), o.PrincipalId);
        Assert.NotNull(o.ClientId);
        Assert.Equal("Created", o.Grant!.Status);

        int mark = _w.Sbx.Host.Requests.Count;
        var again = await Manager().NewIdentityAsync(new NewIdentityRequest { Name = "puller9", ResourceGroupName = "apps", Registry = "auditreg1" }, CancellationToken.None);
        Assert.Equal("AlreadyExisted", again.IdentityStatus);
        Assert.Equal("AlreadyGranted", again.Grant!.Status);
        Assert.Equal(o.PrincipalId, again.PrincipalId);
        Assert.Empty(ArmWritesSince(mark));

        mark = _w.Sbx.Host.Requests.Count;
        var plan = await Manager().NewIdentityAsync(new NewIdentityRequest { Name = "puller10", ResourceGroupName = "apps", Registry = "auditreg1", PlanOnly = true }, CancellationToken.None);
        Assert.Equal("WouldCreate", plan.IdentityStatus);
        Assert.Empty(ArmWritesSince(mark));
    }

    [Fact]
    public async Task New_identity_survives_replication_delay()
    {
        _w.Sbx.Host.Behaviours.ReplicationDelay = TimeSpan.FromSeconds(2);
        try
        {
            var o = await Manager().NewIdentityAsync(new NewIdentityRequest { Name = "puller11", ResourceGroupName = "apps", Registry = "auditreg1", PropagationRetryDelay = TimeSpan.FromMilliseconds(200) }, CancellationToken.None);
            Assert.Equal("Created", o.Grant!.Status);
        }
        finally
        {
            _w.Sbx.Host.Behaviours.ReplicationDelay = TimeSpan.Zero;
        }
    }
}
