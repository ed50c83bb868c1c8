using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace AcrIdentity.Sandbox.Tests;

/// <summary>The sandbox as outside tools use it: a separate process, endpoints.json, SIGTERM.</summary>
public sealed class StandaloneTests
{
    readonly ITestOutputHelper _out;
    public StandaloneTests(ITestOutputHelper output) => _out = output;

    /// <summary>Repository root (holds samples/), found from the test binaries upwards.</summary>
    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "samples", "seed-world.json"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    /// <summary>Starts the sandbox executable (built beside the tests) and waits for endpoints.json.</summary>
    public static async Task<(Process Process, string StateDir, JsonNode Endpoints, TimeSpan Ready)> StartAsync(string caDir, string? scenario,
        string? stateDir = null, string? requestLogFile = null)
    {
        var state = stateDir ?? Path.Combine(Path.GetTempPath(), "acrid-standalone-" + Guid.NewGuid().ToString("N")[..10]);
        if (File.Exists(Path.Combine(state, "endpoints.json"))) File.Delete(Path.Combine(state, "endpoints.json"));
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "AcrIdentity.Sandbox.dll"));
        foreach (var a in new[] { "--state-dir", state, "--ca-dir", caDir }) psi.ArgumentList.Add(a);
        if (scenario is not null) { psi.ArgumentList.Add("--scenario"); psi.ArgumentList.Add(scenario); }
        if (requestLogFile is not null) psi.Environment[Behaviour.RequestLogFile.EnvironmentVariable] = requestLogFile;
        var sw = Stopwatch.StartNew();
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var file = Path.Combine(state, "endpoints.json");
        while (!File.Exists(file))
        {
            if (p.HasExited) throw new InvalidOperationException($"sandbox exited with {p.ExitCode}");
            if (sw.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("no endpoints.json after 60 s");
            await Task.Delay(10);
        }
        var ready = sw.Elapsed;
        return (p, state, JsonNode.Parse(await File.ReadAllTextAsync(file))!, ready);
    }

    public static HttpClient TrustingClient(string caDir)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(caDir, "ca.crt")));
        var handler = new SocketsHttpHandler { UseProxy = false };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return cert is not null && chain.Build(new X509Certificate2(cert));
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
    }

    public static string CaDir()
    {
        var dir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        if (!string.IsNullOrEmpty(dir)) return dir;
        dir = Path.Combine(Path.GetTempPath(), "acrid-ca-standalone");
        Certificates.SandboxCertificates.LoadOrCreate(dir).Dispose();
        return dir;
    }

    [Fact]
    public async Task Starts_with_the_seed_world_answers_quickly_serves_its_images_and_stops_on_SIGTERM()
    {
        var caDir = CaDir();
        // Warm the CA files so the figure is the sandbox's, not first-time key generation.
        Certificates.SandboxCertificates.LoadOrCreate(caDir).Dispose();
        var requestLog = Path.Combine(Path.GetTempPath(), "acrid-requests-" + Guid.NewGuid().ToString("N")[..10] + ".tsv");
        var (p, state, e, ready) = await StartAsync(caDir, Path.Combine(RepoRoot(), "samples", "seed-world.json"), requestLogFile: requestLog);
        try
        {
            using var http = TrustingClient(caDir);
            var reg = e["registries"]!["myContainerRegistry"]!;
            var login = (string)reg["loginServer"]!;
            var arm = ((string)e["armEndpoint"]!).TrimEnd('/');
            // "Answers": ARM and the registry, measured from process start.
            using (var r = await http.GetAsync(arm + "/metadata/endpoints?api-version=2015-01-01")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            using (var r = await http.GetAsync($"https://{login}/v2/")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            _out.WriteLine($"standalone sandbox with the seed world: endpoints.json after {ready.TotalMilliseconds:F0} ms (process start included)");
            // Generous bound: this only catches a hang; the figure belongs in bench/.
            Assert.True(ready < TimeSpan.FromSeconds(20), $"startup took {ready}");

            // Contract fields and per-resource runAs entries (VMs and AKS get their own IMDS port).
            foreach (var f in new[] { "armEndpoint", "caBundle", "tenantId", "subscriptionIds", "adfsAuthority", "operator", "runAs", "registries" })
                Assert.NotNull(e[f]);
            var runAs = e["runAs"]!.AsObject();
            var vm = runAs.First(kv => kv.Key.EndsWith("/virtualMachines/myDockerVM", StringComparison.OrdinalIgnoreCase)).Value!;
            Assert.NotNull((string?)vm["imdsEndpoint"]);
            var app = runAs.First(kv => kv.Key.EndsWith("/sites/myLinuxApp", StringComparison.OrdinalIgnoreCase)).Value!;
            Assert.Null((string?)app["imdsEndpoint"]);
            Assert.NotNull((string?)app["msiEndpoint"]);

            // The scenario images are in the real registry: the operator (Owner) lists their tags.
            var op = e["operator"]!;
            using var tok = await http.PostAsync($"{arm}/{e["tenantId"]}/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = (string)op["clientId"]!, ["client_secret"] = (string)op["clientSecret"]!,
                ["scope"] = "https://management.core.windows.net//.default",
            }));
            var aad = (string)JsonNode.Parse(await tok.Content.ReadAsStringAsync())!["access_token"]!;
            using var ex = await http.PostAsync($"https://{login}/oauth2/exchange", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "access_token", ["service"] = login, ["access_token"] = aad,
            }));
            var refresh = (string)JsonNode.Parse(await ex.Content.ReadAsStringAsync())!["refresh_token"]!;
            foreach (var repo in new[] { "hello-world", "aci-helloworld" })
            {
                using var treq = new HttpRequestMessage(HttpMethod.Get, $"https://{login}/oauth2/token?service={login}&scope=repository:{repo}:pull");
                treq.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes("00000000-0000-0000-0000-000000000000:" + refresh)));
                using var t = await http.SendAsync(treq);
                var access = (string)JsonNode.Parse(await t.Content.ReadAsStringAsync())!["access_token"]!;
                using var lreq = new HttpRequestMessage(HttpMethod.Get, $"https://{login}/v2/{repo}/tags/list");
                lreq.Headers.Authorization = new AuthenticationHeaderValue("Bearer", access);
                using var l = await http.SendAsync(lreq);
                Assert.Equal(HttpStatusCode.OK, l.StatusCode);
                Assert.Contains("\"v1\"", await l.Content.ReadAsStringAsync());
            }

            // No file watchers: a test run starts many sandboxes, each with several servers, and a user has
            // only 128 inotify instances.
            var inotify = Directory.GetFiles($"/proc/{p.Id}/fd").Count(f =>
            {
                try { return (new FileInfo(f).LinkTarget ?? "").Contains("inotify", StringComparison.Ordinal); }
                catch (IOException) { return false; }
            });
            Assert.Equal(0, inotify);

            // SIGTERM: clean exit, and the docker-registry processes it started are gone.
            var children = ChildPids(p.Id);
            Assert.NotEmpty(children);
            Assert.Equal(0, Kill(p.Id, 15));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await p.WaitForExitAsync(cts.Token);
            Assert.Equal(0, p.ExitCode);
            await Task.Delay(100);
            Assert.All(children, c => Assert.False(Directory.Exists($"/proc/{c}"), $"child {c} still running"));

            // The opt-in request log (bench/ reads it): every request, flushed on stop, seven columns, no secret.
            var lines = (await File.ReadAllLinesAsync(requestLog)).Select(l => l.Split('\t')).ToList();
            var metadata = Assert.Single(lines, l => l[5].StartsWith("/metadata/endpoints", StringComparison.Ordinal));
            Assert.Equal(7, metadata.Length);
            Assert.Equal(new[] { "GET", "200", "Arm", "-" }, metadata[1..5]);
            Assert.True(double.Parse(metadata[6], System.Globalization.CultureInfo.InvariantCulture) >= 0);
            Assert.Contains(lines, l => l[3] == "Token" && l[2] == "200" && l[4] == (string)op["principalId"]!);
            string text = await File.ReadAllTextAsync(requestLog);
            Assert.DoesNotContain((string)op["clientSecret"]!, text);
            Assert.DoesNotContain("eyJ", text);
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.Dispose();
            try { Directory.Delete(state, true); } catch (IOException) { }
            File.Delete(requestLog);
        }
    }

    [Fact]
    public async Task A_restart_after_SIGKILL_stops_the_registry_the_killed_sandbox_left_behind()
    {
        var caDir = CaDir();
        var scenario = Path.Combine(RepoRoot(), "samples", "seed-world.json");
        var (first, state, _, _) = await StartAsync(caDir, scenario);
        Process? second = null;
        try
        {
            var orphans = ChildPids(first.Id);
            Assert.NotEmpty(orphans);
            Assert.Equal(0, Kill(first.Id, 9));
            await first.WaitForExitAsync();
            Assert.All(orphans, c => Assert.True(Directory.Exists($"/proc/{c}"), "the registry should outlive a SIGKILLed sandbox"));

            (second, _, var e, _) = await StartAsync(caDir, scenario, state);
            await Task.Delay(100);
            Assert.All(orphans, c => Assert.False(Directory.Exists($"/proc/{c}") && !File.ReadAllText($"/proc/{c}/stat").Contains(" Z "),
                $"leftover registry {c} still running"));
            // The new registry serves the same storage.
            using var http = TrustingClient(caDir);
            var login = (string)e["registries"]!["myContainerRegistry"]!["loginServer"]!;
            using var r = await http.GetAsync($"https://{login}/v2/");
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }
        finally
        {
            foreach (var p in new[] { first, second })
            {
                if (p is null) continue;
                if (!p.HasExited) { Kill(p.Id, 15); p.WaitForExit(10000); }
                p.Dispose();
            }
            try { Directory.Delete(state, true); } catch (IOException) { }
        }
    }

    static List<int> ChildPids(int pid)
    {
        var list = new List<int>();
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            var f = Path.Combine(task, "children");
            if (File.Exists(f))
                list.AddRange(File.ReadAllText(f).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
        }
        return list;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int sig);
}
