using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Tests;

/// <summary>
/// A sandbox with the seed world plus test principals, driven over HTTPS. Callers get tokens from the
/// sandbox's Entra endpoint (client credentials); if no token endpoint is mapped yet, an unsigned JWT
/// carrying the same oid/appid/tid stands in.
/// </summary>
public sealed class ArmHarness : IAsyncDisposable
{
    public static readonly string SeedWorld = Path.Combine(RepoRoot(), "samples", "seed-world.json");

    /// <summary>Test principals added on top of the seed world.</summary>
    public const string Extras = """
    {
      "principals": [
        { "kind": "servicePrincipal", "name": "reader-app", "clientSecret": "reader-secret" },
        { "kind": "servicePrincipal", "name": "noaccess-app", "clientSecret": "noaccess-secret" },
        { "kind": "servicePrincipal", "name": "grouped-app", "clientSecret": "grouped-secret" },
        { "kind": "group", "name": "pullers", "members": [ "grouped-app" ] },
        { "kind": "user", "name": "alice@sandbox.onmicrosoft.com" }
      ],
      "roleAssignments": [
        { "principal": "reader-app", "role": "Reader", "scope": "/subscriptions/{subscriptionId}" }
      ]
    }
    """;

    readonly string _stateDir;
    readonly Dictionary<string, string> _tokens = new(StringComparer.OrdinalIgnoreCase);

    ArmHarness(SandboxHost host, string stateDir, HttpClient http, HttpMessageHandler handler)
    {
        Host = host;
        _stateDir = stateDir;
        Http = http;
        Handler = handler;
    }

    public SandboxHost Host { get; }
    public HttpClient Http { get; }
    /// <summary>Trusts the sandbox CA; reuse it for Azure.Core transports.</summary>
    public HttpMessageHandler Handler { get; }
    public TimeSpan StartTime { get; private set; }
    public World.World World => Host.World;
    public string Arm => Host.Endpoints.ArmEndpoint.TrimEnd('/');
    public string Sub => Host.Endpoints.SubscriptionIds[0];
    public string RgId => $"/subscriptions/{Sub}/resourceGroups/myResourceGroup";
    public string RegistryId => $"{RgId}/providers/Microsoft.ContainerRegistry/registries/myContainerRegistry";

    public static async Task<ArmHarness> StartAsync(string? extraScenario = Extras, bool seed = true)
    {
        var caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        if (string.IsNullOrEmpty(caDir)) caDir = Temp("acrid-ca");
        var state = Temp("acrid-arm");
        var sw = Stopwatch.StartNew();
        var host = await SandboxHost.StartAsync(new SandboxOptions
        {
            StateDir = state, CaDir = caDir, ScenarioFile = seed ? SeedWorld : null, ScenarioJson = extraScenario, StartRegistries = false,
        });
        var elapsed = sw.Elapsed;
        var ca = host.Context.Certificates.Ca;
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) =>
        {
            if (cert is null) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(cert));
        };
        return new ArmHarness(host, state, new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(30) }, handler)
        {
            StartTime = elapsed,
        };
    }

    static string Temp(string prefix)
    {
        var d = Path.Combine(Path.GetTempPath(), prefix + "-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(d);
        return d;
    }

    static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "AcrIdentity.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    public World.Principal Principal(string name) =>
        name == "operator" ? World.Operator : World.Principals().Single(p => p.DisplayName == name);

    /// <summary>An ARM token for a principal with a client secret (the operator or a test app).</summary>
    public async Task<string> TokenAsync(string principal = "operator")
    {
        if (_tokens.TryGetValue(principal, out var cached)) return cached;
        var p = Principal(principal);
        using var reply = await Http.PostAsync($"{Arm}/{World.TenantId}/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = p.AppId!, ["client_secret"] = p.ClientSecret!,
            ["scope"] = "https://management.azure.com/.default",
        }));
        string token;
        if (reply.IsSuccessStatusCode)
            token = JsonNode.Parse(await reply.Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
        else
            token = UnsignedJwt(p.ObjectId, p.AppId, World.TenantId);
        _tokens[principal] = token;
        return token;
    }

    public static string UnsignedJwt(string oid, string? appId, string tid)
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var claims = new JsonObject { ["oid"] = oid, ["appid"] = appId, ["tid"] = tid, ["aud"] = "https://management.azure.com/" };
        return B64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + B64(claims.ToJsonString()) + ".";
    }

    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string pathAndQuery,
        object? body = null, string caller = "operator", bool auth = true)
    {
        var url = pathAndQuery.StartsWith("https://") ? pathAndQuery : Arm + pathAndQuery;
        var req = new HttpRequestMessage(method, url);
        if (auth) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(caller));
        if (body is not null)
            req.Content = new StringContent(body is JsonNode n ? n.ToJsonString() : body.ToString()!, Encoding.UTF8, "application/json");
        var resp = await Http.SendAsync(req);
        var text = await resp.Content.ReadAsStringAsync();
        return ((int)resp.StatusCode, string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text), resp);
    }

    public Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> GetAsync(string path, string caller = "operator") =>
        SendAsync(HttpMethod.Get, path, null, caller);
    public Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> PutAsync(string path, object body, string caller = "operator") =>
        SendAsync(HttpMethod.Put, path, body, caller);
    public Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> PatchAsync(string path, object body, string caller = "operator") =>
        SendAsync(HttpMethod.Patch, path, body, caller);
    public Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> DeleteAsync(string path, string caller = "operator") =>
        SendAsync(HttpMethod.Delete, path, null, caller);

    public static string Code(JsonNode? body) => body?["error"]?["code"]?.GetValue<string>() ?? "";
    public static string Message(JsonNode? body) => body?["error"]?["message"]?.GetValue<string>() ?? "";

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Http.Dispose();
        Handler.Dispose();
        try { Directory.Delete(_stateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>One sandbox shared by a test class (tests that change the world use names of their own).</summary>
public sealed class ArmFixture : IAsyncLifetime
{
    public ArmHarness H { get; private set; } = null!;
    public async Task InitializeAsync() => H = await ArmHarness.StartAsync();
    public async Task DisposeAsync() => await H.DisposeAsync();
}
