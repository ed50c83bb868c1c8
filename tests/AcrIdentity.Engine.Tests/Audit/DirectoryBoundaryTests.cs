using AcrIdentity.Engine.Audit;
using AcrIdentity.Engine.Checks;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox.Behaviour;

namespace AcrIdentity.Engine.Tests.Audit;

/// <summary>
/// Where Entra ID's answer stops meaning "deleted": a subscription delegated from another tenant (Azure Lighthouse),
/// whose principals live in that tenant's directory; a ForeignGroup; a Graph reply without its list.
/// </summary>
public sealed class DirectoryBoundaryTests : IAsyncLifetime
{
    private const string Home = "6d3c2a10-aaaa-4a5b-9c8d-0123456789ab";
    private const string Delegated = "6d3c2a10-bbbb-4a5b-9c8d-0123456789ab";
    private const string CustomerTenant = "c0570000-cccc-4d5e-8f90-cccccccccccc";
    private const string CustomerApp = "c0570000-1111-4a1b-8c2d-111111111111";
    private const string CustomerUser = "c0570000-2222-4a1b-8c2d-222222222222";
    private const string Deleted = "de1e7ed0-3333-4a1b-8c2d-333333333333";
    private const string ForeignGroup = "f0f00000-4444-4a1b-8c2d-444444444444";

    private static string Reg(string sub, string name) => $"/subscriptions/{sub}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/{name}";

    private static readonly string Scenario = $$"""
    {
      "subscriptions": [
        { "id": "{{Home}}", "resourceGroups": [ { "name": "reg", "resources": [
            { "type": "registry", "name": "homereg" }, { "type": "userAssignedIdentity", "name": "homeid" } ] } ] },
        { "id": "{{Delegated}}", "tenantId": "{{CustomerTenant}}", "resourceGroups": [ { "name": "reg", "resources": [
            { "type": "registry", "name": "custreg" }, { "type": "userAssignedIdentity", "name": "custid" } ] } ] }
      ],
      "roleAssignments": [
        { "principal": "homeid", "role": "AcrPull", "scope": "{{Reg(Home, "homereg")}}" },
        { "principal": "{{Deleted}}", "role": "AcrPull", "scope": "{{Reg(Home, "homereg")}}", "principalType": "ServicePrincipal" },
        { "principal": "{{ForeignGroup}}", "role": "AcrPull", "scope": "{{Reg(Home, "homereg")}}", "principalType": "ForeignGroup" },
        { "principal": "custid", "role": "AcrPull", "scope": "{{Reg(Delegated, "custreg")}}" },
        { "principal": "{{CustomerApp}}", "role": "AcrPull", "scope": "{{Reg(Delegated, "custreg")}}", "principalType": "ServicePrincipal" },
        { "principal": "{{CustomerUser}}", "role": "AcrPull", "scope": "{{Reg(Delegated, "custreg")}}", "principalType": "User" }
      ]
    }
    """;

    private AuditSandbox _sbx = null!;

    public async Task InitializeAsync() => _sbx = await AuditSandbox.StartAsync(Scenario);

    public async Task DisposeAsync() => await _sbx.DisposeAsync();

    private Task<AuditResult> AuditAsync(string registry, RecordingHost host) =>
        new AccessAuditor(_sbx.Context, host).AuditAsync(new AuditRequest { Registry = registry }, CancellationToken.None);

    private static PullAccessEntry Row(AuditResult r, string principal) =>
        Assert.Single(r.Entries, e => string.Equals(e.PrincipalId, principal, StringComparison.OrdinalIgnoreCase) && e.Role == "AcrPull");

    private async Task<PullCheck> OrphanCheckAsync(string registry, string identity)
    {
        var reports = await new PullAccessTester(_sbx.Context, new RecordingHost())
            .TestAsync(new PullAccessRequest { Identity = identity, Registry = registry }, CancellationToken.None);
        return Assert.Single(reports)["OrphanedAssignments"]!;
    }

    private string IdentityId(string sub, string name) => $"/subscriptions/{sub}/resourceGroups/reg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}";

    [Fact]
    public async Task Principals_of_a_delegated_subscriptions_registry_are_never_called_deleted()
    {
        var host = new RecordingHost();
        var r = await AuditAsync("custreg", host);

        Assert.Empty(host.Warnings);
        foreach (string p in new[] { CustomerApp, CustomerUser })
        {
            var row = Row(r, p);
            Assert.False(row.IsOrphaned);
            Assert.Contains("another tenant", row.Note);
        }
        // Its own managed identity is still named from ARM.
        Assert.Equal("custid", Row(r, _sbx.UamiPrincipal(IdentityId(Delegated, "custid"))).PrincipalName);
        // Graph was not asked about principals it cannot hold.
        Assert.DoesNotContain(_sbx.Host.Requests.Entries, e => e.Kind == RequestKind.Graph && e.PathAndQuery.Contains("getByIds", StringComparison.Ordinal));

        PullCheck check = await OrphanCheckAsync("custreg", IdentityId(Delegated, "custid"));
        Assert.Equal(CheckResult.Skipped, check.Result);
        Assert.Contains("another tenant", check.Message);
    }

    [Fact]
    public async Task In_the_callers_own_tenant_a_deleted_principal_is_an_orphan_and_a_foreign_group_is_not()
    {
        var r = await AuditAsync("homereg", new RecordingHost());

        Assert.True(r.DirectoryChecked);
        Assert.True(Row(r, Deleted).IsOrphaned);
        Assert.False(Row(r, ForeignGroup).IsOrphaned);

        PullCheck check = await OrphanCheckAsync("homereg", IdentityId(Home, "homeid"));
        Assert.Equal(CheckResult.Warning, check.Result);
        Assert.Contains(Deleted, check.Message);
        Assert.DoesNotContain(ForeignGroup, check.Message);
        Assert.Contains("deleted from Entra ID", check.Message);
    }

    [Fact]
    public async Task A_graph_reply_without_its_list_is_no_answer_not_everyone_deleted()
    {
        // A proxy or gateway answering 200 with some other JSON.
        _sbx.Host.Behaviours.Faults.Add(new FaultRule { PathContains = "/directoryObjects/getByIds", Status = 200, Count = 100 });
        try
        {
            var host = new RecordingHost();
            var r = await AuditAsync("homereg", host);

            Assert.False(r.DirectoryChecked);
            string warning = Assert.Single(host.Warnings);
            Assert.Contains("without a value list", warning);
            // Not a permission problem: the warning does not send the user after Directory.Read.All.
            Assert.DoesNotContain("Directory.Read.All", warning);
            Assert.Contains("Entra ID could not be asked", Row(r, Deleted).Note);
        }
        finally
        {
            _sbx.Host.Behaviours.Faults.Clear();
        }
    }
}
