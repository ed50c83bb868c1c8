using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Tests.Support;

namespace AcrIdentity.Engine.Tests.Unit;

public class ResolverUnitTests
{
    [Fact]
    public async Task Nothing_signed_in_is_NotConnected_with_the_fix()
    {
        using var env = new EnvScope();
        var ex = await Assert.ThrowsAsync<EngineException>(() =>
            CredentialResolver.ResolveAsync(new ResolveRequest(), new RecordingHost(), CancellationToken.None));
        Assert.Equal("NotConnected", ex.Reason);
        Assert.Equal(EngineErrorCategory.AuthenticationError, ex.Category);
        Assert.Equal("Run Connect-AzAccount (or Connect-AcrIdentity) first.", ex.RecommendedAction);
    }

    [Fact]
    public async Task An_az_context_without_a_token_callback_is_not_a_sign_in()
    {
        using var env = new EnvScope();
        var ex = await Assert.ThrowsAsync<EngineException>(() =>
            CredentialResolver.ResolveAsync(new ResolveRequest { AzContext = new AzContextSnapshot { AccountId = "a" } }, new RecordingHost(), CancellationToken.None));
        Assert.Equal("NotConnected", ex.Reason);
    }

    [Fact]
    public async Task Az_context_gives_cloud_subscription_and_account_without_a_call()
    {
        using var env = new EnvScope();
        int calls = 0;
        var snapshot = new AzContextSnapshot
        {
            AccountId = "user@contoso.cn", AccountType = "User", TenantId = "t", SubscriptionId = "00000000-0000-0000-0000-0000000000cc",
            SubscriptionName = "China sub", EnvironmentName = "AzureChinaCloud", ResourceManagerUrl = "https://management.chinacloudapi.cn/",
            ActiveDirectoryAuthority = "https://login.chinacloudapi.cn/", ActiveDirectoryServiceEndpointResourceId = "https://management.core.chinacloudapi.cn/",
            ContainerRegistryEndpointSuffix = "azurecr.cn",
            GetAccessToken = (r, ct) => { calls++; return Task.FromResult(new AzAccessToken("x", DateTimeOffset.UtcNow.AddHours(1))); },
        };
        var ctx = await CredentialResolver.ResolveAsync(new ResolveRequest { AzContext = snapshot }, new RecordingHost(), CancellationToken.None);
        Assert.Equal(ContextSource.AzContext, ctx.Source);
        Assert.Equal("AzureChinaCloud", ctx.Cloud.Name);
        Assert.Equal("azurecr.cn", ctx.Cloud.AcrLoginServerSuffix);
        Assert.Equal("00000000-0000-0000-0000-0000000000cc", ctx.SubscriptionId);
        Assert.Equal("user@contoso.cn", ctx.Account);
        Assert.Equal(0, calls);
    }

    [Theory]
    [InlineData("not-a-guid", null, null, "InvalidIdentityId")]
    [InlineData(null, null, "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/app", "InvalidIdentityResourceId")]
    [InlineData("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", null, "AmbiguousIdentity")]
    public async Task Identity_selectors_are_checked_before_any_call(string? clientId, string? objectId, string? resourceId, string reason)
    {
        using var env = new EnvScope();
        var ex = await Assert.ThrowsAsync<EngineException>(() => CredentialResolver.ResolveAsync(
            new ResolveRequest { Identity = true, ClientId = clientId, ObjectId = objectId, IdentityResourceId = resourceId },
            new RecordingHost(), CancellationToken.None));
        Assert.Equal(reason, ex.Reason);
        Assert.Equal(EngineErrorCategory.InvalidArgument, ex.Category);
    }

    [Fact]
    public async Task Connect_needs_a_way_to_sign_in()
    {
        using var env = new EnvScope();
        var ex = await Assert.ThrowsAsync<EngineException>(() => Session.ConnectAsync(new ConnectRequest(), new RecordingHost(), CancellationToken.None));
        Assert.Equal("CredentialRequired", ex.Reason);
        ex = await Assert.ThrowsAsync<EngineException>(() => Session.ConnectAsync(new ConnectRequest { Identity = true, ApplicationId = Guid.NewGuid().ToString() }, new RecordingHost(), CancellationToken.None));
        Assert.Equal("ConflictingCredentials", ex.Reason);
        ex = await Assert.ThrowsAsync<EngineException>(() => Session.ConnectAsync(new ConnectRequest { ApplicationId = Guid.NewGuid().ToString() }, new RecordingHost(), CancellationToken.None));
        Assert.Equal("ClientSecretRequired", ex.Reason);
        Assert.Null(Session.Current);
    }

    [Fact]
    public async Task Identity_where_no_imds_answers_fails_fast_instead_of_waiting_out_retries()
    {
        // A closed loopback port stands in for 169.254.169.254 off Azure; the probe stops before MSAL is involved.
        using var env = new EnvScope(new Dictionary<string, string?> { ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = "http://127.0.0.1:1" });
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<EngineException>(() => CredentialResolver.ResolveAsync(
            new ResolveRequest { Identity = true, Environment = "AzureCloud" }, new RecordingHost(), CancellationToken.None));
        watch.Stop();
        Assert.Equal("ManagedIdentityUnavailable", ex.Reason);
        Assert.Equal(EngineErrorCategory.ResourceUnavailable, ex.Category);
        Assert.Contains("127.0.0.1:1", ex.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), watch.Elapsed.ToString());
    }
}
