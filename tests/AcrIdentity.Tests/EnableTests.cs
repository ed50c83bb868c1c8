using System.Management.Automation;
using AcrIdentity.Sandbox.Behaviour;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// Enable-AcrManagedIdentityPull in a real PowerShell engine against the seed docs' world: one call per recipe,
/// the sandbox's state afterwards is what the recipe leaves, and a second call writes nothing.
/// </summary>
public sealed class EnableTests
{
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private const string Cmd = "Enable-AcrManagedIdentityPull";

    private static void AssertOneAcrPull(EnableSandbox s, string principalId)
    {
        var mine = s.RegistryAssignments().Where(a => string.Equals(a.PrincipalId, principalId, StringComparison.OrdinalIgnoreCase)).ToList();
        var one = Assert.Single(mine);
        Assert.Equal(AcrPull, one.RoleDefinitionName, ignoreCase: true);
        Assert.Equal("ServicePrincipal", one.PrincipalType);
    }

    private static PSObject Single(ScriptResult r)
    {
        PSObject o = r.Single();
        Assert.Equal("AcrIdentity.ManagedIdentityPullResult", o.BaseObject.GetType().FullName);
        return o;
    }

    private static void AssertRerunWritesNothing(EnableSandbox s, string script, params object?[] args)
    {
        int mark = s.Mark;
        var again = s.Run(script, args);
        Assert.Empty(again.Errors);
        Assert.All(again.Output, o => Assert.Equal("AlreadyConfigured", o.Prop<string>("Status")));
        Assert.Empty(s.WritesSince(mark));
    }

    [Fact]
    public async Task Seed000_system_assigned_web_app_in_one_call_by_registry_name()
    {
        await using var s = await EnableSandbox.StartAsync();
        const string script = "Enable-AcrManagedIdentityPull -ResourceId $args[0] -Registry myContainerRegistry";
        var r = s.Run(script, s.LinuxApp);

        PSObject o = Single(r);
        Assert.Equal("Configured", o.Prop<string>("Status"));
        Assert.Equal("WebApp", o.Prop<string>("TargetKind"));
        Assert.Equal(s.Registry, o.Prop<string>("Registry"), ignoreCase: true);
        Assert.Equal(s.LinuxApp, o.Prop<string>("ResourceId"), ignoreCase: true);
        var steps = (object[])o.Properties["Steps"].Value;
        Assert.Equal(3, steps.Length);
        Assert.All(steps, st => Assert.Equal("Done", PSObject.AsPSObject(st).Prop<string>("Outcome")));
        Assert.Contains(r.Verbose, v => v.Message.Contains("is a name", StringComparison.Ordinal));

        var site = s.Get(s.LinuxApp);
        Assert.Equal("SystemAssigned", (string?)site["identity"]!["type"]);
        string principal = (string)site["identity"]!["principalId"]!;
        Assert.Equal(principal, o.Prop<string>("PrincipalId"));
        AssertOneAcrPull(s, principal);
        var config = site["properties"]!["siteConfig"]!;
        Assert.True((bool)config["acrUseManagedIdentityCreds"]!);
        Assert.True(string.IsNullOrEmpty((string?)config["acrUserManagedIdentityID"]));

        AssertRerunWritesNothing(s, script, s.LinuxApp);
    }

    [Fact]
    public async Task Seed000_user_assigned_identity_from_an_Az_style_object_sets_the_client_id()
    {
        await using var s = await EnableSandbox.StartAsync();
        var mi = s.Get(s.Uami);
        string clientId = (string)mi["properties"]!["clientId"]!;
        string principalId = (string)mi["properties"]!["principalId"]!;
        // What Get-AzUserAssignedIdentity returns, as far as binding goes.
        const string script = "$mi = [pscustomobject]@{ Name = 'myACRId'; Id = $args[1]; ClientId = $args[2]; PrincipalId = $args[3] }; " +
                              "Enable-AcrManagedIdentityPull -ResourceId $args[0] -Registry $args[4] -UserAssignedIdentity $mi";
        var r = s.Run(script, s.LinuxApp, s.Uami, clientId, principalId, s.LoginServer.ToUpperInvariant());

        PSObject o = Single(r);
        Assert.Equal("UserAssigned", o.Prop<string>("IdentityType"));
        Assert.Equal(clientId, o.Prop<string>("ClientId"));
        var site = s.Get(s.LinuxApp);
        Assert.Equal("UserAssigned", (string?)site["identity"]!["type"]);
        Assert.Equal(clientId, (string?)site["properties"]!["siteConfig"]!["acrUserManagedIdentityID"]);
        Assert.True((bool)site["properties"]!["siteConfig"]!["acrUseManagedIdentityCreds"]!);
        AssertOneAcrPull(s, principalId);
        AssertRerunWritesNothing(s, script, s.LinuxApp, s.Uami, clientId, principalId, s.LoginServer);
    }

    [Fact]
    public async Task Seed001_windows_container_web_app()
    {
        await using var s = await EnableSandbox.StartAsync();
        const string script = "Enable-AcrManagedIdentityPull -ResourceId $args[0] -Registry $args[1] -IdentityType SystemAssigned";
        PSObject o = Single(s.Run(script, s.WindowsApp, "https://" + s.LoginServer));
        Assert.Equal("Configured", o.Prop<string>("Status"));
        var site = s.Get(s.WindowsApp);
        Assert.Equal("SystemAssigned", (string?)site["identity"]!["type"]);
        Assert.True((bool)site["properties"]!["siteConfig"]!["acrUseManagedIdentityCreds"]!);
        AssertOneAcrPull(s, (string)site["identity"]!["principalId"]!);
        AssertRerunWritesNothing(s, script, s.WindowsApp, s.LoginServer);
    }

    [Fact]
    public async Task Seed002_container_group_by_pipeline_with_the_identity_by_name()
    {
        await using var s = await EnableSandbox.StartAsync();
        const string script = "[pscustomobject]@{ Id = $args[0]; Name = 'myContainerGroup' } | Enable-AcrManagedIdentityPull -Registry $args[1] -UserAssignedIdentity myACRId";
        PSObject o = Single(s.Run(script, s.ContainerGroup, s.LoginServer));
        Assert.Equal("ContainerGroup", o.Prop<string>("TargetKind"));
        var g = s.Get(s.ContainerGroup);
        Assert.Equal("UserAssigned", (string?)g["identity"]!["type"]);
        var cred = Assert.Single(g["properties"]!["imageRegistryCredentials"]!.AsArray());
        Assert.Equal(s.LoginServer, (string?)cred!["server"], ignoreCase: true);
        Assert.Equal(s.Uami, (string?)cred["identity"], ignoreCase: true);
        AssertOneAcrPull(s, (string)s.Get(s.Uami)["properties"]!["principalId"]!);
        AssertRerunWritesNothing(s, script, s.ContainerGroup, s.LoginServer);
    }

    [Fact]
    public async Task Seed003_aks_attach_acr_grants_the_kubelet_identity()
    {
        await using var s = await EnableSandbox.StartAsync();
        const string script = "Enable-AcrManagedIdentityPull -ResourceId $args[0] -Registry $args[1]";
        PSObject o = Single(s.Run(script, s.Aks, s.Registry));
        Assert.Equal("Kubelet", o.Prop<string>("IdentityType"));
        var cluster = s.Get(s.Aks);
        string kubelet = (string)cluster["properties"]!["identityProfile"]!["kubeletidentity"]!["objectId"]!;
        AssertOneAcrPull(s, kubelet);
        Assert.DoesNotContain(s.RegistryAssignments(), a => a.PrincipalId == (string?)cluster["identity"]!["principalId"]);
        AssertRerunWritesNothing(s, script, s.Aks, s.Registry);
    }

    [Fact]
    public async Task Seed004_vm_user_assigned_then_system_assigned()
    {
        await using var s = await EnableSandbox.StartAsync();
        string uamiPrincipal = (string)s.Get(s.Uami)["properties"]!["principalId"]!;
        PSObject user = Single(s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -UserAssignedIdentity $args[1]", s.Vm, s.Uami));
        Assert.Equal(new[] { "RoleAssignment", "Identity" }, ((object[])user.Properties["Steps"].Value).Select(st => PSObject.AsPSObject(st).Prop<string>("Step")));
        AssertOneAcrPull(s, uamiPrincipal);

        PSObject system = Single(s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -IdentityType SystemAssigned", s.Vm));
        Assert.Equal("Configured", system.Prop<string>("Status"));
        var vm = s.Get(s.Vm);
        Assert.Equal("SystemAssigned, UserAssigned", (string?)vm["identity"]!["type"]);
        AssertOneAcrPull(s, (string)vm["identity"]!["principalId"]!);
        AssertOneAcrPull(s, uamiPrincipal);
        Assert.Equal(2, s.RegistryAssignments().Count);
    }

    [Fact]
    public async Task Container_app_with_its_system_identity()
    {
        await using var s = await EnableSandbox.StartAsync();
        PSObject o = Single(s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry", s.ContainerApp));
        Assert.Equal("ContainerApp", o.Prop<string>("TargetKind"));
        var app = s.Get(s.ContainerApp);
        var entry = Assert.Single(app["properties"]!["configuration"]!["registries"]!.AsArray());
        Assert.Equal("system", (string?)entry!["identity"]);
        AssertOneAcrPull(s, (string)app["identity"]!["principalId"]!);
    }

    [Fact]
    public async Task Many_inputs_stream_through_and_one_bad_input_does_not_stop_the_rest()
    {
        await using var s = await EnableSandbox.StartAsync();
        var r = s.Run("$args[0], 'myWindowsApp', $args[1] | Enable-AcrManagedIdentityPull -Registry myContainerRegistry", s.LinuxApp, s.Vm);

        Assert.Equal(2, r.Output.Count);
        Assert.Null(r.Terminating);
        var error = Assert.Single(r.Errors);
        Assert.Equal($"{Cmd}.InvalidResourceId,AcrIdentity.Commands.EnableAcrManagedIdentityPullCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
        Assert.Equal("myWindowsApp", error.TargetObject);
        Assert.Equal(new[] { s.LinuxApp, s.Vm }, r.Output.Select(o => o.Prop<string>("ResourceId")), StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task WhatIf_writes_nothing_and_outputs_nothing()
    {
        await using var s = await EnableSandbox.StartAsync();
        int mark = s.Mark;
        var r = s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -UserAssignedIdentity myACRId -WhatIf", s.LinuxApp);
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output);
        Assert.Empty(s.WritesSince(mark));
        Assert.Contains(r.Verbose, v => v.Message.StartsWith("Plan for myLinuxApp: RoleAssignment create; Identity create; PullConfiguration update", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_result_pipes_back_in_by_ResourceId_and_its_table_view_columns_evaluate()
    {
        await using var s = await EnableSandbox.StartAsync();
        // The hosted engine has no Format-Table: evaluate the view's own column script blocks on the real result.
        var view = System.Xml.Linq.XDocument.Load(Path.Combine(Repo.ModuleDirectory, "AcrIdentity.format.ps1xml"))
            .Descendants("View").Single(v => v.Element("Name")?.Value == "ManagedIdentityPullResult");
        string[] blocks = view.Descendants("ScriptBlock").Select(b => b.Value).ToArray();
        Assert.Equal(3, blocks.Length);
        var r = s.Run(@"
            $r = Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -UserAssignedIdentity myACRId
            $again = $r | Enable-AcrManagedIdentityPull -Registry $r.Registry -UserAssignedIdentity $r.IdentityResourceId
            $again.Status
            foreach ($b in $args[1]) { $r | ForEach-Object ([scriptblock]::Create($b)) }", s.LinuxApp, blocks);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "AlreadyConfigured", "myLinuxApp", "UserAssigned myACRId", "RoleAssignment:Done, Identity:Done, PullConfiguration:Done" },
            r.Output.Select(o => o.ToString()));
    }

    [Fact]
    public async Task A_failed_step_is_reported_in_the_result_and_the_error_and_a_rerun_finishes()
    {
        await using var s = await EnableSandbox.StartAsync();
        s.Host.Behaviours.Faults.Add(new FaultRule { Method = "PATCH", PathContains = "/config/web", Status = 400, Code = "BadRequest", Message = "Injected.", Count = 1 });
        var r = s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -ErrorVariable err -ErrorAction SilentlyContinue; $err.Count", s.LinuxApp);

        PSObject o = r.Output[0];
        Assert.Equal("Failed", o.Prop<string>("Status"));
        Assert.Equal(new[] { "Done", "Done", "Failed" }, ((object[])o.Properties["Steps"].Value).Select(st => PSObject.AsPSObject(st).Prop<string>("Outcome")));
        Assert.Equal(1, (int)r.Output[1].BaseObject);

        PSObject rerun = Single(s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry", s.LinuxApp));
        Assert.Equal("Configured", rerun.Prop<string>("Status"));
        Assert.Equal(new[] { "AlreadyDone", "AlreadyDone", "Done" }, ((object[])rerun.Properties["Steps"].Value).Select(st => PSObject.AsPSObject(st).Prop<string>("Outcome")));
        Assert.Single(s.RegistryAssignments());
    }

    [Fact]
    public async Task Conflicting_parameters_stop_the_command_before_any_request()
    {
        await using var s = await EnableSandbox.StartAsync();
        int mark = s.Mark;
        var r = s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -Slot staging -IncludeSlots", s.LinuxApp);
        Assert.NotNull(r.Terminating);
        Assert.StartsWith($"{Cmd}.ConflictingSlotParameters", r.Terminating!.FullyQualifiedErrorId);
        Assert.Equal(0, s.Mark - mark);
    }

    [Fact]
    public async Task Disable_takes_Enable_output_from_the_pipeline_and_switches_the_app_back()
    {
        await using var s = await EnableSandbox.StartAsync();
        var r = s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry | Disable-AcrManagedIdentityPull -RemoveRoleAssignment", s.LinuxApp);

        PSObject o = Single(r);
        Assert.Equal("Disabled", o.Prop<string>("Status"));
        var site = s.Get(s.LinuxApp);
        Assert.False((bool)site["properties"]!["siteConfig"]!["acrUseManagedIdentityCreds"]!);
        Assert.Equal("SystemAssigned", (string?)site["identity"]!["type"]);
        Assert.Empty(s.RegistryAssignments());

        int mark = s.Mark;
        PSObject again = Single(s.Run("Disable-AcrManagedIdentityPull $args[0] myContainerRegistry", s.LinuxApp));
        Assert.Equal("AlreadyDisabled", again.Prop<string>("Status"));
        Assert.Empty(s.WritesSince(mark));
    }

    [Fact]
    public async Task Disable_WhatIf_writes_nothing()
    {
        await using var s = await EnableSandbox.StartAsync();
        Assert.Empty(s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry", s.LinuxApp).Errors);
        int mark = s.Mark;
        var r = s.Run("Disable-AcrManagedIdentityPull $args[0] myContainerRegistry -RemoveRoleAssignment -WhatIf", s.LinuxApp);
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output);
        Assert.Empty(s.WritesSince(mark));
        Assert.Single(s.RegistryAssignments());
    }

    [Fact]
    public async Task A_pipeline_of_targets_looks_the_registry_and_identity_up_once()
    {
        await using var s = await EnableSandbox.StartAsync();
        int mark = s.Mark;
        var r = s.Run("$args | Enable-AcrManagedIdentityPull -Registry myContainerRegistry -UserAssignedIdentity myACRId", s.LinuxApp, s.WindowsApp, s.Vm);

        Assert.Empty(r.Errors);
        Assert.Equal(3, r.Output.Count);
        var reads = s.Host.Requests.Entries.Skip(mark).Where(e => e.Method == "GET").Select(e => e.PathAndQuery.Split('?')[0]).ToList();
        Assert.Single(reads, p => p.EndsWith("/providers/Microsoft.ContainerRegistry/registries", StringComparison.OrdinalIgnoreCase));
        Assert.Single(reads, p => p.EndsWith("/providers/Microsoft.ManagedIdentity/userAssignedIdentities", StringComparison.OrdinalIgnoreCase));
    }
}
