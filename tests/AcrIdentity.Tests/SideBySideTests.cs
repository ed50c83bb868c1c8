using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// Issue 2 §2, in fresh processes: Azure.Core 1.36 (what Az.Accounts brings) is loaded and used in the
/// default context, then AcrIdentity (on Azure.Core 1.64) is imported and makes an authenticated ARM call.
/// </summary>
[Collection(SandboxCollection.Name)]
public class SideBySideTests
{
    private readonly SandboxFixture _sandbox;

    public SideBySideTests(SandboxFixture sandbox) => _sandbox = sandbox;

    private string App => Repo.ProjectDll("tests/AcrIdentity.SideBySide", "AcrIdentity.SideBySide");

    [Fact]
    public void Both_Azure_Core_versions_work_in_one_process()
    {
        var result = ChildProcess.RunDotnet(App, new[] { "--endpoints", _sandbox.EndpointsFile, "--module", Repo.ModuleManifest });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("before: Azure.Core 1.36.0.0 in Default: GET metadata -> 200", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("after: Azure.Core 1.36.0.0 in Default: GET metadata -> 200", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("Connect-AcrIdentity: source ConnectAcrIdentity", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("azure.core 1.36.0.0 Default", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("azure.core 1.64.0.0 AcrIdentity", result.StdOut, StringComparison.Ordinal);
        _sandbox.AssertNoSecrets(result.StdOut + result.StdErr);
    }

    [Fact]
    public void Without_the_load_context_the_engine_cannot_load_beside_Azure_Core_1_36()
    {
        var result = ChildProcess.RunDotnet(App, new[] { "--endpoints", _sandbox.EndpointsFile, "--module", Repo.ModuleManifest, "--without-isolation" });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("without isolation: ", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("Azure.Core, Version=1.64.0.0", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("azure.core 1.64.0.0", result.StdOut, StringComparison.Ordinal);
    }
}
