using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using Azure.Core;

namespace AcrIdentity.Engine.Tests.Unit;

public class AzContextCredentialTests
{
    [Fact]
    public async Task Asks_Get_AzAccessToken_for_the_resource_and_caches_until_near_expiry()
    {
        var asked = new List<string>();
        var expiry = DateTimeOffset.UtcNow.AddHours(1);
        var credential = new AzContextCredential((resource, ct) =>
        {
            asked.Add(resource);
            return Task.FromResult(new AzAccessToken("tok-" + asked.Count, expiry));
        });
        var scope = new TokenRequestContext(new[] { "https://management.core.windows.net//.default" });
        var first = await credential.GetTokenAsync(scope, CancellationToken.None);
        var second = await credential.GetTokenAsync(scope, CancellationToken.None);
        Assert.Equal("tok-1", first.Token);
        Assert.Equal("tok-1", second.Token);
        Assert.Equal(new[] { "https://management.core.windows.net/" }, asked);
    }

    [Fact]
    public async Task A_token_close_to_expiry_is_fetched_again()
    {
        int calls = 0;
        var credential = new AzContextCredential((resource, ct) =>
            Task.FromResult(new AzAccessToken("tok-" + ++calls, DateTimeOffset.UtcNow.AddMinutes(2))));
        var scope = new TokenRequestContext(new[] { "https://management.azure.com/.default" });
        await credential.GetTokenAsync(scope, CancellationToken.None);
        var again = await credential.GetTokenAsync(scope, CancellationToken.None);
        Assert.Equal("tok-2", again.Token);
    }

    [Fact]
    public async Task A_claims_challenge_bypasses_the_cache()
    {
        int calls = 0;
        var credential = new AzContextCredential((resource, ct) =>
            Task.FromResult(new AzAccessToken("tok-" + ++calls, DateTimeOffset.UtcNow.AddHours(1))));
        await credential.GetTokenAsync(new TokenRequestContext(new[] { "https://x//.default" }), CancellationToken.None);
        var again = await credential.GetTokenAsync(new TokenRequestContext(new[] { "https://x//.default" }, claims: "{\"access_token\":{}}"), CancellationToken.None);
        Assert.Equal("tok-2", again.Token);
    }

    [Fact]
    public async Task A_failing_callback_becomes_an_authentication_error()
    {
        var credential = new AzContextCredential((resource, ct) => throw new InvalidOperationException("Run Connect-AzAccount to login."));
        var ex = await Assert.ThrowsAsync<EngineException>(async () =>
            await credential.GetTokenAsync(new TokenRequestContext(new[] { "https://x//.default" }), CancellationToken.None));
        Assert.Equal("AzAccessTokenFailed", ex.Reason);
        Assert.Equal(EngineErrorCategory.AuthenticationError, ex.Category);
    }

    [Fact]
    public void Token_text_is_not_in_ToString()
    {
        Assert.DoesNotContain("secret-token", new AzAccessToken("secret-token", DateTimeOffset.UtcNow).ToString());
    }
}
