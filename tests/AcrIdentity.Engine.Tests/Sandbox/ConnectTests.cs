using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Tests.Support;

namespace AcrIdentity.Engine.Tests.Sandbox;

[Collection(SandboxCollection.Name)]
public sealed class ConnectTests : IDisposable
{
    private readonly SandboxFixture _sbx;
    private readonly EnvScope _env = new();

    public ConnectTests(SandboxFixture sandbox) => _sbx = sandbox;

    public void Dispose() => _env.Dispose();

    private ConnectRequest Operator(string? subscription = null) => new()
    {
        Environment = _sbx.Host.EndpointsFile,
        ApplicationId = _sbx.Host.Endpoints.Operator.ClientId,
        ClientSecret = SandboxFixture.Secure(_sbx.Host.Endpoints.Operator.ClientSecret),
        SubscriptionId = subscription,
        Options = Fast.Options(),
    };

    [Fact]
    public async Task Service_principal_from_endpoints_json_connects_and_becomes_the_context()
    {
        var host = new RecordingHost();
        var ctx = await Session.ConnectAsync(Operator(), host, CancellationToken.None);

        Assert.Same(ctx, Session.Current);
        Assert.Equal(ContextSource.ConnectAcrIdentity, ctx.Source);
        Assert.Equal("ServicePrincipal", ctx.AccountType);
        Assert.Equal(_sbx.Host.Endpoints.Operator.ClientId, ctx.Account);
        Assert.True(ctx.Cloud.IsCustom);
        Assert.Equal(new Uri(_sbx.Host.Endpoints.ArmEndpoint), ctx.Cloud.ResourceManagerUrl);
        Assert.Equal(_sbx.Host.Endpoints.TenantId, ctx.TenantId);
        // The world has one subscription, so none had to be named.
        Assert.Equal(_sbx.SubscriptionId, ctx.SubscriptionId);
        Assert.False(string.IsNullOrEmpty(ctx.SubscriptionName));
        Assert.Contains(host.Verbose, l => l.StartsWith("ARM GET /subscriptions", StringComparison.Ordinal) && l.Contains("-> 200"));
        Assert.DoesNotContain(_sbx.Host.Endpoints.Operator.ClientSecret, host.AllText());

        // The resolver now prefers it over an Az context.
        var resolved = await CredentialResolver.ResolveAsync(new ResolveRequest
        {
            AzContext = new AzContextSnapshot { AccountId = "someone", GetAccessToken = (r, ct) => throw new InvalidOperationException("must not be called") },
        }, new RecordingHost(), CancellationToken.None);
        Assert.Same(ctx, resolved);

        Assert.Same(ctx, Session.Disconnect());
        Assert.Null(Session.Current);
    }

    [Fact]
    public async Task Verify_confirms_a_context_with_one_arm_call()
    {
        var ctx = await Session.ConnectAsync(Operator(_sbx.SubscriptionId), new RecordingHost(), CancellationToken.None);
        _sbx.Host.Requests.Clear();
        var verified = await Session.VerifyAsync(ctx, new RecordingHost(), CancellationToken.None);
        Assert.Equal(ctx.SubscriptionId, verified.SubscriptionId);
        Assert.Equal(_sbx.Host.World.FindSubscription(_sbx.SubscriptionId)!.DisplayName, verified.SubscriptionName);
        Assert.Single(_sbx.Host.Requests.Where(e => e.Kind == AcrIdentity.Sandbox.Behaviour.RequestKind.Arm));
    }

    [Fact]
    public async Task Wrong_secret_fails_and_leaves_no_context()
    {
        var request = Operator(_sbx.SubscriptionId);
        request.ClientSecret = SandboxFixture.Secure("not-the-secret");
        var host = new RecordingHost();
        var ex = await Assert.ThrowsAsync<EngineException>(() => Session.ConnectAsync(request, host, CancellationToken.None));
        Assert.Equal("AuthenticationFailed", ex.Reason);
        Assert.Equal(EngineErrorCategory.AuthenticationError, ex.Category);
        Assert.Null(Session.Current);
        Assert.DoesNotContain("not-the-secret", host.AllText() + ex.Message);
    }

    [Fact]
    public async Task Subscription_by_name_is_found()
    {
        var sub = _sbx.Host.World.FindSubscription(_sbx.SubscriptionId)!;
        var ctx = await Session.ConnectAsync(Operator(sub.DisplayName), new RecordingHost(), CancellationToken.None);
        Assert.Equal(sub.SubscriptionId, ctx.SubscriptionId);
    }

    [Fact]
    public async Task A_principal_seeing_two_subscriptions_must_say_which()
    {
        var world = _sbx.Host.World;
        string secret = "s3cret-" + Guid.NewGuid().ToString("N");
        var sp = world.AddServicePrincipal("two-subs-" + Guid.NewGuid().ToString("N")[..6], secret: secret);
        var extra = world.AddSubscription(displayName: "Second " + Guid.NewGuid().ToString("N")[..6]);
        // The sandbox makes the operator Owner of every new subscription; other tests rely on it seeing one.
        foreach (var a in world.RoleAssignments().Where(a => a.PrincipalId == world.Operator.ObjectId && string.Equals(a.Scope, extra.Id, StringComparison.OrdinalIgnoreCase)))
        {
            world.DeleteRoleAssignment(a.Name);
        }
        world.AddRoleAssignment("/subscriptions/" + _sbx.SubscriptionId, "Reader", sp.ObjectId, "ServicePrincipal");
        world.AddRoleAssignment(extra.Id, "Reader", sp.ObjectId, "ServicePrincipal");

        var request = new ConnectRequest
        {
            Environment = _sbx.Host.EndpointsFile, ApplicationId = sp.AppId, ClientSecret = SandboxFixture.Secure(secret), Options = Fast.Options(),
        };
        var ex = await Assert.ThrowsAsync<EngineException>(() => Session.ConnectAsync(request, new RecordingHost(), CancellationToken.None));
        Assert.Equal("SubscriptionRequired", ex.Reason);
        Assert.Contains(extra.SubscriptionId, ex.Message);
        Assert.Null(Session.Current);

        request.SubscriptionId = extra.SubscriptionId;
        var ctx = await Session.ConnectAsync(request, new RecordingHost(), CancellationToken.None);
        Assert.Equal(extra.SubscriptionId, ctx.SubscriptionId);
    }

    [Fact]
    public async Task A_principal_without_any_role_sees_no_subscription()
    {
        string secret = "s3cret-" + Guid.NewGuid().ToString("N");
        var sp = _sbx.Host.World.AddServicePrincipal("no-roles-" + Guid.NewGuid().ToString("N")[..6], secret: secret);
        var request = new ConnectRequest
        {
            Environment = _sbx.Host.EndpointsFile, ApplicationId = sp.AppId, ClientSecret = SandboxFixture.Secure(secret), Options = Fast.Options(),
        };
        var ex = await Assert.ThrowsAsync<EngineException>(() => Session.ConnectAsync(request, new RecordingHost(), CancellationToken.None));
        Assert.Equal("NoSubscription", ex.Reason);

        request.SubscriptionId = _sbx.SubscriptionId;
        ex = await Assert.ThrowsAsync<EngineException>(() => Session.ConnectAsync(request, new RecordingHost(), CancellationToken.None));
        Assert.Equal("SubscriptionNotFound", ex.Reason);
        Assert.Equal(EngineErrorCategory.ObjectNotFound, ex.Category);
    }

    [Fact]
    public async Task Custom_cloud_from_the_arm_metadata_endpoint()
    {
        var host = new RecordingHost();
        var cloud = await CloudEnvironment.ResolveAsync(_sbx.Host.Endpoints.ArmEndpoint, host, CancellationToken.None, Fast.Options());
        Assert.True(cloud.IsCustom);
        Assert.Equal(new Uri(_sbx.Host.Endpoints.ArmEndpoint), cloud.ResourceManagerUrl);
        Assert.Equal(_sbx.Host.Context.AcrLoginServerSuffix, cloud.AcrLoginServerSuffix);
        Assert.Equal("https", cloud.AuthorityHost.Scheme);
        Assert.Contains(host.Verbose, l => l.Contains("/metadata/endpoints") && l.Contains("200"));

        // …and that cloud really signs in: the operator connects through an ARM URL as well as through the file.
        var request = Operator();
        request.Environment = _sbx.Host.Endpoints.ArmEndpoint;
        request.TenantId = _sbx.Host.Endpoints.TenantId;
        var ctx = await Session.ConnectAsync(request, new RecordingHost(), CancellationToken.None);
        Assert.Equal(_sbx.SubscriptionId, ctx.SubscriptionId);
    }

    [Fact]
    public async Task Service_principal_needs_a_tenant_when_the_cloud_names_none()
    {
        var request = Operator();
        request.Environment = _sbx.Host.Endpoints.ArmEndpoint;
        var ex = await Assert.ThrowsAsync<EngineException>(() => Session.ConnectAsync(request, new RecordingHost(), CancellationToken.None));
        Assert.Equal("TenantRequired", ex.Reason);
    }

    [Fact]
    public async Task Environment_credentials_are_the_last_resort()
    {
        using var env = new EnvScope(new Dictionary<string, string?>
        {
            ["AZURE_CLIENT_ID"] = _sbx.Host.Endpoints.Operator.ClientId,
            ["AZURE_TENANT_ID"] = _sbx.Host.Endpoints.TenantId,
            ["AZURE_CLIENT_SECRET"] = _sbx.Host.Endpoints.Operator.ClientSecret,
            [CredentialResolver.EnvironmentVariable] = _sbx.Host.EndpointsFile,
        });
        var host = new RecordingHost();
        var ctx = await CredentialResolver.ResolveAsync(new ResolveRequest { Options = Fast.Options() }, host, CancellationToken.None);
        Assert.Equal(ContextSource.Environment, ctx.Source);
        Assert.Equal(_sbx.SubscriptionId, ctx.SubscriptionId);
        Assert.DoesNotContain(_sbx.Host.Endpoints.Operator.ClientSecret, host.AllText());
        var reply = await ctx.CreateGateway(host).GetAsync("/subscriptions/" + ctx.SubscriptionId, CancellationToken.None);
        Assert.Equal(200, reply.Status);
    }

    [Fact]
    public async Task Subscription_optional_gives_a_context_without_one_instead_of_an_error()
    {
        string secret = "s3cret-" + Guid.NewGuid().ToString("N");
        var sp = _sbx.Host.World.AddServicePrincipal("pull-only-" + Guid.NewGuid().ToString("N")[..6], secret: secret);
        using var env = new EnvScope(new Dictionary<string, string?>
        {
            ["AZURE_CLIENT_ID"] = sp.AppId,
            ["AZURE_TENANT_ID"] = _sbx.Host.Endpoints.TenantId,
            ["AZURE_CLIENT_SECRET"] = secret,
            [CredentialResolver.EnvironmentVariable] = _sbx.Host.EndpointsFile,
        });
        var strict = await Assert.ThrowsAsync<EngineException>(() =>
            CredentialResolver.ResolveAsync(new ResolveRequest { Options = Fast.Options() }, new RecordingHost(), CancellationToken.None));
        Assert.Equal("NoSubscription", strict.Reason);

        var ctx = await CredentialResolver.ResolveAsync(new ResolveRequest { SubscriptionOptional = true, Options = Fast.Options() }, new RecordingHost(), CancellationToken.None);
        Assert.Equal(ContextSource.Environment, ctx.Source);
        Assert.Equal(string.Empty, ctx.SubscriptionId);
        Assert.Equal(sp.AppId, ctx.Account);
        Assert.Equal(_sbx.Host.Endpoints.TenantId, ctx.TenantId);
    }

    [Fact]
    public async Task Az_context_tokens_come_from_the_callback_for_the_cloud_audience()
    {
        // Connect once to learn the sandbox's cloud, then act as Az would: the callback hands out a token the
        // sandbox issued for the resource asked (this stands in for Get-AzAccessToken).
        var cloud = await CloudEnvironment.ResolveAsync(_sbx.Host.EndpointsFile, new RecordingHost(), CancellationToken.None, Fast.Options());
        var asked = new List<string>();
        var issuer = await TokenSource.ForOperatorAsync(_sbx, cloud);
        var snapshot = new AzContextSnapshot
        {
            AccountId = _sbx.Host.Endpoints.Operator.ClientId, AccountType = "ServicePrincipal", TenantId = _sbx.Host.Endpoints.TenantId,
            SubscriptionId = _sbx.SubscriptionId, SubscriptionName = "from Az", EnvironmentName = "Sandbox",
            ResourceManagerUrl = cloud.ResourceManagerUrl.AbsoluteUri, ActiveDirectoryAuthority = cloud.AuthorityHost.AbsoluteUri,
            ActiveDirectoryServiceEndpointResourceId = cloud.ArmAudience, ContainerRegistryEndpointSuffix = cloud.AcrLoginServerSuffix,
            GetAccessToken = async (resource, ct) => { asked.Add(resource); return await issuer(resource, ct); },
        };
        var host = new RecordingHost();
        var ctx = await CredentialResolver.ResolveAsync(new ResolveRequest { AzContext = snapshot, Options = Fast.Options() }, host, CancellationToken.None);
        Assert.Equal(ContextSource.AzContext, ctx.Source);
        Assert.Equal("Sandbox", ctx.Cloud.Name);
        Assert.True(ctx.Cloud.IsCustom);

        var gateway = ctx.CreateGateway(host);
        await gateway.GetAsync("/subscriptions/" + ctx.SubscriptionId, CancellationToken.None);
        await gateway.GetAsync("/subscriptions/" + ctx.SubscriptionId + "/resourcegroups", CancellationToken.None);
        Assert.Equal(new[] { cloud.ArmAudience }, asked);   // one Get-AzAccessToken, for the ARM audience
    }
}
