using System.Management.Automation;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>Connect-AcrIdentity against the sandbox as a custom cloud (its endpoints.json).</summary>
public class ConnectTests : SandboxTest
{
    public ConnectTests(SandboxFixture sandbox) : base(sandbox) { }

    [Fact]
    public void Service_principal_with_the_sandbox_endpoints_file()
    {
        var ep = Sandbox.Endpoints;
        var result = Ps.Run("Connect-AcrIdentity -Environment $args[0] -ApplicationId $args[1] -ClientSecret $args[2]",
            Sandbox.EndpointsFile, ep.Operator.ClientId, Sandbox.OperatorSecret());

        PSObject context = result.Single();
        Assert.Equal("AcrIdentity.AcrIdentityContext", context.BaseObject.GetType().FullName);
        Assert.Equal("ConnectAcrIdentity", context.Properties["Source"].Value);
        Assert.Equal("ServicePrincipal", context.Properties["AccountType"].Value);
        Assert.Equal(ep.Operator.ClientId, context.Properties["Account"].Value);
        Assert.Contains((string)context.Properties["SubscriptionId"].Value, ep.SubscriptionIds, StringComparer.OrdinalIgnoreCase);
        Assert.False(string.IsNullOrEmpty(context.Properties["SubscriptionName"].Value as string), "the subscription name is read from ARM");
        Assert.Equal(new Uri(ep.ArmEndpoint), new Uri((string)context.Properties["ResourceManagerUrl"].Value));
        Assert.Contains(result.Verbose, v => v.Message.Contains("ARM GET", StringComparison.Ordinal));
        Sandbox.AssertNoSecrets(result);

        var current = Ps.Run("Get-AcrIdentityContext");
        Assert.Equal("ConnectAcrIdentity", current.Single().Properties["Source"].Value);
        Sandbox.AssertNoSecrets(current);
    }

    [Fact]
    public void Service_principal_as_a_PSCredential_and_a_relative_environment_path()
    {
        var ep = Sandbox.Endpoints;
        var result = Ps.Run(@"
            $null = $ExecutionContext.SessionState.Path.SetLocation([System.IO.Path]::GetDirectoryName($args[0]))
            $cred = [pscredential]::new($args[1], $args[2])
            Connect-AcrIdentity -Environment ./endpoints.json -ServicePrincipal -Credential $cred -Subscription $args[3]",
            Sandbox.EndpointsFile, ep.Operator.ClientId, Sandbox.OperatorSecret(), ep.SubscriptionIds[0]);

        PSObject context = result.Single();
        Assert.Equal(ep.SubscriptionIds[0], (string)context.Properties["SubscriptionId"].Value, ignoreCase: true);
        Sandbox.AssertNoSecrets(result);
    }

    [Fact]
    public void Managed_identity_through_IDENTITY_ENDPOINT()
    {
        var op = Sandbox.Endpoints.Operator;
        Assert.False(string.IsNullOrEmpty(op.IdentityEndpoint), "the sandbox gives the operator an IDENTITY_ENDPOINT");
        Env.Set("IDENTITY_ENDPOINT", op.IdentityEndpoint).Set("IDENTITY_HEADER", op.IdentityHeader);

        var result = Ps.Run("Connect-AcrIdentity -Environment $args[0] -Identity", Sandbox.EndpointsFile);

        PSObject context = result.Single();
        Assert.Equal("ManagedIdentity", context.Properties["AccountType"].Value);
        Assert.False(string.IsNullOrEmpty(context.Properties["SubscriptionName"].Value as string));
        Sandbox.AssertNoSecrets(result);
    }

    [Fact]
    public void Explicit_context_wins_over_the_Az_context_until_Disconnect()
    {
        ImportAzStandIn("5", environmentName: "AzContextCloud");
        var ep = Sandbox.Endpoints;
        var connected = Ps.Run(@"
            $null = Connect-AcrIdentity -Environment $args[0] -ApplicationId $args[1] -ClientSecret $args[2]
            Get-AcrIdentityContext", Sandbox.EndpointsFile, ep.Operator.ClientId, Sandbox.OperatorSecret());
        Assert.Equal("ConnectAcrIdentity", connected.Single().Properties["Source"].Value);
        Assert.Empty(AzTokenRequests()); // the Az context was not even asked

        var cleared = Ps.Run("Disconnect-AcrIdentity -PassThru");
        Assert.Equal("ConnectAcrIdentity", cleared.Single().Properties["Source"].Value);

        var after = Ps.Run("Get-AcrIdentityContext");
        PSObject az = after.Single();
        Assert.Equal("AzContext", az.Properties["Source"].Value);
        Assert.Equal("AzContextCloud", az.Properties["Environment"].Value);
        Assert.NotEmpty(AzTokenRequests());
        Sandbox.AssertNoSecrets(connected);
        Sandbox.AssertNoSecrets(after);
    }

    [Fact]
    public void Disconnect_without_Az_leaves_nothing_signed_in()
    {
        var ep = Sandbox.Endpoints;
        Ps.Run("Connect-AcrIdentity -Environment $args[0] -ApplicationId $args[1] -ClientSecret $args[2]", Sandbox.EndpointsFile, ep.Operator.ClientId, Sandbox.OperatorSecret()).Single();

        var result = Ps.Run("Disconnect-AcrIdentity; Get-AcrIdentityContext");

        Assert.NotNull(result.Terminating);
        Assert.Equal("Get-AcrIdentityContext.NotConnected", result.Terminating!.FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Two_identity_selectors_are_a_bad_invocation()
    {
        var result = Ps.Run("Connect-AcrIdentity -Environment $args[0] -Identity -ClientId 00000000-0000-0000-0000-000000000001 -ObjectId 00000000-0000-0000-0000-000000000002", Sandbox.EndpointsFile);

        Assert.NotNull(result.Terminating);
        Assert.Equal("Connect-AcrIdentity.AmbiguousIdentity", result.Terminating!.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidArgument, result.Terminating.CategoryInfo.Category);
    }

    [Fact]
    public void Unknown_environment_is_a_bad_invocation_with_a_fix()
    {
        var result = Ps.Run("Connect-AcrIdentity -Environment ./no-such-endpoints.json -Identity");

        Assert.NotNull(result.Terminating);
        Assert.Equal("Connect-AcrIdentity.EnvironmentNotFound", result.Terminating!.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("endpoints.json", result.Terminating.ErrorDetails.RecommendedAction, StringComparison.Ordinal);
    }
}
