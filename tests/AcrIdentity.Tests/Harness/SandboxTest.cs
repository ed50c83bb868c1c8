namespace AcrIdentity.Tests.Harness;

/// <summary>
/// A test with the shared sandbox, a clean environment and a fresh runspace with the module imported.
/// The module's Connect-AcrIdentity context is process-wide, so each test starts and ends disconnected.
/// </summary>
[Collection(SandboxCollection.Name)]
public abstract class SandboxTest : IDisposable
{
    protected SandboxTest(SandboxFixture sandbox)
    {
        Sandbox = sandbox;
        Env = EnvScope.Clean();
        Ps = new PowerShellSession();
        Ps.Run("Disconnect-AcrIdentity");
    }

    protected SandboxFixture Sandbox { get; }

    protected EnvScope Env { get; }

    protected PowerShellSession Ps { get; }

    /// <summary>Imports the stand-in Az.Accounts signed in as the sandbox's operator, in an Az environment named <paramref name="environmentName"/>.</summary>
    protected ScriptResult ImportAzStandIn(string generation, string environmentName = "AcrIdentitySandbox", string acrSuffix = "azurecr.io", bool signedIn = true)
    {
        var ep = Sandbox.Endpoints;
        Env.Set("AZSTANDIN_GENERATION", generation)
           .Set("AZSTANDIN_SIGNED_IN", signedIn ? "1" : "0")
           .Set("AZSTANDIN_AUTHORITY", Sandbox.LoginEndpoint)
           .Set("AZSTANDIN_TENANT", ep.TenantId)
           .Set("AZSTANDIN_CLIENT_ID", ep.Operator.ClientId)
           .Set("AZSTANDIN_CLIENT_SECRET", ep.Operator.ClientSecret)
           .Set("AZSTANDIN_ENVIRONMENT", environmentName)
           .Set("AZSTANDIN_ARM", ep.ArmEndpoint)
           .Set("AZSTANDIN_AUDIENCE", Sandbox.ArmAudience)
           .Set("AZSTANDIN_ACR_SUFFIX", acrSuffix)
           .Set("AZSTANDIN_GRAPH", ep.MicrosoftGraphEndpoint)
           .Set("AZSTANDIN_SUBSCRIPTION_ID", ep.SubscriptionIds[0])
           .Set("AZSTANDIN_SUBSCRIPTION_NAME", "az-context-name");
        var result = Ps.Run("Import-Module -Name $args[0] -Force -ErrorAction Stop",
            Path.Combine(Repo.TestModules, "Az.Accounts", "Az.Accounts.psd1"));
        Assert.True(result.Errors.Count == 0, "stand-in Az.Accounts did not import: " + result);
        return result;
    }

    protected IReadOnlyList<string> AzTokenRequests() =>
        Ps.Run("$global:AzStandInTokenRequests").Output.Select(o => o.ToString()).ToList();

    public void Dispose()
    {
        Ps.Run("Disconnect-AcrIdentity");
        Ps.Dispose();
        Env.Dispose();
        GC.SuppressFinalize(this);
    }
}
