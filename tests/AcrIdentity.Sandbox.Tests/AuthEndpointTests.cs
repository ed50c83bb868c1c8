using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Auth;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace AcrIdentity.Sandbox.Tests;

public sealed class AuthSandbox : IAsyncLifetime
{
    public AuthHarness H { get; private set; } = null!;
    public const string Rg = "auth-tests";

    public async Task InitializeAsync()
    {
        H = await AuthHarness.StartAsync(startRegistries: false);
        await H.ResourceGroupAsync(Rg);
    }

    public async Task DisposeAsync() => await H.DisposeAsync();
}

public sealed class AuthEndpointTests : IClassFixture<AuthSandbox>
{
    readonly AuthSandbox _s;
    public AuthEndpointTests(AuthSandbox s) => _s = s;
    AuthHarness H => _s.H;
    string Arm => H.Endpoints.ArmEndpoint.TrimEnd('/');

    static string Unique(string p) => p + Guid.NewGuid().ToString("N")[..8];

    static JsonNode Claims(string jwt) => JsonNode.Parse(JwtSigner.FromBase64Url(jwt.Split('.')[1]))!;

    [Fact]
    public async Task Azure_Identity_client_secret_credential_gets_a_token_ARM_accepts()
    {
        var e = H.Endpoints;
        var cred = new ClientSecretCredential(e.TenantId, e.Operator.ClientId, e.Operator.ClientSecret, new ClientSecretCredentialOptions
        {
            AuthorityHost = new Uri(e.Authority!), DisableInstanceDiscovery = true, Transport = new HttpClientTransport(H.Http),
        });
        var token = await cred.GetTokenAsync(new TokenRequestContext(["https://management.azure.com/.default"]), default);
        Assert.Equal(e.Operator.PrincipalId, (string?)Claims(token.Token)["oid"]);
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{Arm}/subscriptions?api-version=2022-12-01");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        using var r = await H.Http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains(e.SubscriptionIds[0], await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ARM_refuses_unsigned_and_missing_tokens_through_the_resolver()
    {
        using var none = await H.Http.GetAsync($"{Arm}/subscriptions?api-version=2022-12-01");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        var good = await H.OperatorTokenAsync();
        var p = good.Split('.');
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{Arm}/subscriptions?api-version=2022-12-01");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", p[0] + "." + p[1] + ".AAAA");
        using var r = await H.Http.SendAsync(req);
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.Contains("InvalidAuthenticationToken", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Entra_errors_look_like_Entra()
    {
        var e = H.Endpoints;
        using var r = await H.Http.PostAsync($"{Arm}/{e.TenantId}/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = e.Operator.ClientId, ["client_secret"] = "wrong",
            ["scope"] = "https://management.azure.com/.default",
        }));
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
        Assert.Equal("invalid_client", (string?)body["error"]);
        Assert.StartsWith("AADSTS7000215", (string?)body["error_description"]);
        using var unknown = await H.Http.PostAsync($"{Arm}/{e.TenantId}/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = Guid.NewGuid().ToString(), ["client_secret"] = "x", ["scope"] = "https://management.azure.com/.default",
        }));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("AADSTS700016", await unknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Adfs_flow_as_az_cli_uses_it()
    {
        var e = H.Endpoints;
        Assert.EndsWith("/adfs", e.AdfsAuthority);
        var config = JsonNode.Parse(await H.Http.GetStringAsync(e.AdfsAuthority + "/.well-known/openid-configuration"))!;
        var tokenEndpoint = (string)config["token_endpoint"]!;
        Assert.Equal(e.AdfsAuthority + "/oauth2/token", tokenEndpoint);
        Assert.NotNull(config["authorization_endpoint"]);
        using var r = await H.Http.PostAsync(tokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = e.Operator.ClientId, ["grant_type"] = "client_credentials", ["client_info"] = "1", ["client_secret"] = e.Operator.ClientSecret,
            ["claims"] = "{\"access_token\":{\"xms_cc\":{\"values\":[\"CP1\"]}}}", ["scope"] = "https://management.core.windows.net//.default",
        }));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var token = (string)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["access_token"]!;
        Assert.Equal("https://management.core.windows.net/", (string?)Claims(token)["aud"]);
        // az resolves a non-GUID tenant from the issuer's third segment.
        var tenantConfig = JsonNode.Parse(await H.Http.GetStringAsync($"{Arm}/sandbox.onmicrosoft.com/.well-known/openid-configuration"))!;
        Assert.Equal(e.TenantId, ((string)tenantConfig["issuer"]!).Split('/')[3]);
    }

    [Fact]
    public async Task Graph_getByIds_answers_like_graph_for_identities_apps_users_and_groups_and_can_refuse()
    {
        string graph = H.Endpoints.MicrosoftGraphEndpoint!;
        string token = await H.OperatorTokenAsync(graph.TrimEnd('/') + "/.default");
        var world = H.Host.World;
        var app = world.AddServicePrincipal(Unique("app"));
        var user = world.AddUser(Unique("user") + "@sandbox.onmicrosoft.com");
        var group = world.AddGroup(Unique("group"));
        var uamiId = $"/subscriptions/{H.Subscription}/resourceGroups/{AuthSandbox.Rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{Unique("id")}";
        var uami = await H.ArmPutAsync(uamiId, "2023-01-31", new JsonObject { ["location"] = "westus" });
        string miPrincipal = (string)uami["properties"]!["principalId"]!;

        async Task<(HttpStatusCode Status, JsonObject Body)> GetByIds(IEnumerable<string> ids, params string[] types)
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, graph + "v1.0/directoryObjects/getByIds");
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var body = new JsonObject { ["ids"] = new JsonArray(ids.Select(i => (JsonNode)i!).ToArray()) };
            if (types.Length > 0) body["types"] = new JsonArray(types.Select(t => (JsonNode)t!).ToArray());
            req.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            using var res = await H.Http.SendAsync(req);
            return (res.StatusCode, (JsonObject)JsonNode.Parse(await res.Content.ReadAsStringAsync())!);
        }

        string unknown = Guid.NewGuid().ToString();
        var (status, found) = await GetByIds([app.ObjectId, user.ObjectId, group.ObjectId, miPrincipal, unknown], "servicePrincipal", "user", "group");
        Assert.Equal(HttpStatusCode.OK, status);
        var byId = found["value"]!.AsArray().ToDictionary(o => (string)o!["id"]!, o => o!.AsObject(), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(4, byId.Count);
        Assert.Equal("#microsoft.graph.servicePrincipal", (string?)byId[app.ObjectId]["@odata.type"]);
        Assert.Equal("Application", (string?)byId[app.ObjectId]["servicePrincipalType"]);
        Assert.Equal("#microsoft.graph.user", (string?)byId[user.ObjectId]["@odata.type"]);
        Assert.Equal("#microsoft.graph.group", (string?)byId[group.ObjectId]["@odata.type"]);
        Assert.Equal("ManagedIdentity", (string?)byId[miPrincipal]["servicePrincipalType"]);
        var alternative = byId[miPrincipal]["alternativeNames"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.Equal("isExplicit=True", alternative[0]);
        Assert.Equal(uamiId, alternative[1], ignoreCase: true);

        // GET organization names the directory the token is for.
        using (var orgReq = new HttpRequestMessage(HttpMethod.Get, graph + "v1.0/organization?$select=id"))
        {
            orgReq.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var org = await H.Http.SendAsync(orgReq);
            Assert.Equal(HttpStatusCode.OK, org.StatusCode);
            var orgs = JsonNode.Parse(await org.Content.ReadAsStringAsync())!["value"]!.AsArray();
            Assert.Equal(H.Endpoints.TenantId, (string?)Assert.Single(orgs)!["id"], ignoreCase: true);
        }

        // types narrows; a deleted identity's principal is gone from the directory.
        Assert.Single((await GetByIds([app.ObjectId, user.ObjectId], "user")).Body["value"]!.AsArray());
        Assert.True(await H.ArmDeleteAsync(uamiId, "2023-01-31") is HttpStatusCode.OK or HttpStatusCode.NoContent);
        Assert.Empty((await GetByIds([miPrincipal])).Body["value"]!.AsArray());

        // Graph's limit, and its refusal of a caller without Directory.Read.All.
        var (tooMany, error) = await GetByIds(Enumerable.Range(0, 1001).Select(_ => Guid.NewGuid().ToString()));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany);
        Assert.Equal("Request_BadRequest", (string?)error["error"]!["code"]);
        H.Host.Behaviours.GraphDirectoryReadDenied = [H.Endpoints.Operator.PrincipalId];
        try
        {
            var (denied, refusal) = await GetByIds([app.ObjectId]);
            Assert.Equal(HttpStatusCode.Forbidden, denied);
            Assert.Equal("Authorization_RequestDenied", (string?)refusal["error"]!["code"]);
        }
        finally
        {
            H.Host.Behaviours.GraphDirectoryReadDenied = null;
        }

        // Counted as Graph in the request log (benchmarks and tests tell it apart from token requests).
        Assert.Contains(H.Host.Requests.Entries, x => x.Kind == AcrIdentity.Sandbox.Behaviour.RequestKind.Graph
                                                      && x.PathAndQuery.EndsWith("/directoryObjects/getByIds", StringComparison.Ordinal));
        Assert.DoesNotContain(H.Host.Requests.Entries, x => x.Kind != AcrIdentity.Sandbox.Behaviour.RequestKind.Graph
                                                           && x.PathAndQuery.Contains("/directoryObjects/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Identity_endpoint_follows_the_resources_identity_at_request_time()
    {
        var id = $"/subscriptions/{H.Subscription}/resourceGroups/{AuthSandbox.Rg}/providers/Microsoft.Web/sites/{Unique("app")}";
        await H.ArmPutAsync(id, "2024-11-01", new JsonObject { ["location"] = "westus", ["kind"] = "app,linux", ["properties"] = new JsonObject() });
        var e = await H.RunAsAsync(id);
        Assert.Null(e.ImdsEndpoint);   // App Service does not use IMDS
        var (status, _) = await H.IdentityEndpointAsync(e, AuthHarness.ArmAudience);
        Assert.Equal(HttpStatusCode.BadRequest, status);

        var site = await H.ArmPutAsync(id, "2024-11-01", new JsonObject
        {
            ["location"] = "westus", ["kind"] = "app,linux", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" }, ["properties"] = new JsonObject(),
        });
        var principal = (string)site["identity"]!["principalId"]!;
        var (ok, body) = await H.IdentityEndpointAsync(e, AuthHarness.ArmAudience);
        Assert.Equal(HttpStatusCode.OK, ok);
        var claims = Claims((string)body!["access_token"]!);
        Assert.Equal(principal, (string?)claims["oid"]);
        Assert.Equal(id, (string?)claims["xms_mirid"], ignoreCase: true);
        Assert.NotNull(body["expires_on"]);
        Assert.Equal("Bearer", (string?)body["token_type"]);

        // Wrong header → 401.
        var wrong = new RunAsEndpoints { IdentityEndpoint = e.IdentityEndpoint, IdentityHeader = "nope" };
        Assert.Equal(HttpStatusCode.Unauthorized, (await H.IdentityEndpointAsync(wrong, AuthHarness.ArmAudience)).Status);
    }

    [Fact]
    public async Task User_assigned_identity_is_selected_by_client_object_or_resource_id_only_while_attached()
    {
        var uamiId = $"/subscriptions/{H.Subscription}/resourceGroups/{AuthSandbox.Rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{Unique("id")}";
        var uami = await H.ArmPutAsync(uamiId, "2023-01-31", new JsonObject { ["location"] = "westus" });
        var clientId = (string)uami["properties"]!["clientId"]!;
        var objectId = (string)uami["properties"]!["principalId"]!;
        var appId = $"/subscriptions/{H.Subscription}/resourceGroups/{AuthSandbox.Rg}/providers/Microsoft.Web/sites/{Unique("app")}";
        await H.ArmPutAsync(appId, "2024-11-01", new JsonObject { ["location"] = "westus", ["properties"] = new JsonObject() });
        var e = await H.RunAsAsync(appId);
        Assert.Equal(HttpStatusCode.BadRequest, (await H.IdentityEndpointAsync(e, AuthHarness.ArmAudience, "&client_id=" + clientId)).Status);

        await H.ArmPutAsync(appId, "2024-11-01", new JsonObject
        {
            ["location"] = "westus", ["properties"] = new JsonObject(),
            ["identity"] = new JsonObject { ["type"] = "UserAssigned", ["userAssignedIdentities"] = new JsonObject { [uamiId] = new JsonObject() } },
        });
        foreach (var sel in new[] { "&client_id=" + clientId, "&object_id=" + objectId, "&principal_id=" + objectId, "&mi_res_id=" + Uri.EscapeDataString(uamiId) })
        {
            var (status, body) = await H.IdentityEndpointAsync(e, AuthHarness.ArmAudience, sel);
            Assert.True(status == HttpStatusCode.OK, sel);
            Assert.Equal(objectId, (string?)Claims((string)body!["access_token"]!)["oid"]);
            Assert.Equal(clientId, (string?)body["client_id"]);
        }
        // App Service does not pick a user-assigned identity without a selector.
        Assert.Equal(HttpStatusCode.BadRequest, (await H.IdentityEndpointAsync(e, AuthHarness.ArmAudience)).Status);
    }

    [Fact]
    public async Task Legacy_MSI_endpoint_answers_the_az_cli_POST_and_the_2017_GET()
    {
        var e = H.Endpoints.Operator;
        using var post = new HttpRequestMessage(HttpMethod.Post, e.MsiEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["resource"] = "https://management.core.windows.net/" }),
        };
        post.Headers.Add("Metadata", "true");
        using var r = await H.Http.SendAsync(post);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
        Assert.Equal(H.Endpoints.Operator.PrincipalId, (string?)Claims((string)body["access_token"]!)["oid"]);
        Assert.Equal("Bearer", (string?)body["token_type"]);
        Assert.True(long.TryParse((string?)body["expires_on"], out _));

        using var get = new HttpRequestMessage(HttpMethod.Get, e.MsiEndpoint + "/?resource=https://management.azure.com&api-version=2017-09-01");
        get.Headers.Add("secret", e.MsiSecret);
        using var g = await H.Http.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, g.StatusCode);

        using var bare = await H.Http.PostAsync(e.MsiEndpoint, new FormUrlEncodedContent(new Dictionary<string, string> { ["resource"] = "x" }));
        Assert.Equal(HttpStatusCode.BadRequest, bare.StatusCode);

        // The managed-identity server logs into the sandbox's request log, with the caller and no token.
        var logged = H.Host.Requests.Where(x => x.Kind == AcrIdentity.Sandbox.Behaviour.RequestKind.Token
                                                && x.PathAndQuery.StartsWith(new Uri(e.MsiEndpoint!).AbsolutePath, StringComparison.Ordinal));
        Assert.Contains(logged, x => x.Status == 200 && x.CallerObjectId == H.Endpoints.Operator.PrincipalId);
        Assert.Contains(logged, x => x.Status == 400);
        Assert.DoesNotContain(H.Host.Requests.Entries, x => x.PathAndQuery.Contains("eyJ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task IMDS_for_a_VM_needs_the_Metadata_header_except_for_the_SDK_probe()
    {
        var vmId = $"/subscriptions/{H.Subscription}/resourceGroups/{AuthSandbox.Rg}/providers/Microsoft.Compute/virtualMachines/{Unique("vm")}";
        var vm = await H.ArmPutAsync(vmId, "2024-07-01", new JsonObject
        {
            ["location"] = "westus", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" }, ["properties"] = new JsonObject(),
        });
        var e = await H.RunAsAsync(vmId);
        Assert.NotNull(e.ImdsEndpoint);
        var url = $"{e.ImdsEndpoint}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com";

        using var noHeader = await H.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, noHeader.StatusCode);
        Assert.Contains("bad_request_102", await noHeader.Content.ReadAsStringAsync());

        using var probe = new HttpRequestMessage(HttpMethod.Get, url);
        probe.Headers.Add("x-ms-client-request-id", Guid.NewGuid().ToString());
        using var pr = await H.Http.SendAsync(probe);
        Assert.Equal(HttpStatusCode.OK, pr.StatusCode);

        using var ok = new HttpRequestMessage(HttpMethod.Get, url);
        ok.Headers.Add("Metadata", "true");
        using var r = await H.Http.SendAsync(ok);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
        Assert.Equal((string?)vm["identity"]!["principalId"], (string?)Claims((string)body["access_token"]!)["oid"]);
        Assert.Equal("", (string?)body["refresh_token"]);
        Assert.True(int.TryParse((string?)body["expires_in"], out var secs) && secs > 3000);
        Assert.Equal("https://management.azure.com", (string?)body["resource"]);
    }

    [Fact]
    public async Task Tests_can_mint_a_token_and_get_runAs_endpoints_at_once_through_the_area()
    {
        var area = IdentityArea.For(H.Host.Context);
        var op = area.Tokens.Issue(new DirectoryPrincipal(H.Endpoints.Operator.PrincipalId, H.Endpoints.Operator.ClientId,
            PrincipalKind.ServicePrincipal, "operator"), "https://management.azure.com").Token;
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{Arm}/subscriptions?api-version=2022-12-01");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", op);
        using (var r = await H.Http.SendAsync(req)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        var id = $"/subscriptions/{H.Subscription}/resourceGroups/{AuthSandbox.Rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{Unique("ss")}";
        await H.ArmPutAsync(id, "2024-07-01", new JsonObject { ["location"] = "westus", ["properties"] = new JsonObject() });
        var e = await area.EnsureMachineAsync(id);
        Assert.NotNull(e.ImdsEndpoint);   // scale sets use IMDS
        Assert.NotNull(e.IdentityEndpoint);
    }

    [Fact]
    public async Task Endpoints_file_is_written_with_the_contract_fields()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        JsonNode? doc = null;
        while (sw.Elapsed < TimeSpan.FromSeconds(5))
        {
            doc = JsonNode.Parse(await File.ReadAllTextAsync(H.Host.EndpointsFile));
            if (doc?["operator"]?["msiEndpoint"] is not null) break;
            await Task.Delay(50);
        }
        Assert.NotNull(doc);
        foreach (var f in new[] { "armEndpoint", "caBundle", "tenantId", "subscriptionIds", "adfsAuthority", "operator", "runAs", "registries" })
            Assert.True(doc![f] is not null, f + " missing");
        foreach (var f in new[] { "principalId", "clientId", "clientSecret", "msiEndpoint", "msiSecret", "identityEndpoint", "identityHeader", "imdsEndpoint" })
            Assert.True(doc!["operator"]![f] is JsonValue v && ((string?)v)?.Length > 0, "operator." + f + " missing");
        Assert.True(File.Exists((string)doc!["caBundle"]!));
    }
}
