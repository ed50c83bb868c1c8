using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// IMDS (a VM's managed identity) through AZURE_POD_IDENTITY_AUTHORITY_HOST. MSAL keeps the IMDS address in
/// a static, so this runs in a child process (tools/PwshHost) instead of this one.
/// </summary>
[Collection(SandboxCollection.Name)]
public class ManagedIdentityImdsTests
{
    private readonly SandboxFixture _sandbox;

    public ManagedIdentityImdsTests(SandboxFixture sandbox) => _sandbox = sandbox;

    [Fact]
    public void Connect_with_Identity_and_the_ambient_fallback_both_use_IMDS()
    {
        string imds = _sandbox.Endpoints.Operator.ImdsEndpoint ?? string.Empty;
        Assert.False(string.IsNullOrEmpty(imds), "the sandbox gives the operator an IMDS endpoint");
        string script = @"
            $VerbosePreference = 'Continue'
            Import-Module AcrIdentity
            $c = Connect-AcrIdentity -Environment $env:TEST_ENDPOINTS -Identity
            'connect={0}|{1}|{2}' -f $c.Source, $c.AccountType, $c.SubscriptionId
            Disconnect-AcrIdentity
            $g = Get-AcrIdentityContext
            'ambient={0}|{1}|{2}' -f $g.Source, $g.AccountType, $g.SubscriptionId";

        var result = ChildProcess.RunDotnet(Repo.ProjectDll("tools/PwshHost", "PwshHost"), new[] { "-Command", script }, new Dictionary<string, string?>
        {
            ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = imds,
            ["ACRIDENTITY_ENVIRONMENT"] = _sandbox.EndpointsFile, // cloud for the ambient managed identity
            ["TEST_ENDPOINTS"] = _sandbox.EndpointsFile,
            ["ACRIDENTITY_MODULE_ROOT"] = Path.Combine(Repo.Root, "out"),
        });

        Assert.True(result.ExitCode == 0, result.ToString());
        string sub = _sandbox.Endpoints.SubscriptionIds[0];
        Assert.Contains($"connect=ConnectAcrIdentity|ManagedIdentity|{sub}", result.StdOut, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"ambient=ManagedIdentity|ManagedIdentity|{sub}", result.StdOut, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("VERBOSE:", result.StdErr, StringComparison.Ordinal);
        _sandbox.AssertNoSecrets(result.StdOut + result.StdErr);
    }
}
