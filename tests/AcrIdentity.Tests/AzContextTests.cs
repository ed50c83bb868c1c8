using System.Management.Automation;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>Design §3 (2): the caller's Az context, through a stand-in Az.Accounts with the real object shapes.</summary>
public class AzContextTests : SandboxTest
{
    public AzContextTests(SandboxFixture sandbox) : base(sandbox) { }

    [Theory]
    [InlineData("2")] // before 2.17: Token is a string
    [InlineData("4")] // 2.17-4.x: string unless -AsSecureString
    [InlineData("5")] // 5.0+: always a SecureString
    public void Az_context_supplies_subscription_cloud_and_tokens(string generation)
    {
        ImportAzStandIn(generation);

        var result = Ps.Run("Get-AcrIdentityContext");

        PSObject context = result.Single();
        Assert.Equal("AzContext", context.Properties["Source"].Value);
        Assert.Equal(Sandbox.Endpoints.Operator.ClientId, context.Properties["Account"].Value);
        Assert.Equal(Sandbox.Endpoints.SubscriptionIds[0], (string)context.Properties["SubscriptionId"].Value, ignoreCase: true);
        // The name comes from ARM (the stand-in's context says "az-context-name"), so the token worked.
        Assert.NotEqual("az-context-name", context.Properties["SubscriptionName"].Value);
        Assert.False(string.IsNullOrEmpty(context.Properties["SubscriptionName"].Value as string));
        Assert.Equal(new[] { Sandbox.ArmAudience }, AzTokenRequests().Distinct());
        // 4.x warns unless -AsSecureString is passed; the module passes it.
        Assert.Empty(result.Warnings);
        Sandbox.AssertNoSecrets(result);
    }

    [Fact]
    public void Sovereign_cloud_endpoints_come_from_the_context()
    {
        // AzureChinaCloud by name, but every endpoint points at the sandbox: the module must use the
        // context's endpoints and registry suffix, not its own table for that cloud.
        ImportAzStandIn("5", environmentName: "AzureChinaCloud", acrSuffix: "azurecr.cn");

        var result = Ps.Run("Get-AcrIdentityContext");

        PSObject context = result.Single();
        Assert.Equal("AzureChinaCloud", context.Properties["Environment"].Value);
        Assert.Equal(new Uri(Sandbox.Endpoints.ArmEndpoint), new Uri((string)context.Properties["ResourceManagerUrl"].Value));
        Assert.Equal(new Uri(Sandbox.LoginEndpoint), new Uri((string)context.Properties["AuthorityHost"].Value));
        Assert.Equal("azurecr.cn", context.Properties["ContainerRegistrySuffix"].Value);
        Assert.False(string.IsNullOrEmpty(context.Properties["SubscriptionName"].Value as string));
        Sandbox.AssertNoSecrets(result);
    }

    [Fact]
    public void The_token_scan_recognises_a_real_sandbox_token()
    {
        // Guards the "no token in any stream" checks: they must fail when a token does appear.
        ImportAzStandIn("2");
        var leaked = Ps.Run("(Get-AzAccessToken -ResourceUrl $args[0]).Token", Sandbox.ArmAudience);

        Assert.Single(leaked.Output);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Sandbox.AssertNoSecrets(leaked));
        var secret = Ps.Run("$args[0]", Sandbox.Endpoints.Operator.ClientSecret);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Sandbox.AssertNoSecrets(secret));
    }

    [Fact]
    public void Az_installed_but_signed_out_is_NotConnected()
    {
        ImportAzStandIn("5", signedIn: false);

        var result = Ps.Run("Get-AcrIdentityContext");

        Assert.NotNull(result.Terminating);
        Assert.Equal("Get-AcrIdentityContext.NotConnected", result.Terminating!.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Empty(AzTokenRequests());
    }
}
