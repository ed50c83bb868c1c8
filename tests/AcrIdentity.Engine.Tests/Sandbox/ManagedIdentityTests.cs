using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Tests.Support;

namespace AcrIdentity.Engine.Tests.Sandbox;

/// <summary>
/// Each case runs in its own process: MSAL keeps the managed-identity source and the IMDS address in
/// process-wide statics, so two flavours in one process would test only the first.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class ManagedIdentityTests
{
    private readonly SandboxFixture _sbx;

    public ManagedIdentityTests(SandboxFixture sandbox) => _sbx = sandbox;

    [Fact]
    public async Task App_service_identity_endpoint_in_the_environment_is_used()
    {
        var op = _sbx.Host.Endpoints.Operator;
        var result = await Child.ResolveAsync(new Dictionary<string, string?>
        {
            ["IDENTITY_ENDPOINT"] = op.IdentityEndpoint,
            ["IDENTITY_HEADER"] = op.IdentityHeader,
            [CredentialResolver.EnvironmentVariable] = _sbx.Host.EndpointsFile,
        });
        Assert.True(result["reason"] is null, result.ToJsonString());
        Assert.Equal("ManagedIdentity", (string?)result["source"]);
        Assert.Equal("ManagedIdentity (system-assigned)", (string?)result["account"]);
        Assert.Equal(_sbx.SubscriptionId, (string?)result["subscriptionId"]);
        Assert.Equal(_sbx.Host.Endpoints.TenantId, (string?)result["tenantId"]);
        Assert.Equal(200, (int?)result["status"]);
        Assert.Contains("IDENTITY_ENDPOINT", (string?)result["streams"]);
        Assert.DoesNotContain("eyJ", (string?)result["streams"]);
        Assert.DoesNotContain(op.IdentityHeader!, (string?)result["streams"]);
    }

    [Fact]
    public async Task Imds_through_the_pod_identity_host_is_used()
    {
        var op = _sbx.Host.Endpoints.Operator;
        Assert.False(string.IsNullOrEmpty(op.ImdsEndpoint), "endpoints.json names no IMDS endpoint for the operator");
        var result = await Child.ResolveAsync(new Dictionary<string, string?>
        {
            ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = op.ImdsEndpoint,
            [CredentialResolver.EnvironmentVariable] = _sbx.Host.EndpointsFile,
        });
        Assert.True(result["reason"] is null, result.ToJsonString());
        Assert.Equal("ManagedIdentity", (string?)result["source"]);
        Assert.Equal(_sbx.SubscriptionId, (string?)result["subscriptionId"]);
        Assert.Equal(200, (int?)result["status"]);
        Assert.Contains("IMDS", (string?)result["streams"]);
    }

    [Fact]
    public async Task Explicit_identity_selects_the_imds_identity_even_without_announcement_variables()
    {
        // -Identity with only the IMDS redirect: the same path a VM takes against 169.254.169.254.
        var op = _sbx.Host.Endpoints.Operator;
        var result = await Child.ResolveAsync(new Dictionary<string, string?>
        {
            ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = op.ImdsEndpoint,
            ["AZURE_SUBSCRIPTION_ID"] = _sbx.SubscriptionId,
            [CredentialResolver.EnvironmentVariable] = _sbx.Host.EndpointsFile,
        }, "--identity");
        Assert.True(result["reason"] is null, result.ToJsonString());
        Assert.Equal(_sbx.SubscriptionId, (string?)result["subscriptionId"]);
        Assert.Equal(200, (int?)result["status"]);
    }

    [Fact]
    public async Task Unknown_user_assigned_client_id_is_an_authentication_error()
    {
        var op = _sbx.Host.Endpoints.Operator;
        var result = await Child.ResolveAsync(new Dictionary<string, string?>
        {
            ["IDENTITY_ENDPOINT"] = op.IdentityEndpoint,
            ["IDENTITY_HEADER"] = op.IdentityHeader,
            [CredentialResolver.EnvironmentVariable] = _sbx.Host.EndpointsFile,
        }, "--identity", "--client-id", Guid.NewGuid().ToString());
        Assert.Equal("AuthenticationError", (string?)result["category"]);
    }

    [Fact]
    public async Task Connect_with_identity_becomes_the_context_the_resolver_returns()
    {
        var op = _sbx.Host.Endpoints.Operator;
        var result = await Child.RunAsync(new Dictionary<string, string?>
        {
            ["IDENTITY_ENDPOINT"] = op.IdentityEndpoint,
            ["IDENTITY_HEADER"] = op.IdentityHeader,
            [CredentialResolver.EnvironmentVariable] = _sbx.Host.EndpointsFile,
        }, "connect-identity");
        Assert.True(result["reason"] is null, result.ToJsonString());
        Assert.Equal("ConnectAcrIdentity", (string?)result["connectedSource"]);
        Assert.Equal("ConnectAcrIdentity", (string?)result["source"]);
        Assert.True((bool?)result["sameAsConnected"]);
        Assert.Equal("ManagedIdentity", (string?)result["accountType"]);
        Assert.Equal(200, (int?)result["status"]);
    }

    [Fact]
    public async Task Explicit_identity_wins_over_a_connected_service_principal()
    {
        var op = _sbx.Host.Endpoints.Operator;
        var result = await Child.RunAsync(new Dictionary<string, string?>
        {
            ["IDENTITY_ENDPOINT"] = op.IdentityEndpoint,
            ["IDENTITY_HEADER"] = op.IdentityHeader,
            ["CHILD_APP_ID"] = op.ClientId,
            ["CHILD_SECRET"] = op.ClientSecret,
            [CredentialResolver.EnvironmentVariable] = _sbx.Host.EndpointsFile,
        }, "connect-sp-then-identity");
        Assert.True(result["reason"] is null, result.ToJsonString());
        Assert.Equal("ConnectAcrIdentity", (string?)result["connectedSource"]);
        Assert.Equal("ManagedIdentity", (string?)result["source"]);
        Assert.Equal(200, (int?)result["status"]);
        Assert.DoesNotContain(op.ClientSecret, (string?)result["streams"]);
    }
}
