using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Auth;
using AcrIdentity.Sandbox.Registry;

namespace AcrIdentity.Sandbox.Tests;

/// <summary>One sandbox (with real docker-registry processes) shared by the registry tests.</summary>
public sealed class RegistrySandbox : IAsyncLifetime
{
    public AuthHarness H { get; private set; } = null!;
    public string Rg => "registry-tests";

    public async Task InitializeAsync()
    {
        H = await AuthHarness.StartAsync();
        await H.ResourceGroupAsync(Rg);
    }

    public async Task DisposeAsync() => await H.DisposeAsync();
}

[Collection("sandbox-registry")]
public sealed class RegistryTests : IClassFixture<RegistrySandbox>
{
    const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    const string AcrPush = "8311e382-0749-4cb8-b61a-304f252e45ec";
    const string RepoReader = "b93aa761-3e63-49ed-ac28-beffa264f7ac";
    readonly RegistrySandbox _s;

    public RegistryTests(RegistrySandbox s) => _s = s;

    AuthHarness H => _s.H;

    static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    async Task<string> AccessTokenAsync(string loginServer, string refresh, params string[] scopes)
    {
        var q = string.Join("&", scopes.Select(s => "scope=" + Uri.EscapeDataString(s)));
        using var req = new HttpRequestMessage(HttpMethod.Get, $"https://{loginServer}/oauth2/token?service={loginServer}&{q}&api-version=2021-07-01");
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(RegistryFront.AnonymousUser + ":" + refresh)));
        using var r = await H.Http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return (string)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["access_token"]!;
    }

    static string Access(string jwt)
    {
        var claims = JsonNode.Parse(JwtSigner.FromBase64Url(jwt.Split('.')[1]))!;
        return string.Join(" ", ((JsonArray)claims["access"]!).Select(a =>
            $"{a!["type"]}:{a["name"]}:{string.Join(",", ((JsonArray)a["actions"]!).Select(x => (string?)x))}"));
    }

    /// <summary>The operator (Owner) pushes a small image through the front with plain HTTP calls.</summary>
    async Task SeedAsync(string loginServer, string repo, string tag)
    {
        var (_, refresh) = await H.ExchangeAsync(loginServer, await H.OperatorTokenAsync());
        var access = await AccessTokenAsync(loginServer, refresh!, $"repository:{repo}:pull,push");
        await ImageSeeder.PushAsync(H.Http, $"https://{loginServer}", access, repo, tag, default);
    }

    Task<(int ExitCode, string Output)> SkopeoAsync(params string[] args) =>
        AuthTool.RunAsync("skopeo", args, new Dictionary<string, string> { ["HOME"] = H.StateDir });

    [Fact]
    public async Task V2_challenge_is_ACRs()
    {
        var (_, login) = await _s.H.RegistryAsync(_s.Rg, Unique("chal"));
        using var r = await H.Http.GetAsync($"https://{login}/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.Equal($"Bearer realm=\"https://{login}/oauth2/token\",service=\"{login}\",scope=\"registry:catalog:*\"",
            r.Headers.WwwAuthenticate.ToString());
        Assert.Equal("registry/2.0", r.Headers.GetValues("Docker-Distribution-Api-Version").Single());
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
        Assert.Equal("UNAUTHORIZED", (string?)body["errors"]![0]!["code"]);
    }

    [Fact]
    public async Task Data_plane_challenge_comes_from_the_real_registry_with_ACRs_message()
    {
        var (_, login) = await H.RegistryAsync(_s.Rg, Unique("dp"));
        using var r = await H.Http.GetAsync($"https://{login}/v2/hello-world/manifests/v1");
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        var challenge = r.Headers.WwwAuthenticate.ToString();
        Assert.Contains($"realm=\"https://{login}/oauth2/token\"", challenge);
        Assert.Contains($"service=\"{login}\"", challenge);
        Assert.Contains("scope=\"repository:hello-world:pull\"", challenge);
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
        Assert.Equal("authentication required, visit https://aka.ms/acr/authorization for more information.", (string?)body["errors"]![0]!["message"]);
    }

    [Fact]
    public async Task Skopeo_pulls_only_with_AcrPull_and_pushes_only_with_AcrPush()
    {
        if (!File.Exists("/usr/bin/skopeo") && !File.Exists("/usr/local/bin/skopeo"))
        {
            Assert.Fail("skopeo is not installed (tools/install-prereqs installs it)");
        }
        var (regId, login) = await H.RegistryAsync(_s.Rg, Unique("pull"));
        await SeedAsync(login, "hello-world", "v1");
        var (appId, principal) = await H.WebAppWithIdentityAsync(_s.Rg, Unique("app"));
        var mi = await H.ManagedIdentityTokenAsync(appId);
        var (status, refresh) = await H.ExchangeAsync(login, mi);
        Assert.Equal(HttpStatusCode.OK, status);
        var creds = RegistryFront.AnonymousUser + ":" + refresh;
        var certDir = H.CertDir();
        var outDir = Path.Combine(H.StateDir, "pulled");

        // No role yet: refused.
        var denied = await SkopeoAsync("copy", "--src-cert-dir", certDir, "--src-creds", creds, $"docker://{login}/hello-world:v1", "dir:" + outDir + "-0");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Matches("denied|unauthorized", denied.Output);

        // AcrPull: the same refresh token now pulls (roles are read when the access token is issued).
        await H.RoleAssignmentAsync(regId, AcrPull, principal);
        var pulled = await SkopeoAsync("copy", "--src-cert-dir", certDir, "--src-creds", creds, $"docker://{login}/hello-world:v1", "dir:" + outDir);
        Assert.True(pulled.ExitCode == 0, pulled.Output);
        Assert.True(File.Exists(Path.Combine(outDir, "manifest.json")));

        // Pull is not push.
        var push = await SkopeoAsync("copy", "--dest-cert-dir", certDir, "--dest-creds", creds, "dir:" + outDir, $"docker://{login}/mine:v1");
        Assert.NotEqual(0, push.ExitCode);
        Assert.Contains("denied", push.Output);

        await H.RoleAssignmentAsync(regId, AcrPush, principal);
        push = await SkopeoAsync("copy", "--dest-cert-dir", certDir, "--dest-creds", creds, "dir:" + outDir, $"docker://{login}/mine:v1");
        Assert.True(push.ExitCode == 0, push.Output);
        var inspect = await SkopeoAsync("inspect", "--cert-dir", certDir, "--creds", creds, $"docker://{login}/mine:v1");
        Assert.True(inspect.ExitCode == 0, inspect.Output);
    }

    [Fact]
    public async Task Skopeo_identitytoken_auth_file_posts_chunked_form_and_pulls()
    {
        var (regId, login) = await H.RegistryAsync(_s.Rg, Unique("auth"));
        await SeedAsync(login, "aci-helloworld", "v1");
        var (appId, principal) = await H.WebAppWithIdentityAsync(_s.Rg, Unique("app"));
        await H.RoleAssignmentAsync(regId, AcrPull, principal);
        var (_, refresh) = await H.ExchangeAsync(login, await H.ManagedIdentityTokenAsync(appId));
        var authFile = Path.Combine(H.StateDir, Unique("auth") + ".json");
        await File.WriteAllTextAsync(authFile, new JsonObject
        {
            ["auths"] = new JsonObject
            {
                [login] = new JsonObject
                {
                    ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(RegistryFront.AnonymousUser + ":")), ["identitytoken"] = refresh,
                },
            },
        }.ToJsonString());
        var r = await SkopeoAsync("inspect", "--cert-dir", H.CertDir(), "--authfile", authFile, $"docker://{login}/aci-helloworld:v1");
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("\"Architecture\": \"amd64\"", r.Output);
    }

    [Fact]
    public async Task Token_POST_reads_chunked_bodies_and_space_separated_scopes()
    {
        var (regId, login) = await H.RegistryAsync(_s.Rg, Unique("post"));
        var (appId, principal) = await H.WebAppWithIdentityAsync(_s.Rg, Unique("app"));
        await H.RoleAssignmentAsync(regId, AcrPull, principal);
        var (_, refresh) = await H.ExchangeAsync(login, await H.ManagedIdentityTokenAsync(appId));
        var form = $"grant_type=refresh_token&service={Uri.EscapeDataString(login)}&client_id=docker" +
                   "&scope=" + Uri.EscapeDataString("repository:a:pull,push repository:b:pull") + "&scope=repository:c:pull" +
                   "&refresh_token=" + Uri.EscapeDataString(refresh!);
        // A stream of unknown length goes out chunked, as skopeo sends it.
        var content = new StreamContent(new NonSeekable(Encoding.UTF8.GetBytes(form)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        using var req = new HttpRequestMessage(HttpMethod.Post, $"https://{login}/oauth2/token?api-version=2021-07-01") { Content = content };
        using var r = await H.Http.SendAsync(req);
        Assert.True(req.Headers.TransferEncodingChunked == true || content.Headers.ContentLength is null);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var token = (string)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["access_token"]!;
        Assert.Equal("repository:a:pull repository:b:pull repository:c:pull", Access(token));
    }

    [Fact]
    public async Task Bad_refresh_token_and_other_users_are_refused_with_401()
    {
        var (_, login) = await H.RegistryAsync(_s.Rg, Unique("bad"));
        using var req = new HttpRequestMessage(HttpMethod.Get, $"https://{login}/oauth2/token?service={login}&scope=repository:x:pull");
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(RegistryFront.AnonymousUser + ":nope")));
        using var r = await H.Http.SendAsync(req);
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        // A refresh token for another registry is not valid here.
        var (_, other) = await H.RegistryAsync(_s.Rg, Unique("oth"));
        var (_, refresh) = await H.ExchangeAsync(other, await H.OperatorTokenAsync());
        using var req2 = new HttpRequestMessage(HttpMethod.Get, $"https://{login}/oauth2/token?service={login}&scope=repository:x:pull");
        req2.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(RegistryFront.AnonymousUser + ":" + refresh)));
        using var r2 = await H.Http.SendAsync(req2);
        Assert.Equal(HttpStatusCode.Unauthorized, r2.StatusCode);
    }

    [Fact]
    public async Task Exchange_refuses_invalid_tokens_and_honours_the_ARM_audience_policy()
    {
        var (_, login) = await H.RegistryAsync(_s.Rg, Unique("aud"), new JsonObject
        {
            ["policies"] = new JsonObject { ["azureADAuthenticationAsArmPolicy"] = new JsonObject { ["status"] = "disabled" } },
        });
        Assert.Equal(HttpStatusCode.Unauthorized, (await H.ExchangeAsync(login, "not-a-jwt")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await H.ExchangeAsync(login, await H.OperatorTokenAsync())).Status);
        var cr = await H.OperatorTokenAsync("https://containerregistry.azure.net/.default");
        Assert.Equal(HttpStatusCode.OK, (await H.ExchangeAsync(login, cr)).Status);
    }

    [Fact]
    public async Task Public_network_access_disabled_gives_403_on_v2_and_exchange()
    {
        var (_, login) = await H.RegistryAsync(_s.Rg, Unique("priv"), new JsonObject { ["publicNetworkAccess"] = "Disabled" });
        using var r = await H.Http.GetAsync($"https://{login}/v2/");
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Contains("DENIED", await r.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await H.ExchangeAsync(login, await H.OperatorTokenAsync())).Status);
    }

    [Fact]
    public async Task With_public_access_disabled_a_trusted_service_system_identity_still_exchanges_but_a_web_app_does_not()
    {
        var (regId, login) = await H.RegistryAsync(_s.Rg, Unique("trust"), new JsonObject
        {
            ["publicNetworkAccess"] = "Disabled", ["networkRuleBypassOptions"] = "AzureServices",
        });
        var groupId = $"/subscriptions/{H.Subscription}/resourceGroups/{_s.Rg}/providers/Microsoft.ContainerInstance/containerGroups/{Unique("aci")}";
        var group = await H.ArmPutAsync(groupId, "2023-05-01", new JsonObject
        {
            ["location"] = "westus", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
            ["properties"] = new JsonObject { ["osType"] = "Linux", ["containers"] = new JsonArray() },
        });
        var (appId, appPrincipal) = await H.WebAppWithIdentityAsync(_s.Rg, Unique("app"));
        await H.RoleAssignmentAsync(regId, AcrPull, (string)group["identity"]!["principalId"]!);
        await H.RoleAssignmentAsync(regId, AcrPull, appPrincipal);

        var (aciStatus, aciRefresh) = await H.ExchangeAsync(login, await H.ManagedIdentityTokenAsync(groupId));
        Assert.Equal(HttpStatusCode.OK, aciStatus);
        Assert.Equal("repository:hello:pull", Access(await AccessTokenAsync(login, aciRefresh!, "repository:hello:pull")));
        Assert.Equal(HttpStatusCode.Forbidden, (await H.ExchangeAsync(login, await H.ManagedIdentityTokenAsync(appId))).Status);
    }

    [Fact]
    public async Task Injected_faults_and_the_request_log_reach_the_registry_front()
    {
        var (_, login) = await H.RegistryAsync(_s.Rg, Unique("flt"));
        var aad = await H.OperatorTokenAsync();
        var rule = H.Host.Behaviours.Faults.Add(new AcrIdentity.Sandbox.Behaviour.FaultRule { PathContains = "/oauth2/exchange", Status = 503, Count = 1 });
        try
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await H.ExchangeAsync(login, aad)).Status);
            Assert.Equal(HttpStatusCode.OK, (await H.ExchangeAsync(login, aad)).Status);
            Assert.Equal(1, rule.TimesFired);
        }
        finally { H.Host.Behaviours.Faults.Clear(); }
        var exchanges = H.Host.Requests.Where(x => x.PathAndQuery.StartsWith("/oauth2/exchange", StringComparison.Ordinal));
        Assert.All(exchanges, x => Assert.Equal(AcrIdentity.Sandbox.Behaviour.RequestKind.Registry, x.Kind));
        Assert.Contains(exchanges, x => x.Status == 200 && x.CallerObjectId == H.Endpoints.Operator.PrincipalId);
    }

    [Fact]
    public async Task A_custom_role_grants_what_its_actions_allow_minus_notActions()
    {
        var (regId, login) = await H.RegistryAsync(_s.Rg, Unique("cust"));
        var roleGuid = Guid.NewGuid().ToString();
        await H.ArmPutAsync($"/subscriptions/{H.Subscription}/providers/Microsoft.Authorization/roleDefinitions/{roleGuid}", "2022-04-01", new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["roleName"] = "Registry reader " + roleGuid[..8], ["type"] = "CustomRole", ["description"] = "pull but not push",
                ["assignableScopes"] = new JsonArray($"/subscriptions/{H.Subscription}"),
                ["permissions"] = new JsonArray(new JsonObject
                {
                    ["actions"] = new JsonArray("Microsoft.ContainerRegistry/registries/*"),
                    ["notActions"] = new JsonArray("Microsoft.ContainerRegistry/registries/push/write"),
                    ["dataActions"] = new JsonArray(), ["notDataActions"] = new JsonArray(),
                }),
            },
        });
        var (appId, principal) = await H.WebAppWithIdentityAsync(_s.Rg, Unique("app"));
        await H.RoleAssignmentAsync(regId, roleGuid, principal);
        var (_, refresh) = await H.ExchangeAsync(login, await H.ManagedIdentityTokenAsync(appId));
        Assert.Equal("repository:app:pull,delete", Access(await AccessTokenAsync(login, refresh!, "repository:app:pull,push,delete")));
    }

    [Fact]
    public async Task Abac_registry_ignores_AcrPull_and_applies_repository_conditions()
    {
        var (regId, login) = await H.RegistryAsync(_s.Rg, Unique("abac"), new JsonObject { ["roleAssignmentMode"] = "AbacRepositoryPermissions" });
        var (appId, principal) = await H.WebAppWithIdentityAsync(_s.Rg, Unique("app"));
        await H.RoleAssignmentAsync(regId, AcrPull, principal);
        var (_, refresh) = await H.ExchangeAsync(login, await H.ManagedIdentityTokenAsync(appId));
        Assert.Equal("", Access(await AccessTokenAsync(login, refresh!, "repository:team/app:pull")));

        var name = Guid.NewGuid().ToString();
        await H.ArmPutAsync($"{regId}/providers/Microsoft.Authorization/roleAssignments/{name}", "2022-04-01", new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["roleDefinitionId"] = $"/subscriptions/{H.Subscription}/providers/Microsoft.Authorization/roleDefinitions/{RepoReader}",
                ["principalId"] = principal, ["principalType"] = "ServicePrincipal", ["conditionVersion"] = "2.0",
                ["condition"] = "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'})) OR " +
                                "(@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWithIgnoreCase 'team/'))",
            },
        });
        Assert.Equal("repository:team/app:pull", Access(await AccessTokenAsync(login, refresh!, "repository:team/app:pull,push", "repository:other:pull")));
    }

    [Fact]
    public async Task Anonymous_pull_only_where_enabled_and_only_pull_and_admin_style_users_are_refused()
    {
        var (_, open) = await H.RegistryAsync(_s.Rg, Unique("anon"), new JsonObject { ["anonymousPullEnabled"] = true });
        var (_, closed) = await H.RegistryAsync(_s.Rg, Unique("noanon"));
        using (var r = await H.Http.GetAsync($"https://{open}/oauth2/token?service={open}&scope=repository:app:pull,push"))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("repository:app:pull", Access((string)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["access_token"]!));
        }
        using (var r = await H.Http.GetAsync($"https://{closed}/oauth2/token?service={closed}&scope=repository:app:pull"))
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using var req = new HttpRequestMessage(HttpMethod.Get, $"https://{closed}/oauth2/token?service={closed}&scope=repository:app:pull");
        req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:password")));
        using var basic = await H.Http.SendAsync(req);
        Assert.Equal(HttpStatusCode.Unauthorized, basic.StatusCode);
    }

    [Fact]
    public async Task A_new_registry_appears_in_endpoints_json_and_a_deleted_one_stops_answering_and_leaves_it()
    {
        var name = Unique("life");
        var (id, login) = await H.RegistryAsync(_s.Rg, name);
        string File() => System.IO.File.ReadAllText(H.Host.EndpointsFile);
        await AuthHarness.EventuallyAsync(() => Task.FromResult(File().Contains(login)), "new registry in endpoints.json");

        var status = await H.ArmDeleteAsync(id, "2025-11-01");
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Accepted or HttpStatusCode.NoContent, status.ToString());
        await AuthHarness.EventuallyAsync(async () =>
        {
            try
            {
                using var r = await H.Http.GetAsync($"https://{login}/v2/");
                return false;
            }
            catch (HttpRequestException) { return true; }   // nothing listens there any more
        }, "deleted registry's login server still answers");
        await AuthHarness.EventuallyAsync(() => Task.FromResult(!File().Contains(login)), "deleted registry still in endpoints.json");
    }

    sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

[CollectionDefinition("sandbox-registry")]
public sealed class RegistryCollection;
