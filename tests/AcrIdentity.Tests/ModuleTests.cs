using System.Management.Automation;
using System.Text.RegularExpressions;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>The built module folder imports in a real PowerShell 7.6 engine and says what it exports.</summary>
public class ModuleTests
{
    // The cmdlets of the foundation; later issues add more, so lists are compared with the assembly, not hard-coded.
    private static readonly string[] Foundation = { "Connect-AcrIdentity", "Disconnect-AcrIdentity", "Get-AcrIdentityContext" };

    [Fact]
    public void Get_Command_lists_every_cmdlet_each_with_an_output_type()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("Get-Command -Module AcrIdentity");

        Assert.Empty(result.Errors);
        var commands = result.Output.Select(o => (CommandInfo)o.BaseObject).ToList();
        Assert.Subset(commands.Select(c => c.Name).ToHashSet(), Foundation.ToHashSet());
        foreach (CommandInfo c in commands)
        {
            Assert.Equal(CommandTypes.Cmdlet, c.CommandType);
            Assert.True(c.OutputType.Count > 0, c.Name + " has no [OutputType]");
            // A real type of this module (or a .NET type), resolvable by scripts, never a made-up name.
            Assert.All(c.OutputType, t => Assert.NotNull(t.Type));
        }

        foreach (string name in Foundation)
        {
            CommandInfo c = commands.Single(x => x.Name == name);
            Assert.Equal("AcrIdentity.AcrIdentityContext", Assert.Single(c.OutputType).Name);
        }
    }

    [Fact]
    public void CmdletsToExport_lists_exactly_the_cmdlets_in_the_assembly()
    {
        // Import the dll alone: that exports every cmdlet it defines, whatever the manifest says.
        using var ps = new PowerShellSession(importModule: false);
        var inDll = ps.Run("(Import-Module -Name $args[0] -PassThru).ExportedCmdlets.Keys",
            Path.Combine(Repo.ModuleDirectory, "core", "AcrIdentity.dll"));
        var inManifest = ps.Run("(Test-ModuleManifest -Path $args[0]).ExportedCmdlets.Keys", Repo.ModuleManifest);

        Assert.Empty(inDll.Errors);
        Assert.Empty(inManifest.Errors);
        Assert.Equal(inDll.Output.Select(o => o.ToString()).Order(), inManifest.Output.Select(o => o.ToString()).Order());
        Assert.Subset(inManifest.Output.Select(o => o.ToString()).ToHashSet(), Foundation.ToHashSet());
    }

    [Fact]
    public void Manifest_version_is_the_build_version()
    {
        string props = File.ReadAllText(Path.Combine(Repo.Root, "Directory.Build.props"));
        string version = Regex.Match(props, "<Version>([^<-]+)").Groups[1].Value;
        using var ps = new PowerShellSession();
        var result = ps.Run("(Get-Module AcrIdentity).Version.ToString()");
        Assert.Equal(version, result.Single().ToString());
    }

    [Fact]
    public void Engine_and_Azure_load_into_the_module_context_not_the_default_one()
    {
        using var ps = new PowerShellSession();
        // Touch the engine and Azure.Core without network: a service principal ID that is not a GUID fails before any call.
        var failed = ps.Run("$s = [System.Net.NetworkCredential]::new('', 'x').SecurePassword; Connect-AcrIdentity -Environment AzureCloud -TenantId t -ApplicationId not-a-guid -ClientSecret $s");
        Assert.NotNull(failed.Terminating);
        var result = ps.Run(@"
            foreach ($a in [AppDomain]::CurrentDomain.GetAssemblies()) {
                $n = $a.GetName().Name
                if ($n -eq 'AcrIdentity' -or $n -eq 'AcrIdentity.Engine' -or $n -eq 'Azure.Core' -or $n -eq 'Azure.Identity') {
                    '{0}|{1}' -f $n, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($a).Name
                }
            }");
        Assert.Empty(result.Errors);
        var where = result.Output.Select(o => o.ToString().Split('|')).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Select(p => p[1]).ToList());

        Assert.Equal(new[] { "Default" }, where["AcrIdentity"]);
        Assert.Equal(new[] { "AcrIdentity" }, where["AcrIdentity.Engine"]);
        Assert.Equal(new[] { "AcrIdentity" }, where["Azure.Core"]);
        Assert.DoesNotContain("Default", where.GetValueOrDefault("Azure.Identity") ?? new List<string>());
    }

    [Fact]
    public void Engine_types_stay_out_of_scripts_and_output_types_are_nameable()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("[AcrIdentity.AcrIdentityContext].FullName; [AcrIdentity.AcrIdentityException].FullName");
        Assert.Equal(new[] { "AcrIdentity.AcrIdentityContext", "AcrIdentity.AcrIdentityException" }, result.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void Remove_and_import_again_works()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run(@"
            $before = @(Get-Command -Module AcrIdentity).Count
            Disconnect-AcrIdentity; Remove-Module AcrIdentity; Import-Module -Name $args[0]; Disconnect-AcrIdentity
            $before; @(Get-Command -Module AcrIdentity).Count", Repo.ModuleManifest);
        Assert.Empty(result.Errors);
        Assert.Equal(2, result.Output.Count);
        Assert.Equal(result.Output[0].BaseObject, result.Output[1].BaseObject);
    }
}
