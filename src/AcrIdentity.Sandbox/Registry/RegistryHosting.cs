using System.Net;
using System.Net.Sockets;
using AcrIdentity.Sandbox.Auth;
using AcrIdentity.Sandbox.Certificates;

namespace AcrIdentity.Sandbox.Registry;

/// <summary>
/// Every registry's login server (TLS front on its own port) and its Docker Distribution process. Ports
/// are given out synchronously when ARM or the scenario creates a registry; the front and the process
/// start at sandbox start, or at once in the background for registries created later.
/// </summary>
public sealed class RegistryHosting : IAsyncDisposable
{
    sealed class Hosted
    {
        public required string Id { get; init; }
        public required string Name { get; init; }
        public required int Port { get; init; }
        public string LoginServer => $"127.0.0.1:{Port}";
        public Task? Started;
        public LoopbackServer? Front;
        public RegistryProcess? Process;
        public readonly HashSet<string> Seeded = new(StringComparer.Ordinal);
        public bool Removed;
    }

    readonly Dictionary<string, Hosted> _hosted = new(StringComparer.OrdinalIgnoreCase);
    readonly object _gate = new();
    readonly IIdentityWorld _world;
    readonly TokenService _aad;
    readonly RegistryTokens _tokens;
    readonly SandboxCertificates _certs;
    readonly string _stateDir;
    readonly bool _startProcesses;
    readonly CancellationTokenSource _stopping = new();
    bool _running;
    readonly SandboxContext? _sandbox;

    public RegistryHosting(IIdentityWorld world, TokenService aad, RegistryTokens tokens, SandboxCertificates certs,
        string stateDir, bool startProcesses, SandboxContext? sandbox = null)
    {
        _sandbox = sandbox;
        _world = world;
        _aad = aad;
        _tokens = tokens;
        _certs = certs;
        _stateDir = stateDir;
        _startProcesses = startProcesses;
    }

    /// <summary>A login server for a new registry ("127.0.0.1:port"); the same one when asked again.</summary>
    public string AssignLoginServer(string registryId, string registryName)
    {
        Hosted h;
        lock (_gate)
        {
            if (_hosted.TryGetValue(registryId, out var existing) && !existing.Removed) return existing.LoginServer;
            h = new Hosted { Id = registryId, Name = registryName, Port = FreePort() };
            _hosted[registryId] = h;
            // Registries created after start come up in the background (ARM calls this under the world lock, so
            // nothing of the start runs here); the ARM LRO and the front's wait for its process cover the gap.
            if (_running)
            {
                var token = _stopping.Token;
                h.Started = Task.Run(() => StartOneAsync(h, token), token);
            }
        }
        return h.LoginServer;
    }

    public void RegistryRemoved(string registryId)
    {
        Hosted? h;
        lock (_gate)
        {
            if (!_hosted.Remove(registryId, out h)) return;
            h.Removed = true;
        }
        _ = StopOneAsync(h);
    }

    /// <summary>Starts every assigned front and process and pushes scenario images; later ones start on assignment.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        List<Hosted> pending;
        lock (_gate)
        {
            _running = true;
            pending = _hosted.Values.ToList();
            var token = _stopping.Token;
            foreach (var h in pending) h.Started ??= Task.Run(() => StartOneAsync(h, token), token);   // registries start in parallel
        }
        await Task.WhenAll(pending.Select(h => h.Started!)).WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Waits until the registry's front and process answer (tests, and callers that just created one).</summary>
    public Task WaitReadyAsync(string registryId, CancellationToken ct = default)
    {
        lock (_gate)
            return _hosted.TryGetValue(registryId, out var h) && h.Started is not null ? h.Started.WaitAsync(ct) : Task.CompletedTask;
    }

    /// <summary>Pushes scenario images that are not in the registry yet (after a world change adds some).</summary>
    public async Task SeedPendingAsync(CancellationToken ct)
    {
        List<Hosted> ready;
        lock (_gate) ready = _hosted.Values.Where(h => h.Process is not null).ToList();
        foreach (var h in ready) await SeedAsync(h, ct).ConfigureAwait(false);
    }

    async Task StartOneAsync(Hosted h, CancellationToken ct)
    {
        var front = new RegistryFront(h.Id, h.LoginServer, _world, _aad, _tokens, () => BackendAsync(h));
        h.Front = await LoopbackServer.StartAsync(_certs.Tls, front.Map, ct, h.Port, _sandbox).ConfigureAwait(false);
        if (!_startProcesses) return;
        var dir = Path.Combine(_stateDir, "registries", SafeName(h.Name));
        Directory.CreateDirectory(dir);
        var bundle = Path.Combine(dir, "token-signing.pem");
        await File.WriteAllTextAsync(bundle, _certs.Signing.ExportCertificatePem() + "\n" + _certs.Ca.ExportCertificatePem() + "\n", ct).ConfigureAwait(false);
        h.Process = await RegistryProcess.StartAsync(dir, $"https://{h.LoginServer}/oauth2/token", h.LoginServer,
            RegistryTokens.Issuer, bundle, ct).ConfigureAwait(false);
        await SeedAsync(h, ct).ConfigureAwait(false);
    }

    /// <summary>The registry process's client once it runs: data-plane calls that arrive while it starts wait for it.</summary>
    static async Task<HttpClient?> BackendAsync(Hosted h)
    {
        if (h.Process is null && h.Started is { } started)
        {
            try { await started.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false); }
            catch (Exception) { /* answered as unavailable below */ }
        }
        return h.Process?.Client;
    }

    async Task SeedAsync(Hosted h, CancellationToken ct)
    {
        if (h.Process is null) return;
        var view = _world.Registries().FirstOrDefault(r => string.Equals(r.Id, h.Id, StringComparison.OrdinalIgnoreCase));
        if (view is null) return;
        foreach (var image in view.Images)
        {
            lock (h.Seeded) if (h.Seeded.Contains(image)) continue;
            var colon = image.LastIndexOf(':');
            var (repo, tag) = colon > 0 && !image[colon..].Contains('/') ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
            var token = _tokens.IssueInternal(h.LoginServer, repo);
            await ImageSeeder.PushAsync(h.Process.Client, "http://registry", token, repo, tag, ct).ConfigureAwait(false);
            lock (h.Seeded) h.Seeded.Add(image);
        }
    }

    static async Task StopOneAsync(Hosted h)
    {
        try { if (h.Started is not null) await h.Started.ConfigureAwait(false); }
        catch (Exception) { /* a failed start still leaves parts to stop */ }
        if (h.Front is not null) await h.Front.DisposeAsync().ConfigureAwait(false);
        if (h.Process is not null) await h.Process.DisposeAsync().ConfigureAwait(false);
    }

    static string SafeName(string name) => new(name.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());

    /// <summary>A port nobody listens on now. Kestrel binds it moments later (ARM needs the login server synchronously).</summary>
    static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        List<Hosted> all;
        lock (_gate)
        {
            all = _hosted.Values.ToList();
            _hosted.Clear();
        }
        await Task.WhenAll(all.Select(StopOneAsync)).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
