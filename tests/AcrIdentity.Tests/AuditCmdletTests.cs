using System.Management.Automation;
using AcrIdentity.Sandbox;
using AcrIdentity.Sandbox.Behaviour;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// One sandbox (a legacy and an ABAC registry, apps with system and shared user-assigned identities, an inherited grant,
/// an app registration, a user and an identity deleted after its grant) and one connected session.
/// </summary>
public sealed class AuditCmdletWorld : IAsyncLifetime
{
    public const string Sub = "7e4d3b21-2222-4b6c-8d9e-123456789abc";

    public SandboxHost Host { get; private set; } = null!;
    public PowerShellSession Ps { get; private set; } = null!;
    private string _stateDir = "";

    public string Rg(string g) => $"/subscriptions/{Sub}/resourceGroups/{g}";
    public string Registry => Rg("reg") + "/providers/Microsoft.ContainerRegistry/registries/cmdreg1";
    public string App(string name) => Rg("apps") + "/providers/Microsoft.Web/sites/" + name;
    public string SystemPrincipal(string id) => (string)Host.World.GetResource(id)!["identity"]!["principalId"]!;
    public string Shared => $"/subscriptions/{Sub}/resourcegroups/apps/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shared";
    public const string CiAppId = "c1a99000-2222-4b6c-8d9e-333333333333";
    public const string CarolId = "ca401000-2222-4b6c-8d9e-444444444444";
    public string GonePrincipal { get; private set; } = "";

    private const string Scenario = """
    {
      "principals": [
        { "kind": "servicePrincipal", "name": "ci-app", "objectId": "c1a99000-2222-4b6c-8d9e-333333333333" },
        { "kind": "user", "name": "carol@sandbox.onmicrosoft.com", "objectId": "ca401000-2222-4b6c-8d9e-444444444444" }
      ],
      "subscriptions": [ { "id": "7e4d3b21-2222-4b6c-8d9e-123456789abc", "resourceGroups": [
        { "name": "reg", "resources": [
          { "type": "registry", "name": "cmdreg1" },
          { "type": "registry", "name": "cmdabac1", "properties": { "roleAssignmentMode": "AbacRepositoryPermissions" } } ] },
        { "name": "apps", "resources": [
          { "type": "userAssignedIdentity", "name": "shared" },
          { "type": "userAssignedIdentity", "name": "gone" },
          { "type": "webApp", "name": "app1", "kind": "app,linux,container", "identity": { "type": "SystemAssigned" } },
          { "type": "webApp", "name": "app2", "kind": "app,linux,container", "identity": { "type": "UserAssigned", "userAssignedIdentities": [ "shared" ] } },
          { "type": "webApp", "name": "app3", "kind": "app,linux,container", "siteConfig": { "linuxFxVersion": "DOCKER|cmdreg1.azurecr.io/web:v1" } } ] } ] } ],
      "roleAssignments": [
        { "principal": "app1", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/cmdreg1" },
        { "principal": "shared", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg" },
        { "principal": "ci-app", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/cmdreg1" },
        { "principal": "carol@sandbox.onmicrosoft.com", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/cmdreg1" },
        { "principal": "gone", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/cmdreg1" }
      ]
    }
    """;

    public async Task InitializeAsync()
    {
        string? caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        Assert.False(string.IsNullOrEmpty(caDir) || string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SSL_CERT_FILE")),
            "Run through tests/run (SSL_CERT_FILE and ACRIDENTITY_SANDBOX_CA_DIR must name the sandbox CA).");
        _stateDir = Directory.CreateTempSubdirectory("acrid-audit-ps").FullName;
        Host = await SandboxHost.StartAsync(new SandboxOptions { StateDir = _stateDir, CaDir = caDir, ScenarioJson = Scenario, StartRegistries = false });
        // Deleted after its grant: the assignment stays behind, pointing at nothing.
        string gone = Rg("apps") + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/gone";
        GonePrincipal = (string)Host.World.GetResource(gone)!["properties"]!["principalId"]!;
        Assert.True(Host.World.DeleteResource(gone));
        Ps = new PowerShellSession();
        Connect();
    }

    /// <summary>Connect-AcrIdentity as the operator (the module's context is process-wide).</summary>
    public void Connect()
    {
        var secret = new System.Security.SecureString();
        foreach (char c in Host.Endpoints.Operator.ClientSecret) secret.AppendChar(c);
        var connected = Ps.Run("Connect-AcrIdentity -Environment $args[0] -ApplicationId $args[1] -ClientSecret $args[2] -Subscription $args[3]",
            Host.EndpointsFile, Host.Endpoints.Operator.ClientId, secret, Sub);
        Assert.True(connected.Errors.Count == 0, "Connect-AcrIdentity failed: " + connected);
    }

    public async Task DisposeAsync()
    {
        Ps?.Run("Disconnect-AcrIdentity");
        Ps?.Dispose();
        if (Host != null) await Host.DisposeAsync();
        try { Directory.Delete(_stateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Get-/Grant-/Revoke-AcrPullAccess and New-AcrPullIdentity in a real PowerShell engine: binding, pipelines, -WhatIf, errors, views.</summary>
public sealed class AuditCmdletTests : IClassFixture<AuditCmdletWorld>
{
    private readonly AuditCmdletWorld _w;

    public AuditCmdletTests(AuditCmdletWorld world)
    {
        _w = world;
    }

    private IReadOnlyList<RequestLogEntry> WritesSince(int mark) =>
        _w.Host.Requests.Entries.Skip(mark).Where(e => e.Kind == RequestKind.Arm && e.IsWrite).ToList();

    [Fact]
    public void Get_lists_direct_and_inherited_rows_with_their_resources_and_a_table_view()
    {
        var r = _w.Ps.Run("Get-AcrPullAccess -Registry cmdreg1");
        Assert.Empty(r.Errors);
        Assert.All(r.Output, o => Assert.Equal("AcrIdentity.AcrPullAccessEntry", o.BaseObject.GetType().FullName));
        PSObject app1 = Assert.Single(r.Output, o => o.Prop<string>("PrincipalId") == _w.SystemPrincipal(_w.App("app1")));
        Assert.Equal("Registry", app1.Prop<string>("ScopeLevel"));
        Assert.Equal(new[] { _w.App("app1") }, app1.Prop<string[]>("Resources"), StringComparer.OrdinalIgnoreCase);
        PSObject shared = Assert.Single(r.Output, o => string.Equals(o.Prop<string>("IdentityResourceId"), _w.Shared, StringComparison.OrdinalIgnoreCase));
        Assert.Equal("UserAssigned", shared.Prop<string>("IdentityType"));
        Assert.Equal(_w.Rg("reg"), shared.Prop<string>("InheritedFrom"), ignoreCase: true);
        Assert.Equal(new[] { _w.App("app2") }, shared.Prop<string[]>("Resources"), StringComparer.OrdinalIgnoreCase);

        // The table view's columns, evaluated on the inherited row (the hosted SDK has no Format-Table).
        _w.Ps.Run("$global:row = Get-AcrPullAccess -Registry cmdreg1 | Where-Object ScopeLevel -eq ResourceGroup");
        var view = System.Xml.Linq.XDocument.Load(Path.Combine(Repo.ModuleDirectory, "AcrIdentity.format.ps1xml")).Descendants("View")
            .Single(v => (string?)v.Element("Name") == "AcrPullAccessEntry");
        var items = view.Descendants("TableColumnItem").ToList();
        Assert.Equal(view.Descendants("TableColumnHeader").Count(), items.Count);
        var cells = new List<string>();
        foreach (var item in items)
        {
            string? property = (string?)item.Element("PropertyName");
            string script = property is not null
                ? $"if ($null -eq $global:row.PSObject.Properties['{property}']) {{ throw 'no property {property}' }}; $global:row.{property}"
                : $"$global:row | ForEach-Object {{ {(string)item.Element("ScriptBlock")!} }}";
            var column = _w.Ps.Run(script);
            Assert.True(column.Errors.Count == 0, $"{script}: {column}");
            cells.Add(string.Join(",", column.Output.Select(o => o?.ToString())));
        }
        Assert.Contains("ResourceGroup reg", cells);
        Assert.Contains("app2", cells);
        Assert.Contains("UserAssigned", cells);
        Assert.Contains("shared", cells); // the principal by its name
    }

    [Fact]
    public void Get_names_principals_from_entra_and_flags_only_deleted_ones_as_orphaned()
    {
        var r = _w.Ps.Run("Get-AcrPullAccess -Registry cmdreg1");

        Assert.Empty(r.Errors);
        Assert.Empty(r.Warnings);
        PSObject app = Assert.Single(r.Output, o => o.Prop<string>("PrincipalId") == AuditCmdletWorld.CiAppId);
        Assert.Equal("ci-app", app.Prop<string>("PrincipalName"));
        Assert.Equal("Application", app.Prop<string>("PrincipalKind"));
        Assert.False(app.Prop<bool>("IsOrphaned"));
        PSObject carol = Assert.Single(r.Output, o => o.Prop<string>("PrincipalId") == AuditCmdletWorld.CarolId);
        Assert.Equal("carol@sandbox.onmicrosoft.com", carol.Prop<string>("PrincipalName"));
        Assert.Equal("User", carol.Prop<string>("PrincipalKind"));
        Assert.False(carol.Prop<bool>("IsOrphaned"));
        PSObject gone = Assert.Single(r.Output, o => o.Prop<string>("PrincipalId") == _w.GonePrincipal);
        Assert.True(gone.Prop<bool>("IsOrphaned"));
        Assert.True(string.IsNullOrEmpty(gone.Prop<string>("PrincipalName")));
        Assert.Equal(new[] { _w.GonePrincipal }, r.Output.Where(o => o.Prop<bool>("IsOrphaned")).Select(o => o.Prop<string>("PrincipalId")));
        Assert.Equal("app1", Assert.Single(r.Output, o => o.Prop<string>("PrincipalId") == _w.SystemPrincipal(_w.App("app1"))).Prop<string>("PrincipalName"));
    }

    [Fact]
    public void Get_warns_once_and_guesses_when_entra_refuses_and_still_lists_rows()
    {
        _w.Host.Behaviours.GraphDirectoryReadDenied = new[] { "*" };
        try
        {
            var r = _w.Ps.Run("Get-AcrPullAccess -Registry cmdreg1");

            Assert.Empty(r.Errors);
            WarningRecord warning = Assert.Single(r.Warnings);
            Assert.Contains("IsOrphaned is a guess", warning.Message);
            Assert.Contains("Directory.Read.All", warning.Message);
            PSObject app = Assert.Single(r.Output, o => o.Prop<string>("PrincipalId") == AuditCmdletWorld.CiAppId);
            Assert.True(app.Prop<bool>("IsOrphaned"));
            Assert.Contains("Entra ID could not be asked", app.Prop<string>("Note"));
            Assert.True(Assert.Single(r.Output, o => o.Prop<string>("PrincipalId") == _w.GonePrincipal).Prop<bool>("IsOrphaned"));
            Assert.False(Assert.Single(r.Output, o => o.Prop<string>("PrincipalId") == AuditCmdletWorld.CarolId).Prop<bool>("IsOrphaned"));
        }
        finally
        {
            _w.Host.Behaviours.GraphDirectoryReadDenied = null;
        }
    }

    [Fact]
    public void Through_an_az_context_the_graph_token_is_asked_for_the_contexts_graph()
    {
        var ep = _w.Host.Endpoints;
        using var env = EnvScope.Clean()
            .Set("AZSTANDIN_GENERATION", "5").Set("AZSTANDIN_SIGNED_IN", "1")
            .Set("AZSTANDIN_AUTHORITY", ep.Authority).Set("AZSTANDIN_TENANT", ep.TenantId)
            .Set("AZSTANDIN_CLIENT_ID", ep.Operator.ClientId).Set("AZSTANDIN_CLIENT_SECRET", ep.Operator.ClientSecret)
            .Set("AZSTANDIN_ENVIRONMENT", "AcrIdentitySandbox").Set("AZSTANDIN_ARM", ep.ArmEndpoint)
            .Set("AZSTANDIN_AUDIENCE", ep.ActiveDirectoryResourceId).Set("AZSTANDIN_ACR_SUFFIX", "azurecr.io")
            .Set("AZSTANDIN_GRAPH", ep.MicrosoftGraphEndpoint)
            .Set("AZSTANDIN_SUBSCRIPTION_ID", AuditCmdletWorld.Sub).Set("AZSTANDIN_SUBSCRIPTION_NAME", "az-context-name");
        using var ps = new PowerShellSession();
        ScriptResult r;
        List<string> resources;
        ps.Run("Disconnect-AcrIdentity"); // a Connect-AcrIdentity context would win over the Az context
        try
        {
            var imported = ps.Run("Import-Module -Name $args[0] -Force -ErrorAction Stop", Path.Combine(Repo.TestModules, "Az.Accounts", "Az.Accounts.psd1"));
            Assert.True(imported.Errors.Count == 0, imported.ToString());

            r = ps.Run("Get-AcrPullAccess -Registry cmdreg1 -Verbose");
            resources = ps.Run("$global:AzStandInTokenRequests").Output.Select(o => o.ToString()).ToList();
        }
        finally
        {
            _w.Connect();
        }

        Assert.True(r.Errors.Count == 0 && r.Warnings.Count == 0, r.ToString());
        Assert.Contains(r.Verbose, v => v.Message.Contains("AzContext", StringComparison.OrdinalIgnoreCase) || v.Message.StartsWith("Az context", StringComparison.Ordinal));
        Assert.Equal("ci-app", Assert.Single(r.Output, o => o.Prop<string>("PrincipalId") == AuditCmdletWorld.CiAppId).Prop<string>("PrincipalName"));
        Assert.Contains(ep.MicrosoftGraphEndpoint!.TrimEnd('/'), resources.Select(x => x.TrimEnd('/')));
        Assert.DoesNotMatch(@"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.", r.AllText());
    }

    [Fact]
    public void Revoking_an_inherited_row_from_the_pipeline_names_the_scope_and_writes_nothing()
    {
        int mark = _w.Host.Requests.Count;
        var r = _w.Ps.Run("Get-AcrPullAccess -Registry cmdreg1 | Where-Object ScopeLevel -eq ResourceGroup | Revoke-AcrPullAccess -Confirm:$false");

        Assert.Empty(r.Output);
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.Equal("Revoke-AcrPullAccess.InheritedAssignment,AcrIdentity.Commands.RevokeAcrPullAccessCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidOperation, e.CategoryInfo.Category);
        Assert.Contains($"-Scope '{_w.Rg("reg")}'", e.ErrorDetails.RecommendedAction, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(_w.Rg("reg"), (string)e.TargetObject, ignoreCase: true);
        Assert.Empty(WritesSince(mark));
    }

    [Fact]
    public void New_identity_pipes_into_enable_as_its_user_assigned_identity()
    {
        var r = _w.Ps.Run("New-AcrPullIdentity -Name cmdpuller2 -ResourceGroupName apps -Registry cmdreg1 | Enable-AcrManagedIdentityPull -ResourceId $args[0] -Registry cmdreg1", _w.App("app3"));
        Assert.Empty(r.Errors);
        PSObject result = Assert.Single(r.Output);
        Assert.Equal("AcrIdentity.ManagedIdentityPullResult", result.BaseObject.GetType().FullName);
        Assert.Equal(_w.App("app3"), result.Prop<string>("ResourceId"), ignoreCase: true);
        Assert.EndsWith("/userAssignedIdentities/cmdpuller2", result.Prop<string>("IdentityResourceId"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void New_identity_feeds_enable_and_its_row_pipes_into_grant_and_revoke()
    {
        var made = _w.Ps.Run("$global:pullId = New-AcrPullIdentity -Name cmdpuller1 -ResourceGroupName apps -Registry cmdreg1; $global:pullId");
        PSObject id = made.Single();
        Assert.Equal("AcrIdentity.AcrPullIdentity", id.BaseObject.GetType().FullName);
        Assert.Equal("Created", id.Prop<string>("Status"));
        Assert.Equal("Created", id.Prop<string>("GrantStatus"));
        string principal = id.Prop<string>("PrincipalId");

        // Enable takes the object for -UserAssignedIdentity (its Id) and finds the grant already there.
        var enabled = _w.Ps.Run("Enable-AcrManagedIdentityPull -ResourceId $args[0] -Registry cmdreg1 -UserAssignedIdentity $global:pullId", _w.App("app3"));
        PSObject result = enabled.Single();
        Assert.Equal(id.Prop<string>("Id"), result.Prop<string>("IdentityResourceId"), ignoreCase: true);
        Assert.Contains(result.Prop<object[]>("Steps").Cast<object>().Select(s => PSObject.AsPSObject(s)), s => s.Prop<string>("Step") == "RoleAssignment" && s.Prop<string>("Outcome") == "AlreadyDone");

        // A Get row pipes into Grant (by PrincipalId) for another registry: an ABAC one gets Repository Reader.
        var granted = _w.Ps.Run("Get-AcrPullAccess -Registry cmdreg1 -PrincipalId $args[0] | Grant-AcrPullAccess -Registry cmdabac1 -Confirm:$false", principal);
        PSObject change = granted.Single();
        Assert.Equal("Created", change.Prop<string>("Status"));
        Assert.Equal("Container Registry Repository Reader", change.Prop<string>("Role"));

        // And into Revoke: the direct grant goes, and a second run finds nothing.
        var revoked = _w.Ps.Run("Get-AcrPullAccess -Registry cmdreg1 -PrincipalId $args[0] | Revoke-AcrPullAccess -Confirm:$false", principal);
        Assert.Equal("Removed", revoked.Single().Prop<string>("Status"));
        var again = _w.Ps.Run("Revoke-AcrPullAccess -Principal cmdpuller1 -Registry cmdreg1 -Confirm:$false");
        Assert.Equal("AlreadyAbsent", again.Single().Prop<string>("Status"));
    }

    [Fact]
    public void Grant_whatif_writes_nothing_and_a_real_grant_is_idempotent()
    {
        string app1 = _w.App("app1");
        int mark = _w.Host.Requests.Count;
        var whatIf = _w.Ps.Run("Grant-AcrPullAccess -Principal $args[0] -Registry cmdabac1 -WhatIf", app1);
        Assert.Empty(whatIf.Errors);
        Assert.Empty(whatIf.Output);
        Assert.Empty(WritesSince(mark));

        var first = _w.Ps.Run("Grant-AcrPullAccess -Principal $args[0] -Registry cmdabac1 -Repository team/ -Confirm:$false", app1).Single();
        Assert.Equal("Created", first.Prop<string>("Status"));
        Assert.Contains("system-assigned identity of", first.Prop<string>("PrincipalSource"));
        mark = _w.Host.Requests.Count;
        var second = _w.Ps.Run("Grant-AcrPullAccess -Principal $args[0] -Registry cmdabac1 -Repository team/ -Confirm:$false", app1).Single();
        Assert.Equal("AlreadyGranted", second.Prop<string>("Status"));
        Assert.Empty(WritesSince(mark));
    }

    [Fact]
    public void Bad_scope_is_a_clear_error()
    {
        var r = _w.Ps.Run("Get-AcrPullAccess -Scope '/subscriptions/x/resourceGroups'");
        ErrorRecord e = Assert.Single(r.Errors);
        Assert.StartsWith("Get-AcrPullAccess.InvalidScope", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
    }
}
