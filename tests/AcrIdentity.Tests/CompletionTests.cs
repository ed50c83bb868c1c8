using System.Diagnostics;
using System.Net;
using AcrIdentity.Sandbox;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>Tab completion (TabExpansion2, as an editor or the console calls it) against the seed-world sandbox.</summary>
[Collection(SandboxCollection.Name)]
public sealed class CompletionTests : IClassFixture<SeedWorldSandbox>, IDisposable
{
    private readonly SeedWorldSandbox _sandbox;
    private readonly EnvScope _env = EnvScope.Clean();
    private readonly PowerShellSession _ps = new();

    public CompletionTests(SeedWorldSandbox sandbox)
    {
        _sandbox = sandbox;
        _ps.Run("Disconnect-AcrIdentity; [AcrIdentity.Completion.ResourceCompleter]::ClearCache()");
    }

    private void Connect()
    {
        SandboxEndpoints ep = _sandbox.Host.Endpoints;
        var secret = new NetworkCredential(string.Empty, ep.Operator.ClientSecret).SecurePassword;
        var r = _ps.Run("$null = Connect-AcrIdentity -Environment $args[0] -ApplicationId $args[1] -ClientSecret $args[2]", _sandbox.Host.EndpointsFile, ep.Operator.ClientId, secret);
        Assert.True(r.Errors.Count == 0, "connect: " + r);
    }

    private List<string> Complete(string input)
    {
        var r = _ps.Run("(TabExpansion2 -inputScript $args[0] -cursorColumn $args[0].Length).CompletionMatches | ForEach-Object CompletionText", input);
        Assert.True(r.Errors.Count == 0, "TabExpansion2: " + r);
        return r.Output.Select(o => o.ToString()).ToList();
    }

    [Theory]
    [InlineData("Enable-AcrManagedIdentityPull -Registry myC", "myContainerRegistry")]
    [InlineData("Get-AcrPullAccess -Registry my", "myContainerRegistry")]
    [InlineData("Connect-AcrRegistry -Registry MYCONT", "myContainerRegistry")]
    [InlineData("New-AcrPullIdentity -ResourceGroupName myR", "myResourceGroup")]
    [InlineData("Enable-AcrManagedIdentityPull -UserAssignedIdentity myAC", "myACRId")]
    public void Names_come_from_the_current_context(string input, string expected)
    {
        Connect();
        Assert.Equal(new[] { expected }, Complete(input));
    }

    [Fact]
    public void Every_cmdlet_with_a_completed_parameter_completes_it()
    {
        var r = _ps.Run("foreach ($p in [AcrIdentity.Completion.ResourceCompleter]::Parameters) { foreach ($c in Get-Command -Module AcrIdentity) { if ($c.Parameters.ContainsKey($p)) { $done = $c.Parameters[$p].Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] -and $_.Type -eq [AcrIdentity.Completion.ResourceCompleter] }; \"$($c.Name) -$p $(@($done).Count)\" } } }");
        var lines = r.Output.Select(o => o.ToString()).ToList();
        Assert.Contains("Enable-AcrManagedIdentityPull -UserAssignedIdentity 1", lines);
        Assert.Contains("New-AcrPullIdentity -ResourceGroupName 1", lines);
        Assert.All(lines, l => Assert.EndsWith(" 1", l));
    }

    [Fact]
    public void Import_does_not_load_the_engine()
    {
        // A fresh process: this one's runspaces have long loaded it. Import-Module is all a profile pays for.
        var result = ChildProcess.RunDotnet(Repo.ProjectDll("tools/PwshHost", "PwshHost"), new[] { "-Command",
            "Import-Module AcrIdentity; $null = Get-Command -Module AcrIdentity -Syntax; [string]::Join(',', [System.AppDomain]::CurrentDomain.GetAssemblies().GetName().Name)" },
            new Dictionary<string, string?> { ["ACRIDENTITY_MODULE_ROOT"] = Path.Combine(Repo.Root, "out") });
        Assert.True(result.ExitCode == 0, result.ToString());
        string[] loaded = result.StdOut.Trim().Split(',');
        Assert.Contains("AcrIdentity", loaded);
        Assert.DoesNotContain("AcrIdentity.Engine", loaded);
    }

    [Fact]
    public void Answers_are_cached_for_a_bounded_time()
    {
        Connect();
        Assert.Equal(new[] { "myContainerRegistry" }, Complete("Test-AcrPullAccess x -Registry myC"));
        int before = _sandbox.Host.Requests.Entries.Count(e => e.PathAndQuery.Contains("Microsoft.ContainerRegistry/registries?", StringComparison.OrdinalIgnoreCase));

        Assert.Equal(new[] { "myContainerRegistry" }, Complete("Test-AcrPullAccess x -Registry myC"));
        int cached = _sandbox.Host.Requests.Entries.Count(e => e.PathAndQuery.Contains("Microsoft.ContainerRegistry/registries?", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(before, cached);

        _ps.Run("[AcrIdentity.Completion.ResourceCompleter]::CacheDuration = [timespan]::FromMilliseconds(1)");
        try
        {
            Thread.Sleep(20);
            Assert.Equal(new[] { "myContainerRegistry" }, Complete("Test-AcrPullAccess x -Registry myC"));
            int expired = _sandbox.Host.Requests.Entries.Count(e => e.PathAndQuery.Contains("Microsoft.ContainerRegistry/registries?", StringComparison.OrdinalIgnoreCase));
            Assert.Equal(cached + 1, expired);
        }
        finally
        {
            _ps.Run("[AcrIdentity.Completion.ResourceCompleter]::CacheDuration = [timespan]::FromMinutes(2)");
        }
    }

    [Fact]
    public async Task Names_come_from_the_Az_context_when_there_is_no_Connect_AcrIdentity_context()
    {
        // The stand-in Az.Accounts (tests/.../TestModules) signed in as the operator in an Az environment for the sandbox.
        SandboxEndpoints ep = _sandbox.Host.Endpoints;
        using var http = new HttpClient();
        using var doc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(ep.ArmEndpoint.TrimEnd('/') + "/metadata/endpoints?api-version=2022-09-01"));
        var cloud = doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Array
            ? doc.RootElement.EnumerateArray().First(c => c.GetProperty("resourceManager").GetString()!.TrimEnd('/') == ep.ArmEndpoint.TrimEnd('/'))
            : doc.RootElement;
        var auth = cloud.GetProperty("authentication");
        _env.Set("AZSTANDIN_GENERATION", "5").Set("AZSTANDIN_SIGNED_IN", "1")
            .Set("AZSTANDIN_AUTHORITY", auth.GetProperty("loginEndpoint").GetString())
            .Set("AZSTANDIN_TENANT", ep.TenantId).Set("AZSTANDIN_CLIENT_ID", ep.Operator.ClientId).Set("AZSTANDIN_CLIENT_SECRET", ep.Operator.ClientSecret)
            .Set("AZSTANDIN_ENVIRONMENT", "AcrIdentitySandbox").Set("AZSTANDIN_ARM", ep.ArmEndpoint)
            .Set("AZSTANDIN_AUDIENCE", auth.GetProperty("audiences")[0].GetString()).Set("AZSTANDIN_ACR_SUFFIX", "azurecr.io")
            .Set("AZSTANDIN_SUBSCRIPTION_ID", ep.SubscriptionIds[0]).Set("AZSTANDIN_SUBSCRIPTION_NAME", "az-context-name");
        var imported = _ps.Run("Import-Module -Name $args[0] -Force -ErrorAction Stop", Path.Combine(Repo.TestModules, "Az.Accounts", "Az.Accounts.psd1"));
        Assert.True(imported.Errors.Count == 0, "stand-in Az.Accounts: " + imported);

        Assert.Equal(new[] { "myContainerRegistry" }, Complete("Enable-AcrManagedIdentityPull x -Registry myCont"));
        Assert.Equal(new[] { "myResourceGroup" }, Complete("New-AcrPullIdentity -ResourceGroupName myRes"));
    }

    [Fact]
    public void Without_a_context_Tab_is_silent_and_quick()
    {
        // No Connect-AcrIdentity, no Az, no managed identity, no environment credentials.
        var watch = Stopwatch.StartNew();
        var r = _ps.Run("(TabExpansion2 -inputScript 'Get-AcrPullAccess -Registry myC' -cursorColumn 31).CompletionMatches | ForEach-Object CompletionText");
        watch.Stop();
        Assert.Empty(r.Errors);
        Assert.Empty(r.Warnings);
        Assert.DoesNotContain(r.Output, o => o.ToString() == "myContainerRegistry");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), "Tab took " + watch.Elapsed);
    }

    public void Dispose()
    {
        _ps.Run("Disconnect-AcrIdentity; [AcrIdentity.Completion.ResourceCompleter]::ClearCache()");
        _ps.Dispose();
        _env.Dispose();
    }
}
