using System.Management.Automation;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>Test-AcrPullAccess at the PowerShell level: the Enable → Test pipeline for every kind, -Quiet, binding, views.</summary>
[Collection(TestAccessCollection.Name)]
public sealed class TestAccessTests
{
    private readonly TestAccessSandbox _s;

    public TestAccessTests(TestAccessSandbox sandbox) => _s = sandbox;

    private static string Failures(PSObject report) =>
        string.Join("\n", ((object[])report.Properties["Checks"]!.Value).Cast<object>().Select(PSObject.AsPSObject)
            .Select(c => $"{c.Properties["Id"]!.Value}: {c.Properties["Result"]!.Value} — {c.Properties["Message"]!.Value}"));

    [Theory]
    [InlineData("Microsoft.Web/sites", "kindsLinuxApp", false)]
    [InlineData("Microsoft.Web/sites", "kindsWindowsApp", true)]
    [InlineData("Microsoft.ContainerInstance/containerGroups", "kindsContainerGroup", true)]
    [InlineData("Microsoft.Compute/virtualMachines", "kindsVm", false)]
    [InlineData("Microsoft.Compute/virtualMachineScaleSets", "kindsVmss", true)]
    [InlineData("Microsoft.ContainerService/managedClusters", "kindsAks", false)]
    [InlineData("Microsoft.App/containerApps", "kindscontainerapp", false)]
    public void Enable_piped_into_Test_passes_for_every_target_kind(string type, string name, bool userAssigned)
    {
        string id = _s.Id("kinds", type, name);
        string registry = _s.RegistryId("kinds", "kindsacr");
        string identity = _s.Id("kinds", "Microsoft.ManagedIdentity/userAssignedIdentities", "kindsId");
        // Before: the target cannot pull, and -Quiet says so.
        var before = _s.Ps.Run("Test-AcrPullAccess -ResourceId $args[0] -Registry $args[1] -Quiet", id, registry);
        Assert.False((bool)Assert.Single(before.Output).BaseObject, before.ToString());

        string enable = userAssigned
            ? "Enable-AcrManagedIdentityPull -ResourceId $args[0] -Registry $args[1] -UserAssignedIdentity $args[2] | Test-AcrPullAccess"
            : "Enable-AcrManagedIdentityPull -ResourceId $args[0] -Registry $args[1] | Test-AcrPullAccess";
        var result = _s.Ps.Run(enable, id, registry, identity);
        Assert.True(result.Errors.Count == 0, result.ToString());
        PSObject report = Assert.Single(result.Output);
        Assert.Equal("AcrIdentity.AcrPullAccessReport", report.BaseObject.GetType().FullName);
        Assert.True(report.Prop<bool>("CanPull"), Failures(report));
        Assert.Equal(id, report.Prop<string>("Target"), ignoreCase: true);
        Assert.Equal(registry, report.Prop<string>("Registry"), ignoreCase: true);
        Assert.Empty(report.Prop<string[]>("Failed"));

        var quiet = _s.Ps.Run("Test-AcrPullAccess -ResourceId $args[0] -Quiet", id);
        if (type.Contains("Compute") || type.Contains("ContainerService"))
        {
            // Nothing in a VM's or cluster's ARM names a registry: without -Registry there is nothing to check against.
            Assert.False((bool)Assert.Single(quiet.Output).BaseObject);
        }
        else
        {
            Assert.True((bool)Assert.Single(quiet.Output).BaseObject, quiet.ToString());
        }
    }

    [Fact]
    public void Checks_are_plain_objects_Pester_can_filter_and_the_views_render()
    {
        string app = _s.AppId("liveNoRole");
        var result = _s.Ps.Run("""
            $global:r = Test-AcrPullAccess -ResourceId $args[0]
            $r.CanPull
            ($r.Checks | Where-Object Result -eq 'Fail').Id
            ($r.Checks | Where-Object Id -eq 'PullRole').Fix
            """, app);
        Assert.True(result.Errors.Count == 0, result.ToString());
        Assert.Equal(false, result.Output[0].BaseObject);
        Assert.Equal("PullRole", result.Output[1].BaseObject);
        Assert.Contains("Enable-AcrManagedIdentityPull -ResourceId '" + app + "'", (string)result.Output[2].BaseObject);

        // Every column of both table views evaluates against real output (the hosted SDK has no Format-Table).
        var views = System.Xml.Linq.XDocument.Load(Path.Combine(Repo.ModuleDirectory, "AcrIdentity.format.ps1xml")).Descendants("View")
            .Where(v => (string?)v.Element("Name") is "AcrPullAccessReport" or "AcrPullAccessCheck").ToList();
        Assert.Equal(2, views.Count);
        foreach (var view in views)
        {
            string subject = (string)view.Element("Name")! == "AcrPullAccessReport" ? "$global:r" : "$global:r.Checks[0]";
            var headers = view.Descendants("TableColumnHeader").Count();
            var items = view.Descendants("TableColumnItem").ToList();
            Assert.Equal(headers, items.Count);
            foreach (var item in items)
            {
                string? property = (string?)item.Element("PropertyName");
                string script = property is not null
                    ? $"if ($null -eq {subject}.PSObject.Properties['{property}']) {{ throw 'no property {property}' }}; {subject}.{property}"
                    : $"{subject} | ForEach-Object {{ {(string)item.Element("ScriptBlock")!} }}";
                var column = _s.Ps.Run(script);
                Assert.True(column.Errors.Count == 0, $"{view.Element("Name")!.Value}: {script}: {column}");
            }
        }
    }

    [Fact]
    public void Bare_system_assigned_principal_id_with_a_registry_name()
    {
        string healthy = (string)_s.Host.World.GetResource(_s.AppId("liveHealthy"))!["identity"]!["principalId"]!;
        string noRole = (string)_s.Host.World.GetResource(_s.AppId("liveNoRole"))!["identity"]!["principalId"]!;
        var result = _s.Ps.Run("(Test-AcrPullAccess -Identity $args[0] -Registry liveacr -Image aci-helloworld:v1).CanPull; Test-AcrPullAccess -Identity $args[1] -Registry liveacr -Quiet", healthy, noRole);
        Assert.True(result.Errors.Count == 0, result.ToString());
        Assert.Equal(true, result.Output[0].BaseObject);
        Assert.Equal(false, result.Output[1].BaseObject);
    }

    [Fact]
    public void Bare_identity_needs_a_registry_and_bad_input_is_an_error_record()
    {
        var missing = _s.Ps.Run("Test-AcrPullAccess -Identity $args[0]", Guid.NewGuid().ToString());
        Assert.NotNull(missing.Terminating);
        var bad = _s.Ps.Run("Test-AcrPullAccess -ResourceId 'not-an-id'");
        var error = Assert.Single(bad.Errors);
        Assert.Equal("Test-AcrPullAccess.InvalidResourceId", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
    }
}
