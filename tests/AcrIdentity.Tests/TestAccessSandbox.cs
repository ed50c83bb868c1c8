using System.Diagnostics;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// A sandbox with real registries for Test-AcrPullAccess: one resource group with every target kind ("kinds")
/// and one with a web app per live case ("live"), each pulling aci-helloworld:v1 with its system identity.
/// A PowerShell session is connected as the operator.
/// </summary>
public sealed class TestAccessSandbox : IAsyncLifetime
{
    public const string RepositoryReader = "b93aa761-3e63-49ed-ac28-beffa264f7ac";
    public const string NoPullRole = "6a0d1c2e-4b7f-4e0a-9d35-0c1f2a3b4c5d";

    /// <summary>name, registry, role (null: none), condition, scope group (null: the registry), acrUseManagedIdentityCreds, tag.</summary>
    public static readonly (string App, string Registry, string? Role, string? Condition, bool AtGroup, bool UseIdentity, string Tag)[] LiveCases =
    {
        ("liveHealthy", "liveacr", "AcrPull", null, false, true, "v1"),
        ("liveNoRole", "liveacr", null, null, false, true, "v1"),
        ("liveCustomNoPull", "liveacr", NoPullRole, null, false, true, "v1"),
        ("liveAbacAcrPull", "liveabac", "AcrPull", null, false, true, "v1"),
        ("liveAbacOtherRepo", "liveabac", RepositoryReader, Condition("hello-world"), false, true, "v1"),
        ("liveAbacRightRepo", "liveabac", RepositoryReader, Condition("aci-helloworld"), false, true, "v1"),
        ("liveClosed", "liveclosed", "AcrPull", null, false, true, "v1"),
        ("liveDeny", "livedeny", "AcrPull", null, false, true, "v1"),
        ("liveMissingTag", "liveacr", "AcrPull", null, false, true, "v9"),
        ("liveOwner", "liveacr", "Owner", null, false, true, "v1"),
        ("liveInherited", "liveacr", "AcrPull", null, true, true, "v1"),
        ("liveLegacyConditioned", "liveacr", RepositoryReader, Condition("aci-helloworld"), false, true, "v1"),
        ("liveConfigOff", "liveacr", "AcrPull", null, false, false, "v1"),
    };

    private static string Condition(string repo) =>
        $"@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase '{repo}'";

    public SandboxHost Host { get; private set; } = null!;
    public PowerShellSession Ps { get; private set; } = null!;
    public string StateDir { get; } = Directory.CreateTempSubdirectory("acrid-testaccess").FullName;
    public string SubscriptionId => Host.Endpoints.SubscriptionIds[0];
    public string GroupId(string group) => $"/subscriptions/{SubscriptionId}/resourceGroups/{group}";
    public string Id(string group, string type, string name) => $"{GroupId(group)}/providers/{type}/{name}";
    public string RegistryId(string group, string name) => Id(group, "Microsoft.ContainerRegistry/registries", name);
    /// <summary>A live case's web app ("App" keeps app names apart from registry names: scenario principals are looked up by name).</summary>
    public string AppId(string liveCase) => Id("live", "Microsoft.Web/sites", liveCase + "App");
    public string LoginServer(string registry) => Host.Endpoints.Registries[registry].LoginServer;

    public async Task InitializeAsync()
    {
        string? caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        Assert.False(string.IsNullOrEmpty(caDir) || string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SSL_CERT_FILE")),
            "Run through tests/run (SSL_CERT_FILE and ACRIDENTITY_SANDBOX_CA_DIR must name the sandbox CA).");
        // tools/PwshHost (our pwsh stand-in) runs Run Command's RunPowerShellScript for the Windows machines.
        Host = await SandboxHost.StartAsync(new SandboxOptions
        {
            StateDir = StateDir, CaDir = caDir, ScenarioJson = Scenario().ToJsonString(), PowerShell = Repo.ProjectDll("tools/PwshHost", "PwshHost"),
        });
        Ps = new PowerShellSession();
        var connected = Ps.Run("Connect-AcrIdentity -Environment $args[0] -ApplicationId $args[1] -ClientSecret $args[2] -Subscription $args[3]",
            Host.EndpointsFile, Host.Endpoints.Operator.ClientId, Secure(Host.Endpoints.Operator.ClientSecret), SubscriptionId);
        Assert.True(connected.Errors.Count == 0, "Connect-AcrIdentity failed: " + connected);
    }

    private static System.Security.SecureString Secure(string text)
    {
        var secure = new System.Security.SecureString();
        foreach (char c in text) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }

    public async Task DisposeAsync()
    {
        Ps?.Run("Disconnect-AcrIdentity");
        Ps?.Dispose();
        if (Host != null) await Host.DisposeAsync();
        try { Directory.Delete(StateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static JsonObject Registry(string name, string properties = "{}") => new()
    {
        ["type"] = "registry", ["name"] = name, ["sku"] = new JsonObject { ["name"] = "Premium" },
        ["properties"] = JsonNode.Parse(properties), ["images"] = new JsonArray("aci-helloworld:v1", "hello-world:v1"),
    };

    private static JsonObject ScaleSet(string name, int capacity, string os, string? powerState = null) => new()
    {
        ["type"] = "vmss", ["name"] = name, ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
        ["powerState"] = powerState == null ? null : JsonNode.Parse(powerState),
        ["sku"] = new JsonObject { ["name"] = "Standard_D2s_v3", ["tier"] = "Standard", ["capacity"] = capacity },
        ["properties"] = new JsonObject
        {
            ["orchestrationMode"] = "Uniform",
            ["virtualMachineProfile"] = new JsonObject { ["storageProfile"] = new JsonObject { ["osDisk"] = new JsonObject { ["osType"] = os } } },
        },
    };

    private static JsonObject Scenario()
    {
        var live = new JsonArray
        {
            Registry("liveacr"),
            Registry("liveabac", """{"roleAssignmentMode":"AbacRepositoryPermissions"}"""),
            Registry("liveclosed", """{"publicNetworkAccess":"Disabled"}"""),
            Registry("livedeny", """{"networkRuleSet":{"defaultAction":"Deny","ipRules":[]}}"""),
        };
        // A web app pulling with a user-assigned identity (acrUserManagedIdentityID is set by the test through Enable).
        live.Add(JsonNode.Parse("""{"type":"userAssignedIdentity","name":"liveUami"}""")!);
        // A VM with AcrPull for -InWorkload (Run Command runs the probe as the VM).
        live.Add(JsonNode.Parse("""{"type":"vm","name":"liveProbeVm","identity":{"type":"SystemAssigned"},"properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"}}}""")!);
        // -InWorkload on scale sets (instances from sku.capacity) and Windows VMs (RunPowerShellScript).
        live.Add(ScaleSet("liveProbeVmss", 2, "Linux"));
        live.Add(ScaleSet("liveNoPullVmss", 1, "Linux"));
        live.Add(ScaleSet("liveEmptyVmss", 0, "Linux"));
        // Stopped machines (scenario powerState): every instance deallocated, the first one only, a deallocated VM.
        live.Add(ScaleSet("liveColdVmss", 2, "Linux", "\"deallocated\""));
        live.Add(ScaleSet("liveHalfVmss", 2, "Linux", """{"0":"deallocated"}"""));
        live.Add(JsonNode.Parse("""{"type":"vm","name":"liveOffVm","powerState":"deallocated","identity":{"type":"SystemAssigned"},"properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"}}}""")!);
        live.Add(JsonNode.Parse("""{"type":"vm","name":"liveWinVm","identity":{"type":"SystemAssigned"},"properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},"storageProfile":{"osDisk":{"osType":"Windows"}}}}""")!);
        live.Add(JsonNode.Parse("""{"type":"vm","name":"liveWinNoPullVm","identity":{"type":"SystemAssigned"},"properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},"storageProfile":{"osDisk":{"osType":"Windows"}}}}""")!);
        live.Add(JsonNode.Parse("""{"type":"webApp","name":"liveUamiApp","kind":"app,linux,container","identity":{"type":"UserAssigned","userAssignedIdentities":["liveUami"]},"siteConfig":{"linuxFxVersion":"DOCKER|liveacr.azurecr.io/aci-helloworld:v1"}}""")!);
        var assignments = new JsonArray
        {
            JsonNode.Parse("""{"principal":"liveUami","role":"AcrPull","scope":"/subscriptions/{subscriptionId}/resourceGroups/live/providers/Microsoft.ContainerRegistry/registries/liveacr"}""")!,
            JsonNode.Parse("""{"principal":"liveProbeVm","role":"AcrPull","scope":"/subscriptions/{subscriptionId}/resourceGroups/live/providers/Microsoft.ContainerRegistry/registries/liveacr"}""")!,
            JsonNode.Parse("""{"principal":"liveProbeVmss","role":"AcrPull","scope":"/subscriptions/{subscriptionId}/resourceGroups/live/providers/Microsoft.ContainerRegistry/registries/liveacr"}""")!,
            JsonNode.Parse("""{"principal":"liveHalfVmss","role":"AcrPull","scope":"/subscriptions/{subscriptionId}/resourceGroups/live/providers/Microsoft.ContainerRegistry/registries/liveacr"}""")!,
            JsonNode.Parse("""{"principal":"liveWinVm","role":"AcrPull","scope":"/subscriptions/{subscriptionId}/resourceGroups/live/providers/Microsoft.ContainerRegistry/registries/liveacr"}""")!,
        };
        foreach (var c in LiveCases)
        {
            live.Add(new JsonObject
            {
                ["type"] = "webApp", ["name"] = c.App + "App", ["kind"] = "app,linux,container", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
                ["siteConfig"] = new JsonObject
                {
                    ["linuxFxVersion"] = $"DOCKER|{c.Registry}.azurecr.io/aci-helloworld:{c.Tag}", ["acrUseManagedIdentityCreds"] = c.UseIdentity,
                },
            });
            if (c.Role is null) continue;
            var a = new JsonObject
            {
                ["principal"] = c.App + "App", ["role"] = c.Role,
                ["scope"] = c.AtGroup ? "/subscriptions/{subscriptionId}/resourceGroups/live" : "/subscriptions/{subscriptionId}/resourceGroups/live/providers/Microsoft.ContainerRegistry/registries/" + c.Registry,
            };
            if (c.Condition is not null) a["condition"] = c.Condition;
            assignments.Add(a);
        }
        var kinds = new JsonArray
        {
            Registry("kindsacr"),
            new JsonObject { ["type"] = "userAssignedIdentity", ["name"] = "kindsId" },
            new JsonObject { ["type"] = "webApp", ["name"] = "kindsLinuxApp", ["kind"] = "app,linux,container", ["siteConfig"] = new JsonObject { ["linuxFxVersion"] = "DOCKER|kindsacr.azurecr.io/aci-helloworld:v1" } },
            new JsonObject { ["type"] = "webApp", ["name"] = "kindsWindowsApp", ["kind"] = "app,container,windows", ["siteConfig"] = new JsonObject { ["windowsFxVersion"] = "DOCKER|kindsacr.azurecr.io/hello-world:v1" } },
            JsonNode.Parse("""{"type":"vm","name":"kindsVm","properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"}}}""")!,
            JsonNode.Parse("""{"type":"vmss","name":"kindsVmss","properties":{}}""")!,
            JsonNode.Parse("""{"type":"aks","name":"kindsAks","properties":{"dnsPrefix":"kinds"}}""")!,
            JsonNode.Parse("""{"type":"containerApp","name":"kindscontainerapp","properties":{"configuration":{"registries":[]},"template":{"containers":[{"name":"app","image":"kindsacr.azurecr.io/aci-helloworld:v1"}]}}}""")!,
            JsonNode.Parse("""{"type":"containerGroup","name":"kindsContainerGroup","properties":{"osType":"Linux","containers":[{"name":"c","properties":{"image":"kindsacr.azurecr.io/aci-helloworld:v1","resources":{"requests":{"cpu":1,"memoryInGB":1}}}}]}}""")!,
        };
        return new JsonObject
        {
            ["defaultLocation"] = "westus",
            ["customRoles"] = JsonNode.Parse($$"""[{"id":"{{NoPullRole}}","roleName":"Registry operator without pull","actions":["Microsoft.ContainerRegistry/*"],"notActions":["Microsoft.ContainerRegistry/registries/pull/*"]}]"""),
            ["subscriptions"] = new JsonArray(new JsonObject
            {
                ["displayName"] = "Sandbox Subscription",
                ["resourceGroups"] = new JsonArray(
                    new JsonObject { ["name"] = "kinds", ["location"] = "westus", ["resources"] = kinds },
                    new JsonObject { ["name"] = "live", ["location"] = "westus", ["resources"] = live }),
            }),
            ["roleAssignments"] = assignments,
        };
    }

    // ---- acting as a target's identity, outside the module ----

    /// <summary>The environment a process on <paramref name="resourceId"/> sees (App Service style identity endpoint).</summary>
    public Dictionary<string, string?> RunAsEnvironment(string resourceId)
    {
        var runAs = Host.Endpoints.RunAs[resourceId];
        return new Dictionary<string, string?> { ["IDENTITY_ENDPOINT"] = runAs.IdentityEndpoint, ["IDENTITY_HEADER"] = runAs.IdentityHeader };
    }

    /// <summary>What skopeo does with the identity's registry credential: copy the image; true when it pulled.</summary>
    public async Task<(bool Pulled, string Output)> SkopeoPullAsync(string resourceId, string loginServer, string repository, string tag, string? clientId = null)
    {
        using var http = new HttpClient();
        var runAs = Host.Endpoints.RunAs[resourceId];
        string audience = Host.Endpoints.ActiveDirectoryResourceId ?? "https://management.core.windows.net/";
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, $"{runAs.IdentityEndpoint}?api-version=2019-08-01&resource={Uri.EscapeDataString(audience)}" + (clientId is null ? "" : "&client_id=" + clientId));
        tokenRequest.Headers.Add("X-IDENTITY-HEADER", runAs.IdentityHeader);
        using var tokenReply = await http.SendAsync(tokenRequest);
        Assert.True(tokenReply.IsSuccessStatusCode, "managed identity token: " + (int)tokenReply.StatusCode);
        string aad = (string)JsonNode.Parse(await tokenReply.Content.ReadAsStringAsync())!["access_token"]!;
        using var exchange = await http.PostAsync($"https://{loginServer}/oauth2/exchange", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "access_token", ["service"] = loginServer, ["access_token"] = aad,
        }));
        // Refused at the exchange (firewall): skopeo would have nothing to log in with.
        if (!exchange.IsSuccessStatusCode) return (false, "exchange " + (int)exchange.StatusCode);
        string refresh = (string)JsonNode.Parse(await exchange.Content.ReadAsStringAsync())!["refresh_token"]!;

        string certDir = Path.Combine(StateDir, "skopeo-certs");
        Directory.CreateDirectory(certDir);
        File.Copy(Path.Combine(Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR")!, "ca.crt"), Path.Combine(certDir, "ca.crt"), overwrite: true);
        string outDir = Path.Combine(StateDir, "pulled-" + Guid.NewGuid().ToString("N")[..8]);
        var psi = new ProcessStartInfo("skopeo") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "copy", "--src-cert-dir", certDir, "--src-creds", "00000000-0000-0000-0000-000000000000:" + refresh, $"docker://{loginServer}/{repository}:{tag}", "dir:" + outDir })
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["HOME"] = StateDir;
        using var p = Process.Start(psi)!;
        string output = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode == 0 && File.Exists(Path.Combine(outDir, "manifest.json")), output.Replace(refresh, "<refresh token>"));
    }

    /// <summary>Runs a script in a fresh pwsh host process (fresh MSAL statics) with the given environment; returns its output lines.</summary>
    public (int ExitCode, string StdOut, string StdErr) RunChild(string script, IDictionary<string, string?> env)
    {
        string dll = Repo.ProjectDll("tools/PwshHost", "PwshHost");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { dll, "-AllowErrors", "-Command", script }) psi.ArgumentList.Add(a);
        foreach (string name in new[] { "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "ACRIDENTITY_ENVIRONMENT" })
        {
            psi.Environment.Remove(name);
        }
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("the pwsh host did not finish in 2 minutes");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

[CollectionDefinition(Name)]
public sealed class TestAccessCollection : ICollectionFixture<TestAccessSandbox>
{
    public const string Name = "test-access sandbox";
}
