using System.Net.Http.Headers;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// The seed-004 world (samples/seed-world.json) with real docker-registry processes behind each registry, so
/// skopeo can pull through the credentials Connect-AcrRegistry writes.
/// </summary>
public sealed class LoginSandbox : IAsyncLifetime
{
    public SandboxHost Host { get; private set; } = null!;
    public string StateDir { get; } = Directory.CreateTempSubdirectory("acrid-login-sbx").FullName;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };
    public string RegistryId { get; private set; } = string.Empty;
    public string LoginServer { get; private set; } = string.Empty;
    public string VmId { get; private set; } = string.Empty;
    public string Subscription => Host.Endpoints.SubscriptionIds[0];

    public async Task InitializeAsync()
    {
        string? caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        Assert.False(string.IsNullOrEmpty(caDir) || string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SSL_CERT_FILE")),
            "run through tests/run, or with SSL_CERT_FILE=<ca>/ca-bundle.pem and ACRIDENTITY_SANDBOX_CA_DIR=<ca>");
        Host = await SandboxHost.StartAsync(new SandboxOptions
        {
            StateDir = StateDir,
            CaDir = caDir,
            ScenarioFile = Path.Combine(Repo.Root, "samples", "seed-world.json"),
            StartRegistries = true,
        });
        RegistryEndpoint registry = Host.Endpoints.Registries.Values.Single(r => r.Id.EndsWith("/myContainerRegistry", StringComparison.OrdinalIgnoreCase));
        RegistryId = registry.Id;
        LoginServer = registry.LoginServer;
        VmId = $"/subscriptions/{Subscription}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myDockerVM";
    }

    public async Task<string> OperatorTokenAsync()
    {
        var e = Host.Endpoints;
        using var reply = await Http.PostAsync($"{e.ArmEndpoint.TrimEnd('/')}/{e.TenantId}/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = e.Operator.ClientId, ["client_secret"] = e.Operator.ClientSecret,
            ["scope"] = "https://management.core.windows.net//.default",
        }));
        Assert.True(reply.IsSuccessStatusCode, "operator token: " + (int)reply.StatusCode);
        return (string)JsonNode.Parse(await reply.Content.ReadAsStringAsync())!["access_token"]!;
    }

    /// <summary>ARM as the operator (setup only: what `az vm identity assign` / `az acr create` would do).</summary>
    public async Task<JsonObject> ArmAsync(HttpMethod method, string id, string apiVersion, JsonObject body)
    {
        using var request = new HttpRequestMessage(method, $"{Host.Endpoints.ArmEndpoint.TrimEnd('/')}{id}?api-version={apiVersion}")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await OperatorTokenAsync());
        using var reply = await Http.SendAsync(request);
        string text = await reply.Content.ReadAsStringAsync();
        Assert.True(reply.IsSuccessStatusCode, $"{method} {id}: {(int)reply.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>The resource's system identity, once the (possibly asynchronous) update has given it one.</summary>
    public async Task<string> PrincipalOfAsync(string id, string apiVersion)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{Host.Endpoints.ArmEndpoint.TrimEnd('/')}{id}?api-version={apiVersion}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await OperatorTokenAsync());
            using var reply = await Http.SendAsync(request);
            var body = JsonNode.Parse(await reply.Content.ReadAsStringAsync());
            if (body?["identity"]?["principalId"] is JsonValue v && v.TryGetValue(out string? principal)) return principal;
            Assert.True(DateTime.UtcNow < until, $"{id} has no system identity: {body?.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    public async Task WaitForFrontAsync(string loginServer)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var r = await Http.GetAsync($"https://{loginServer}/v2/");
                if ((int)r.StatusCode == 401) return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < until)
            {
            }
            Assert.True(DateTime.UtcNow < until, $"{loginServer} did not answer");
            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
        Http.Dispose();
        try { Directory.Delete(StateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Issue 7's "done when": Connect-AcrRegistry on the seed VM, then a real skopeo pull with nothing else.</summary>
public sealed class LoginTests : IClassFixture<LoginSandbox>, IDisposable
{
    private const string ZeroUser = "00000000-0000-0000-0000-000000000000";
    private readonly LoginSandbox _s;
    private readonly string _dir = Directory.CreateTempSubdirectory("acrid-login").FullName;
    private readonly EnvScope _env = EnvScope.Clean();

    public LoginTests(LoginSandbox sandbox) => _s = sandbox;

    private static string PwshHost => Repo.ProjectDll("tools/PwshHost", "PwshHost");

    /// <summary>The module in a fresh process (MSAL keeps the managed-identity source in process-wide statics).</summary>
    private ChildProcess.Result Pwsh(string script, IDictionary<string, string?> env)
    {
        var all = new Dictionary<string, string?>(env)
        {
            ["HOME"] = _dir,
            ["XDG_RUNTIME_DIR"] = null,
            [ "ACRIDENTITY_ENVIRONMENT"] = _s.Host.EndpointsFile,
        };
        string text = "$VerbosePreference = 'Continue'; $DebugPreference = 'Continue'; Import-Module '" + Repo.ModuleManifest + "' -ErrorAction Stop; " + script;
        return ChildProcess.RunDotnet(PwshHost, new[] { "-Command", text }, all, TimeSpan.FromMinutes(3));
    }

    private Dictionary<string, string?> OnTheVm(RunAsEndpoints vm, string authFile) => new()
    {
        ["IDENTITY_ENDPOINT"] = vm.IdentityEndpoint,
        ["IDENTITY_HEADER"] = vm.IdentityHeader,
        ["REGISTRY_AUTH_FILE"] = authFile,
        ["DOCKER_CONFIG"] = Path.Combine(_dir, "docker"),
    };

    private async Task<(int ExitCode, string Output)> SkopeoAsync(string authFile, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("skopeo") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        // No --creds: skopeo finds the credential in REGISTRY_AUTH_FILE, trusts the sandbox CA through SSL_CERT_FILE.
        psi.Environment["REGISTRY_AUTH_FILE"] = authFile;
        psi.Environment["HOME"] = Path.Combine(_dir, "skopeo-home");
        psi.Environment.Remove("DOCKER_CONFIG");
        psi.Environment.Remove("XDG_RUNTIME_DIR");
        using var p = System.Diagnostics.Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    private static string RefreshTokenIn(string file, string server)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
        string auth = Encoding.UTF8.GetString(Convert.FromBase64String(doc.RootElement.GetProperty("auths").GetProperty(server).GetProperty("auth").GetString()!));
        Assert.StartsWith(ZeroUser + ":", auth);
        return auth[(ZeroUser.Length + 1)..];
    }

    [Fact]
    public async Task Seed_VM_identity_logs_in_and_skopeo_pulls_until_the_role_is_revoked()
    {
        Assert.True(File.Exists("/usr/bin/skopeo") || File.Exists("/usr/local/bin/skopeo"), "skopeo is not installed (tools/install-prereqs)");
        // az vm identity assign + az role assignment create --role acrpull (seed 004), done by the operator.
        await _s.ArmAsync(HttpMethod.Patch, _s.VmId, "2024-11-01", new JsonObject { ["identity"] = new JsonObject { ["type"] = "SystemAssigned" } });
        string principal = await _s.PrincipalOfAsync(_s.VmId, "2024-11-01");
        var assignment = _s.Host.World.AddRoleAssignment(_s.RegistryId, "AcrPull", principal, "ServicePrincipal");
        RunAsEndpoints runAs;
        lock (_s.Host.Endpoints.RunAs) runAs = _s.Host.Endpoints.RunAs[_s.VmId];

        // An existing containers auth file with another registry and a key we do not know: both must survive byte for byte.
        string authFile = Path.Combine(_dir, "auth.json");
        string before = "{\n  \"auths\": {\n    \"quay.io\": {\"auth\": \"cXVheTpzZWNyZXQ=\"}\n  },\n  \"x-unknown\": [1, 2.50, \"ü\"]\n}\n";
        File.WriteAllText(authFile, before);

        var login = Pwsh($"Connect-AcrRegistry -Registry '{_s.LoginServer}' -Identity -PassThru", OnTheVm(runAs, authFile));
        Assert.True(login.ExitCode == 0, login.ToString());

        string after = File.ReadAllText(authFile);
        string refresh = RefreshTokenIn(authFile, _s.LoginServer);
        Assert.StartsWith("{\n  \"auths\": {\n    \"quay.io\": {\"auth\": \"cXVheTpzZWNyZXQ=\"},\n    \"" + _s.LoginServer + "\": {", after);
        Assert.EndsWith("}\n  },\n  \"x-unknown\": [1, 2.50, \"ü\"]\n}\n", after);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(authFile));
        // Default -Target All: docker's file too.
        Assert.Equal(refresh, RefreshTokenIn(Path.Combine(_dir, "docker", "config.json"), _s.LoginServer));
        // Nothing but the auth files holds the token: not the output, not verbose/debug, not errors.
        Assert.DoesNotContain(refresh, login.StdOut + login.StdErr);
        Assert.DoesNotContain("eyJ", login.StdOut + login.StdErr);
        Assert.Contains("Login Succeeded", login.StdOut);
        Assert.Contains("AuthFile", login.StdOut); // -PassThru: what was written, without the secret
        Assert.Contains("/oauth2/exchange -> 200", login.StdErr);

        var pulled = await SkopeoAsync(authFile, "copy", $"docker://{_s.LoginServer}/aci-helloworld:v1", "dir:" + Path.Combine(_dir, "pulled"));
        Assert.True(pulled.ExitCode == 0, pulled.Output);
        Assert.True(File.Exists(Path.Combine(_dir, "pulled", "manifest.json")));

        // Role revoked: the same file no longer pulls, and a login that proves pull says why.
        Assert.True(_s.Host.World.DeleteRoleAssignment(assignment.Name));
        var refused = await SkopeoAsync(authFile, "copy", $"docker://{_s.LoginServer}/aci-helloworld:v1", "dir:" + Path.Combine(_dir, "refused"));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Matches("denied|unauthorized", refused.Output);

        var check = Pwsh($"Connect-AcrRegistry -Registry '{_s.LoginServer}' -Identity -Repository aci-helloworld -Target Containers", OnTheVm(runAs, authFile));
        Assert.NotEqual(0, check.ExitCode);
        Assert.Contains("Connect-AcrRegistry.IdentityLacksPull", check.StdErr);
        Assert.Contains("grants no action", check.StdErr);
        Assert.DoesNotContain("eyJ", check.StdOut + check.StdErr);
        Assert.Equal(after, File.ReadAllText(authFile));
    }

    [Fact]
    public async Task User_assigned_identity_is_chosen_by_client_id_or_resource_id()
    {
        // Seed 004, example 1: myACRId attached to a VM and granted AcrPull; the VM is asked for that identity's token.
        string uamiId = $"/subscriptions/{_s.Subscription}/resourceGroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/myACRId";
        var uami = await _s.ArmAsync(HttpMethod.Get, uamiId, "2023-01-31", new JsonObject());
        string clientId = (string)uami["properties"]!["clientId"]!, principal = (string)uami["properties"]!["principalId"]!;
        string vmId = $"/subscriptions/{_s.Subscription}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/uami{Guid.NewGuid().ToString("N")[..6]}";
        await _s.ArmAsync(HttpMethod.Put, vmId, "2024-11-01", new JsonObject
        {
            ["location"] = "westus",
            ["identity"] = new JsonObject { ["type"] = "UserAssigned", ["userAssignedIdentities"] = new JsonObject { [uamiId] = new JsonObject() } },
            ["properties"] = new JsonObject { ["hardwareProfile"] = new JsonObject { ["vmSize"] = "Standard_D2s_v3" } },
        });
        var assignment = _s.Host.World.AddRoleAssignment(_s.RegistryId, "AcrPull", principal, "ServicePrincipal");
        try
        {
            RunAsEndpoints vm = await RunAsAsync(vmId);
            var result = Pwsh(
                $"(Get-AcrAccessToken -Registry '{_s.LoginServer}' -ClientId '{clientId}' -Repository aci-helloworld).Actions -join ','; " +
                $"(Get-AcrAccessToken -Registry '{_s.LoginServer}' -ResourceId '{uamiId}' -Repository aci-helloworld).Identity",
                OnTheVm(vm, Path.Combine(_dir, "uami.json")));
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("pull", result.StdOut);
            Assert.Contains(uamiId, result.StdOut);
            Assert.DoesNotContain("eyJ", result.StdOut + result.StdErr);
        }
        finally
        {
            _s.Host.World.DeleteRoleAssignment(assignment.Name);
        }
    }

    private async Task<RunAsEndpoints> RunAsAsync(string resourceId)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            lock (_s.Host.Endpoints.RunAs)
            {
                if (_s.Host.Endpoints.RunAs.TryGetValue(resourceId, out var e)) return e;
            }
            Assert.True(DateTime.UtcNow < until, "no runAs entry for " + resourceId);
            await Task.Delay(50);
        }
    }

    [Fact]
    public void No_identity_on_the_resource_is_explained_and_nothing_is_written()
    {
        // The seed web app has no identity yet: its identity endpoint answers "Identity not found".
        string appId = $"/subscriptions/{_s.Subscription}/resourceGroups/myResourceGroup/providers/Microsoft.Web/sites/myLinuxApp";
        RunAsEndpoints app;
        lock (_s.Host.Endpoints.RunAs) app = _s.Host.Endpoints.RunAs[appId];
        string authFile = Path.Combine(_dir, "none.json");
        var none = Pwsh($"Get-AcrAccessToken -Registry '{_s.LoginServer}' -Identity", OnTheVm(app, authFile));
        Assert.NotEqual(0, none.ExitCode);
        Assert.Contains("Get-AcrAccessToken.NoManagedIdentity", none.StdErr);
        Assert.Contains("Identity not found", none.StdErr);

        var connect = Pwsh($"Connect-AcrRegistry -Registry '{_s.LoginServer}' -Identity", OnTheVm(app, authFile));
        Assert.NotEqual(0, connect.ExitCode);
        Assert.Contains("Connect-AcrRegistry.NoManagedIdentity", connect.StdErr);
        Assert.False(File.Exists(authFile));
    }

    [Fact]
    public async Task Parallel_logins_from_separate_processes_keep_every_entry()
    {
        var servers = new List<string> { _s.LoginServer };
        for (int i = 0; i < 2; i++)
        {
            string name = "par" + Guid.NewGuid().ToString("N")[..8];
            var reg = await _s.ArmAsync(HttpMethod.Put, $"/subscriptions/{_s.Subscription}/resourceGroups/myResourceGroup/providers/Microsoft.ContainerRegistry/registries/{name}",
                "2025-11-01", new JsonObject { ["location"] = "westus", ["sku"] = new JsonObject { ["name"] = "Standard" }, ["properties"] = new JsonObject() });
            servers.Add((string)reg["properties"]!["loginServer"]!);
        }
        foreach (string server in servers) await _s.WaitForFrontAsync(server);

        string authFile = Path.Combine(_dir, "shared-auth.json");
        string original = "{\"auths\":{\"keep.example\":{\"auth\":\"a2VlcDpr\"}},\"credHelpers\":{}}";
        File.WriteAllText(authFile, original);
        var op = _s.Host.Endpoints.Operator;
        var env = new Dictionary<string, string?>
        {
            ["AZURE_CLIENT_ID"] = op.ClientId, ["AZURE_CLIENT_SECRET"] = op.ClientSecret, ["AZURE_TENANT_ID"] = _s.Host.Endpoints.TenantId,
            ["AZURE_SUBSCRIPTION_ID"] = _s.Subscription, ["REGISTRY_AUTH_FILE"] = authFile,
        };
        // Two processes per registry, all at once, all on one file.
        var runs = servers.Concat(servers).Select(server => Task.Run(() =>
            Pwsh($"Connect-AcrRegistry -Registry '{server}' -Target Containers", env))).ToArray();
        var results = await Task.WhenAll(runs);

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(authFile));
        foreach (string server in servers) Assert.StartsWith("eyJ", RefreshTokenIn(authFile, server));
        Assert.Equal("a2VlcDpr", doc.RootElement.GetProperty("auths").GetProperty("keep.example").GetProperty("auth").GetString());
        Assert.StartsWith("{\"auths\":{\"keep.example\":{\"auth\":\"a2VlcDpr\"},", File.ReadAllText(authFile));
        Assert.EndsWith("},\"credHelpers\":{}}", File.ReadAllText(authFile));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    private PowerShellSession Operator()
    {
        var ps = new PowerShellSession();
        var op = _s.Host.Endpoints.Operator;
        var secret = new SecureString();
        foreach (char c in op.ClientSecret) secret.AppendChar(c);
        var connected = ps.Run("Connect-AcrIdentity -Environment $args[0] -ApplicationId $args[1] -ClientSecret $args[2] -Subscription $args[3] | Out-Null",
            _s.Host.EndpointsFile, op.ClientId, secret, _s.Subscription);
        Assert.True(connected.Errors.Count == 0, connected.ToString());
        return ps;
    }

    [Fact]
    public void Get_AcrAccessToken_gives_SecureStrings_unless_AsPlainText_and_never_prints_a_token()
    {
        using var ps = Operator();
        try
        {
            var secure = ps.Run("Get-AcrAccessToken -Registry myContainerRegistry -Repository aci-helloworld");
            var token = secure.Single();
            Assert.Equal("AcrIdentity.AcrAccessToken", token.BaseObject.GetType().FullName);
            Assert.IsType<SecureString>(token.Properties["RefreshToken"].Value);
            Assert.IsType<SecureString>(token.Properties["AccessToken"].Value);
            Assert.Equal(ZeroUser, token.Properties["Username"].Value);
            Assert.Equal(_s.LoginServer, token.Properties["LoginServer"].Value);
            Assert.Contains("pull", (string[])token.Properties["Actions"].Value);
            var expires = (DateTimeOffset)token.Properties["ExpiresOn"].Value;
            Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(2.9), TimeSpan.FromHours(3.1));
            Assert.DoesNotContain("eyJ", secure.AllText());
            Assert.Contains(secure.Verbose, v => v.Message.Contains("is a name", StringComparison.Ordinal));

            // Pipeline input: Enable-AcrManagedIdentityPull's result (Registry) and Get-AzContainerRegistry's object (Id, LoginServer, Name).
            var piped = ps.Run("[pscustomobject]@{ ResourceId = 'x'; Registry = $args[0] }, [pscustomobject]@{ Id = $args[0]; LoginServer = 'ignored.example'; Name = 'ignored' } | Get-AcrAccessToken", _s.RegistryId);
            Assert.True(piped.Errors.Count == 0, piped.ToString());
            Assert.All(piped.Output, o => Assert.Equal(_s.RegistryId, (string)o.Properties["RegistryId"].Value, ignoreCase: true));
            Assert.Equal(2, piped.Output.Count);

            var plain = ps.Run("Get-AcrAccessToken -Registry $args[0] -AsPlainText", _s.RegistryId);
            var text = plain.Single();
            Assert.StartsWith("eyJ", (string)text.Properties["RefreshToken"].Value);
            Assert.Null(text.Properties["AccessToken"].Value);
            Assert.DoesNotContain("eyJ", text.ToString());
            // The table view (what the console shows) names no token column.
            var view = System.Xml.Linq.XDocument.Load(Path.Combine(Repo.ModuleDirectory, "AcrIdentity.format.ps1xml")).Descendants("View")
                .Single(v => v.Element("Name")?.Value == "AcrAccessToken");
            Assert.DoesNotContain("Token", string.Concat(view.Descendants("PropertyName").Select(p => p.Value)));
            Assert.DoesNotContain("eyJ", string.Join("\n", plain.Verbose.Select(v => v.Message).Concat(plain.Debug.Select(d => d.Message))));
        }
        finally
        {
            ps.Run("Disconnect-AcrIdentity");
        }
    }

    [Fact]
    public void WhatIf_neither_signs_in_nor_writes()
    {
        string authFile = Path.Combine(_dir, "whatif-auth.json");
        _env.Set("REGISTRY_AUTH_FILE", authFile).Set("DOCKER_CONFIG", Path.Combine(_dir, "whatif-docker"));
        using var ps = Operator();
        try
        {
            int mark = _s.Host.Requests.Count;
            var result = ps.Run("Connect-AcrRegistry -Registry myContainerRegistry -WhatIf");
            Assert.True(result.Errors.Count == 0, result.ToString());
            Assert.False(File.Exists(authFile));
            Assert.False(Directory.Exists(Path.Combine(_dir, "whatif-docker")));
            Assert.Equal(mark, _s.Host.Requests.Count);
        }
        finally
        {
            ps.Run("Disconnect-AcrIdentity");
        }
    }

    [Fact]
    public void Bad_invocations_stop_before_any_call()
    {
        using var ps = new PowerShellSession();
        var both = ps.Run("Get-AcrAccessToken -Registry contoso -ClientId ([guid]::NewGuid()) -ResourceId /subscriptions/x");
        Assert.Equal("Get-AcrAccessToken.AmbiguousIdentity", both.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        var action = ps.Run("Connect-AcrRegistry -Registry contoso -Action push");
        Assert.Equal("Connect-AcrRegistry.ActionNeedsRepository", action.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
    }

    public void Dispose()
    {
        _env.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
