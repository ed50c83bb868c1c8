using System.Text.Json.Nodes;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Registry;
using AcrIdentity.Engine.Tests.Configure;
using AcrIdentity.Engine.Tests.Support;

namespace AcrIdentity.Engine.Tests.Registry;

/// <summary>The registry token exchange against the sandbox's ACR fronts (challenge, exchange, token).</summary>
[Collection(SandboxCollection.Name)]
public sealed class RegistryTokenTests
{
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private readonly SandboxFixture _sbx;

    public RegistryTokenTests(SandboxFixture sandbox) => _sbx = sandbox;

    private static async Task<RegistryCredential> GetAsync(ModuleContext context, string registry, RecordingHost host, string? repository = null, RegistryAction action = RegistryAction.Pull) =>
        await RegistryTokenService.GetAsync(new RegistryTokenRequest
        {
            Registry = registry,
            Repository = repository,
            Action = action,
            Resolve = new ResolveRequest { Context = context },
        }, host, CancellationToken.None);

    /// <summary>A service principal that sees the subscription only through AcrPull on some other registry.</summary>
    private async Task<ModuleContext> OutsiderAsync(EnableWorld world)
    {
        string secret = Guid.NewGuid().ToString("N");
        var sp = _sbx.Host.World.AddServicePrincipal(EnableWorld.Unique("outsider"), secret: secret);
        var (elsewhere, _) = await world.RegistryAsync();
        await world.AssignAsync(elsewhere, AcrPull, sp.ObjectId);
        var context = await Session.ConnectAsync(new ConnectRequest
        {
            Environment = _sbx.Host.EndpointsFile,
            ApplicationId = sp.AppId,
            ClientSecret = SandboxFixture.Secure(secret),
            SubscriptionId = world.SubscriptionId,
            Options = Fast.Options(),
        }, new RecordingHost(), CancellationToken.None);
        Session.Disconnect();
        return context;
    }

    [Fact]
    public async Task Name_resolves_through_ARM_and_the_exchange_gives_a_three_hour_refresh_token_and_a_pull_token()
    {
        var world = await EnableWorld.CreateAsync(_sbx.Host);
        var (id, login) = await world.RegistryAsync();
        var host = new RecordingHost();

        RegistryCredential c = await GetAsync(world.Context, id.Split('/')[^1], host, "aci-helloworld");

        Assert.Equal(login, c.LoginServer);
        Assert.Equal(id, c.RegistryId, ignoreCase: true);
        Assert.Equal("00000000-0000-0000-0000-000000000000", c.Username);
        Assert.Equal(world.Context.Cloud.ArmAudience.TrimEnd('/'), c.Audience.TrimEnd('/'));
        Assert.NotNull(c.ExpiresOn);
        Assert.InRange(c.ExpiresOn!.Value - DateTimeOffset.UtcNow, TimeSpan.FromHours(2.9), TimeSpan.FromHours(3.1));
        Assert.Contains("pull", c.GrantedActions);
        Assert.StartsWith("eyJ", c.AccessToken);
        Assert.NotNull(c.AccessTokenExpiresOn);
        Assert.DoesNotContain(c.RefreshToken, c.ToString());
        string streams = host.AllText();
        Assert.Contains("/oauth2/exchange -> 200", streams);
        Assert.Contains("/oauth2/token -> 200", streams);
        Assert.DoesNotContain("eyJ", streams);
    }

    [Fact]
    public async Task Registry_with_ARM_audience_tokens_disabled_gets_a_containerregistry_token()
    {
        var world = await EnableWorld.CreateAsync(_sbx.Host);
        var (id, login) = await world.RegistryAsync();
        await world.PutAsync(id, """{"location":"westus","sku":{"name":"Premium"},"properties":{"policies":{"azureADAuthenticationAsArmPolicy":{"status":"disabled"}}}}""");
        var host = new RecordingHost();

        RegistryCredential c = await GetAsync(world.Context, login, host, "hello-world");

        Assert.Equal("https://containerregistry.azure.net", c.Audience);
        Assert.Contains("pull", c.GrantedActions);
        Assert.Single(host.Verbose, l => l.Contains("/oauth2/exchange ->"));
    }

    [Fact]
    public async Task Without_ARM_read_a_disabled_policy_is_found_by_the_registrys_refusal()
    {
        var world = await EnableWorld.CreateAsync(_sbx.Host);
        var (id, login) = await world.RegistryAsync();
        await world.PutAsync(id, """{"location":"westus","sku":{"name":"Premium"},"properties":{"policies":{"azureADAuthenticationAsArmPolicy":{"status":"disabled"}}}}""");
        var outsider = await OutsiderAsync(world);
        var host = new RecordingHost();

        RegistryCredential c = await GetAsync(outsider, login, host);

        Assert.Equal("https://containerregistry.azure.net", c.Audience);
        Assert.Null(c.RegistryId);
        Assert.Contains(host.Verbose, l => l.Contains("/oauth2/exchange -> 401"));
        Assert.Contains(host.Verbose, l => l.Contains("token validation failed"));
    }

    [Fact]
    public async Task Identity_without_pull_is_refused_with_the_registrys_answer()
    {
        var world = await EnableWorld.CreateAsync(_sbx.Host);
        var (_, login) = await world.RegistryAsync();
        var outsider = await OutsiderAsync(world);
        var host = new RecordingHost();

        var ex = await Assert.ThrowsAsync<EngineException>(() => GetAsync(outsider, login, host, "aci-helloworld"));

        Assert.Equal("IdentityLacksPull", ex.Reason);
        Assert.Equal(EngineErrorCategory.PermissionDenied, ex.Category);
        Assert.Contains("repository:aci-helloworld:pull grants no action", ex.Message);
        Assert.Contains("AcrPull", ex.RecommendedAction);
        Assert.Equal(login, ex.TargetId);
        Assert.DoesNotContain("eyJ", ex.Message + host.AllText());
    }

    [Fact]
    public async Task Push_needs_push()
    {
        var world = await EnableWorld.CreateAsync(_sbx.Host);
        var (id, login) = await world.RegistryAsync();
        var outsider = await OutsiderAsync(world);
        await world.AssignAsync(id, AcrPull, _sbx.Host.World.FindPrincipal(outsider.Account)!.ObjectId);

        RegistryCredential pull = await GetAsync(outsider, login, new RecordingHost(), "aci-helloworld");
        Assert.Equal(new[] { "pull" }, pull.GrantedActions);
        var ex = await Assert.ThrowsAsync<EngineException>(() => GetAsync(outsider, login, new RecordingHost(), "aci-helloworld", RegistryAction.Push));
        Assert.Equal("IdentityLacksPush", ex.Reason);
        Assert.Contains("may not push", ex.Message);
        Assert.Contains("AcrPush", ex.RecommendedAction);
    }

    [Fact]
    public async Task Public_network_access_disabled_is_a_network_refusal()
    {
        var world = await EnableWorld.CreateAsync(_sbx.Host);
        var (id, login) = await world.RegistryAsync();
        await world.PutAsync(id, """{"location":"westus","sku":{"name":"Premium"},"properties":{"publicNetworkAccess":"Disabled"}}""");

        var ex = await Assert.ThrowsAsync<EngineException>(() => GetAsync(world.Context, id, new RecordingHost()));

        Assert.Equal("RegistryNetworkDenied", ex.Reason);
        Assert.Contains("is not allowed access", ex.Message);
        Assert.Equal(id, ex.TargetId, ignoreCase: true);
    }

    [Fact]
    public async Task A_name_ARM_does_not_show_becomes_name_plus_suffix_and_the_error_says_so()
    {
        var world = await EnableWorld.CreateAsync(_sbx.Host);
        var outsider = await OutsiderAsync(world);
        var host = new RecordingHost();
        var ex = await Assert.ThrowsAsync<EngineException>(() => GetAsync(outsider, "nosuchregistry1", host));
        Assert.Equal("RegistryUnreachable", ex.Reason);
        Assert.Contains($"'nosuchregistry1.{outsider.Cloud.AcrLoginServerSuffix}'", ex.Message);
        Assert.Contains("built from 'nosuchregistry1'", ex.Message);
        Assert.Contains("login server", ex.RecommendedAction);
    }

    [Fact]
    public async Task A_closed_port_is_unreachable()
    {
        var world = await EnableWorld.CreateAsync(_sbx.Host);
        var ex = await Assert.ThrowsAsync<EngineException>(() => GetAsync(world.Context, "127.0.0.1:1", new RecordingHost()));
        Assert.Equal("RegistryUnreachable", ex.Reason);
        Assert.Equal(EngineErrorCategory.ConnectionError, ex.Category);
    }

    [Theory]
    [InlineData("Aci-HelloWorld")]
    [InlineData("aci-helloworld:v1")]
    [InlineData("/aci-helloworld")]
    [InlineData("aci helloworld")]
    public async Task Bad_repository_names_are_refused_before_any_call(string repository)
    {
        int before = _sbx.Host.Requests.Count;
        var ex = await Assert.ThrowsAsync<EngineException>(() => RegistryTokenService.GetAsync(new RegistryTokenRequest
        {
            Registry = "contoso",
            Repository = repository,
        }, new RecordingHost(), CancellationToken.None));
        Assert.Equal("InvalidRepository", ex.Reason);
        Assert.Equal(before, _sbx.Host.Requests.Count);
    }

    [Fact]
    public void Challenge_parameters_are_read_with_quoted_commas()
    {
        var c = BearerChallenge.Parse("Bearer realm=\"https://r.azurecr.io/oauth2/token\",service=\"r.azurecr.io\",scope=\"repository:a:pull,push\",error=\"insufficient_scope\"")!;
        Assert.Equal("https://r.azurecr.io/oauth2/token", c.Realm);
        Assert.Equal("r.azurecr.io", c.Service);
        Assert.Equal("repository:a:pull,push", c.Values["scope"]);
        Assert.Null(BearerChallenge.Parse("Basic realm=\"x\""));
    }

    [Fact]
    public void Expiry_comes_from_the_jwt_and_is_null_when_absent()
    {
        string Jwt(string claims) => "eyJhbGciOiJub25lIn0." + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(claims)).TrimEnd('=').Replace('+', '-').Replace('/', '_') + ".";
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), RegistryJwt.Expiry(Jwt("{\"exp\":1700000000}")));
        Assert.Null(RegistryJwt.Expiry(Jwt("{\"iat\":1}")));
        Assert.Null(RegistryJwt.Expiry("not-a-jwt"));
        var access = Jwt(new JsonObject { ["access"] = new JsonArray(new JsonObject { ["type"] = "repository", ["name"] = "a/b", ["actions"] = new JsonArray("pull", "push") }) }.ToJsonString());
        Assert.Equal(new[] { "pull", "push" }, RegistryJwt.GrantedActions(access, "a/b"));
        Assert.Empty(RegistryJwt.GrantedActions(access, "a"));
    }
}
