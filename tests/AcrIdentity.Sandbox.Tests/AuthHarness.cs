using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Tests;

/// <summary>
/// A sandbox started in-process for the token/registry tests, driven over HTTPS like any client: the
/// operator's client credentials from the Entra endpoint, ARM for setup, the managed-identity endpoints
/// and the registries' own endpoints.
/// </summary>
public sealed class AuthHarness : IAsyncDisposable
{
    public const string ArmAudience = "https://management.core.windows.net/";
    readonly string _stateDir;
    readonly string? _tempCaDir;

    AuthHarness(SandboxHost host, string stateDir, string caDir, string? tempCaDir, HttpClient http)
    {
        Host = host;
        _stateDir = stateDir;
        CaDir = caDir;
        _tempCaDir = tempCaDir;
        Http = http;
    }

    public SandboxHost Host { get; }
    public HttpClient Http { get; }
    public string CaDir { get; }
    public string CaCert => Path.Combine(CaDir, "ca.crt");
    public SandboxEndpoints Endpoints => Host.Endpoints;
    public string Subscription => Endpoints.SubscriptionIds[0];
    public TimeSpan StartTime { get; private set; }

    public static async Task<AuthHarness> StartAsync(string? scenarioJson = null, bool startRegistries = true)
    {
        var caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        string? tempCa = null;
        if (string.IsNullOrEmpty(caDir)) caDir = tempCa = Temp("acrid-ca");
        var state = Temp("acrid-state");
        var sw = Stopwatch.StartNew();
        var host = await SandboxHost.StartAsync(new SandboxOptions
        {
            StateDir = state, CaDir = caDir, ScenarioJson = scenarioJson, StartRegistries = startRegistries,
        });
        var elapsed = sw.Elapsed;
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(caDir, "ca.crt")));
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
        return new AuthHarness(host, state, caDir, tempCa, new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) })
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

    // ---- Entra and managed identity ----

    public async Task<string> OperatorTokenAsync(string scope = ArmAudience + "/.default")
    {
        var e = Endpoints;
        using var r = await Http.PostAsync($"{e.ArmEndpoint.TrimEnd('/')}/{e.TenantId}/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = e.Operator.ClientId, ["client_secret"] = e.Operator.ClientSecret, ["scope"] = scope,
        }));
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"operator token: {(int)r.StatusCode}");
        return (string)JsonNode.Parse(body)!["access_token"]!;
    }

    /// <summary>The runAs endpoints of a resource; they appear shortly after the resource does.</summary>
    public async Task<RunAsEndpoints> RunAsAsync(string resourceId)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            lock (Endpoints.RunAs)
                if (Endpoints.RunAs.TryGetValue(resourceId, out var e)) return e;
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"no runAs entry for {resourceId}");
            await Task.Delay(20);
        }
    }

    /// <summary>GET on the App Service style endpoint; returns status and body.</summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body)> IdentityEndpointAsync(RunAsEndpoints e, string resource, string? selector = null)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{e.IdentityEndpoint}?api-version=2019-08-01&resource={Uri.EscapeDataString(resource)}{selector}");
        req.Headers.Add("X-IDENTITY-HEADER", e.IdentityHeader);
        using var r = await Http.SendAsync(req);
        var text = await r.Content.ReadAsStringAsync();
        return (r.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    public async Task<string> ManagedIdentityTokenAsync(string resourceId, string resource = ArmAudience, string? selector = null)
    {
        var (status, body) = await IdentityEndpointAsync(await RunAsAsync(resourceId), resource, selector);
        Assert.True(status == HttpStatusCode.OK, $"managed identity token for {resourceId}: {(int)status} {body?["message"]}");
        return (string)body!["access_token"]!;
    }

    // ---- ARM ----

    public async Task<JsonObject> ArmPutAsync(string id, string apiVersion, JsonObject body, string? token = null)
    {
        token ??= await OperatorTokenAsync();
        using var req = new HttpRequestMessage(HttpMethod.Put, $"{Endpoints.ArmEndpoint.TrimEnd('/')}{id}?api-version={apiVersion}")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var r = await Http.SendAsync(req);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"PUT {id}: {(int)r.StatusCode} {text}");
        if (r.Headers.TryGetValues("Azure-AsyncOperation", out var ops)) await PollAsync(ops.First(), token);
        return (await ArmGetAsync(id, apiVersion, token))!;
    }

    public async Task<JsonObject?> ArmGetAsync(string id, string apiVersion, string? token = null)
    {
        token ??= await OperatorTokenAsync();
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{Endpoints.ArmEndpoint.TrimEnd('/')}{id}?api-version={apiVersion}");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var r = await Http.SendAsync(req);
        if (r.StatusCode == HttpStatusCode.NotFound) return null;
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"GET {id}: {(int)r.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public async Task<HttpStatusCode> ArmDeleteAsync(string id, string apiVersion)
    {
        using var req = new HttpRequestMessage(HttpMethod.Delete, $"{Endpoints.ArmEndpoint.TrimEnd('/')}{id}?api-version={apiVersion}");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await OperatorTokenAsync());
        using var r = await Http.SendAsync(req);
        return r.StatusCode;
    }

    /// <summary>Polls until <paramref name="condition"/> holds (background updates such as endpoints.json).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!await condition())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException(what);
            await Task.Delay(25);
        }
    }

    async Task PollAsync(string url, string token)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, url);
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var r = await Http.SendAsync(req);
            var status = (string?)JsonNode.Parse(await r.Content.ReadAsStringAsync())?["status"];
            if (status is "Succeeded") return;
            if (status is "Failed" or "Canceled") throw new InvalidOperationException("LRO " + status);
            await Task.Delay(50);
        }
        throw new TimeoutException("LRO did not finish");
    }

    public Task<JsonObject> ResourceGroupAsync(string name) =>
        ArmPutAsync($"/subscriptions/{Subscription}/resourceGroups/{name}", "2021-04-01", new JsonObject { ["location"] = "westus" });

    public async Task<(string Id, string LoginServer)> RegistryAsync(string rg, string name, JsonObject? properties = null)
    {
        var id = $"/subscriptions/{Subscription}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/{name}";
        var reg = await ArmPutAsync(id, "2025-11-01", new JsonObject
        {
            ["location"] = "westus", ["sku"] = new JsonObject { ["name"] = "Standard" }, ["properties"] = properties ?? new JsonObject(),
        });
        var login = (string)reg["properties"]!["loginServer"]!;
        await WaitRegistryAsync(login);
        return (id, login);
    }

    public async Task WaitRegistryAsync(string loginServer)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var r = await Http.GetAsync($"https://{loginServer}/v2/");
                if (r.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                {
                    // The front answers before its registry process; a pushed manifest proves both are up.
                    return;
                }
            }
            catch (HttpRequestException) { }
            if (sw.Elapsed > TimeSpan.FromSeconds(15)) throw new TimeoutException("registry front did not answer");
            await Task.Delay(20);
        }
    }

    public async Task<string> RoleAssignmentAsync(string scope, string roleGuid, string principalId)
    {
        var name = Guid.NewGuid().ToString();
        await ArmPutAsync($"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", "2022-04-01", new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["roleDefinitionId"] = $"/subscriptions/{Subscription}/providers/Microsoft.Authorization/roleDefinitions/{roleGuid}",
                ["principalId"] = principalId, ["principalType"] = "ServicePrincipal",
            },
        });
        return name;
    }

    /// <summary>A Linux web app with a system identity; returns its id and principal id.</summary>
    public async Task<(string Id, string PrincipalId)> WebAppWithIdentityAsync(string rg, string name)
    {
        var id = $"/subscriptions/{Subscription}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}";
        var site = await ArmPutAsync(id, "2024-11-01", new JsonObject
        {
            ["location"] = "westus", ["kind"] = "app,linux,container", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
            ["properties"] = new JsonObject(),
        });
        return (id, (string)site["identity"]!["principalId"]!);
    }

    // ---- registry ----

    public async Task<(HttpStatusCode Status, string? RefreshToken)> ExchangeAsync(string loginServer, string aadToken)
    {
        using var r = await Http.PostAsync($"https://{loginServer}/oauth2/exchange", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "access_token", ["service"] = loginServer, ["tenant"] = Endpoints.TenantId, ["access_token"] = aadToken,
        }));
        var text = await r.Content.ReadAsStringAsync();
        return (r.StatusCode, r.IsSuccessStatusCode ? (string?)JsonNode.Parse(text)!["refresh_token"] : null);
    }

    /// <summary>A directory holding ca.crt, for skopeo's --src-cert-dir/--dest-cert-dir.</summary>
    public string CertDir()
    {
        var d = Path.Combine(_stateDir, "skopeo-certs");
        Directory.CreateDirectory(d);
        File.Copy(CaCert, Path.Combine(d, "ca.crt"), overwrite: true);
        return d;
    }

    public string StateDir => _stateDir;

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Http.Dispose();
        try { Directory.Delete(_stateDir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        if (_tempCaDir is not null) try { Directory.Delete(_tempCaDir, true); } catch (IOException) { }
    }
}

/// <summary>Runs a tool (skopeo, bash) and captures its output; never logs tokens passed as arguments.</summary>
public static class AuthTool
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args,
        IDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in time:\n{await stdout}\n{await stderr}");
        }
        return (p.ExitCode, (await stdout) + (await stderr));
    }
}
