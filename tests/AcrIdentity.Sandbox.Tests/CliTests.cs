using Xunit.Abstractions;

namespace AcrIdentity.Sandbox.Tests;

/// <summary>Skipped, with the reason, only where the az CLI is not installed.</summary>
public sealed class AzCliFactAttribute : FactAttribute
{
    public AzCliFactAttribute()
    {
        if (!File.Exists("/usr/bin/az"))
            Skip = "/usr/bin/az (Debian azure-cli) is not installed; tools/install-prereqs installs it";
    }
}

public sealed class CliTests
{
    readonly ITestOutputHelper _out;
    public CliTests(ITestOutputHelper output) => _out = output;

    [AzCliFact]
    public async Task Az_cli_script_passes_against_a_standalone_sandbox()
    {
        var script = Path.Combine(StandaloneTests.RepoRoot(), "tests", "cli", "az-cli.sh");
        var (code, output) = await AuthTool.RunAsync("bash", [script], new Dictionary<string, string>
        {
            // The sandbox built beside these tests (the source tree's bin may be mid-rebuild by another build).
            ["ACRIDENTITY_SANDBOX_DLL"] = Path.Combine(AppContext.BaseDirectory, "AcrIdentity.Sandbox.dll"),
            ["ACRIDENTITY_SANDBOX_CA_DIR"] = StandaloneTests.CaDir(),
            ["AZ"] = "/usr/bin/az",
        }, TimeSpan.FromMinutes(5));
        _out.WriteLine(output);
        Assert.True(code == 0, output);
        Assert.Contains("az-cli: all checks passed", output);
    }
}
