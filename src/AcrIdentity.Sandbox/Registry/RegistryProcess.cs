using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace AcrIdentity.Sandbox.Registry;

/// <summary>
/// One real Docker Distribution process in token mode, listening on a unix socket in the state folder
/// (nothing else on the machine can reach it; the sandbox's TLS front is the only way in).
/// </summary>
public sealed class RegistryProcess : IAsyncDisposable
{
    public const string DefaultBinary = "/usr/bin/docker-registry";
    readonly Process _process;
    readonly StreamWriter _log;

    RegistryProcess(Process process, string socketPath, StreamWriter log)
    {
        _process = process;
        SocketPath = socketPath;
        _log = log;
        Client = CreateClient(socketPath);
    }

    public string SocketPath { get; }
    string? PidFile { get; set; }
    public int ProcessId => _process.Id;
    /// <summary>HTTP client whose every connection goes to the socket (use any http://registry/ URL).</summary>
    public HttpClient Client { get; }

    public static string Binary =>
        Environment.GetEnvironmentVariable("ACRIDENTITY_DOCKER_REGISTRY") is { Length: > 0 } b ? b : DefaultBinary;

    public static async Task<RegistryProcess> StartAsync(string dir, string realm, string service, string issuer,
        string rootCertBundlePath, CancellationToken ct)
    {
        Directory.CreateDirectory(dir);
        // Socket paths are limited to ~107 bytes; keep it short and unique.
        var socketPath = Path.Combine(Path.GetTempPath(), "acrsb-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant() + ".sock");
        var config = Path.Combine(dir, "config.yml");
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Quote(Path.Combine(dir, "data"))}
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              net: unix
              addr: {Quote(socketPath)}
              secret: {secret}
            auth:
              token:
                realm: {Quote(realm)}
                service: {Quote(service)}
                issuer: {Quote(issuer)}
                rootcertbundle: {Quote(rootCertBundlePath)}
            health:
              storagedriver:
                enabled: false
            """, ct).ConfigureAwait(false);

        var pidFile = Path.Combine(dir, "registry.pid");
        StopLeftover(pidFile, config);
        var psi = new ProcessStartInfo(Binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add(config);
        var log = new StreamWriter(Path.Combine(dir, "registry.log"), append: true) { AutoFlush = true };
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + Binary);
        p.OutputDataReceived += (_, e) => Append(log, e.Data);
        p.ErrorDataReceived += (_, e) => Append(log, e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        await File.WriteAllTextAsync(pidFile, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        var rp = new RegistryProcess(p, socketPath, log) { PidFile = pidFile };
        try
        {
            await rp.WaitReadyAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await rp.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return rp;
    }

    async Task WaitReadyAsync(CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"docker-registry exited with code {_process.ExitCode}; see its registry.log");
            if (File.Exists(SocketPath))
            {
                try
                {
                    using var r = await Client.GetAsync("http://registry/v2/", ct).ConfigureAwait(false);
                    return;   // 401 is the healthy answer in token mode
                }
                catch (HttpRequestException) { }
            }
            if (sw.Elapsed > TimeSpan.FromSeconds(15)) throw new TimeoutException("docker-registry did not start answering within 15 s");
            await Task.Delay(10, ct).ConfigureAwait(false);
        }
    }

    static HttpClient CreateClient(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>
    /// A sandbox killed outright (SIGKILL) leaves its registry running on the same storage: stop that one,
    /// identified by the pid file it wrote and by its command line naming this config, before starting anew.
    /// </summary>
    static void StopLeftover(string pidFile, string config)
    {
        if (!File.Exists(pidFile)) return;
        try
        {
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)
                && File.Exists($"/proc/{pid}/cmdline")
                && File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Contains(config, StringComparison.Ordinal))
            {
                using var old = Process.GetProcessById(pid);
                old.Kill();
                old.WaitForExit(5000);
            }
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
        File.Delete(pidFile);
    }

    static void Append(StreamWriter log, string? line)
    {
        if (line is null) return;
        lock (log)
        {
            try { log.WriteLine(line); }
            catch (ObjectDisposedException) { }   // late output after shutdown
        }
    }

    static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception) { }
        _process.Dispose();
        lock (_log) _log.Dispose();
        try { File.Delete(SocketPath); } catch (IOException) { }
        try { if (PidFile is not null) File.Delete(PidFile); } catch (IOException) { }
    }
}
