using System.Collections.Concurrent;
using System.Security.Cryptography;
using AcrIdentity.Sandbox.Behaviour;
using AcrIdentity.Sandbox.Registry;
using AcrIdentity.Sandbox.World;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AcrIdentity.Sandbox.Auth;

/// <summary>
/// The token and registry side of the sandbox: Entra endpoints on the main listener, managed-identity
/// endpoints (one http server, plus one IMDS port per machine that uses IMDS in Azure), and every
/// registry's login server with its Docker Distribution process. Keeps endpoints.json's runAs current.
/// </summary>
public sealed class IdentityArea : ISandboxArea, ICallerResolver, IRegistryFrontEnd
{
    public const string OperatorMachineKey = "operator";
    readonly ConcurrentDictionary<string, Machine> _machines = new(StringComparer.OrdinalIgnoreCase);   // key → machine
    readonly SemaphoreSlim _sync = new(1, 1);
    readonly CancellationTokenSource _stopping = new();
    WorldIdentityAdapter? _world;
    TokenService? _tokens;
    RegistryHosting? _registries;
    LoopbackServer? _identityServer;
    SandboxContext? _ctx;
    int _syncQueued;
    volatile bool _started;
    int _imdsCount;

    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SandboxContext, IdentityArea> ByContext = new();

    /// <summary>The identity area of a running sandbox (<c>host.Context</c>), for tests that mint tokens or wait for a registry.</summary>
    public static IdentityArea For(SandboxContext ctx) =>
        ByContext.TryGetValue(ctx, out var a) ? a : throw new InvalidOperationException("this sandbox has no identity area");

    public TokenService Tokens => _tokens ?? throw new InvalidOperationException("the identity area is not configured yet");
    public RegistryHosting Registries => _registries ?? throw new InvalidOperationException("the identity area is not configured yet");
    /// <summary>http://127.0.0.1:port/ of the managed-identity server.</summary>
    public Uri? IdentityServerUri => _identityServer?.BaseUri;

    public void ConfigureServices(WebApplicationBuilder builder, SandboxContext ctx)
    {
        _ctx = ctx;
        ByContext.AddOrUpdate(ctx, this);
        _world = new WorldIdentityAdapter(ctx.World);
        _tokens = new TokenService(new JwtSigner(ctx.Certificates.Signing), ctx.World.TenantId);
        _registries = new RegistryHosting(_world, _tokens, new RegistryTokens(_tokens.Signer), ctx.Certificates,
            ctx.Options.StateDir, ctx.Options.StartRegistries, ctx);
        ctx.CallerResolver = this;
        ctx.RegistryFrontEnd = this;
        ctx.RequestClassifiers.Add(Classify);
    }

    static RequestKind? Classify(HttpContext http)
    {
        var p = http.Request.Path.Value ?? "";
        if (p.StartsWith(GraphEndpoints.PathPrefix + "/", StringComparison.OrdinalIgnoreCase)) return RequestKind.Graph;
        // Entra's /{tenant}/oauth2/… (a registry's own /oauth2/… is left to the default: Registry).
        return (p.Contains("/oauth2/", StringComparison.OrdinalIgnoreCase) && !p.StartsWith("/oauth2/", StringComparison.OrdinalIgnoreCase))
               || p.Contains("/.well-known/", StringComparison.OrdinalIgnoreCase)
               || p.StartsWith("/common/discovery", StringComparison.OrdinalIgnoreCase) || p.Contains("/discovery/", StringComparison.OrdinalIgnoreCase)
               || p.StartsWith(GraphEndpoints.PathPrefix + "/", StringComparison.OrdinalIgnoreCase)
            ? RequestKind.Token
            : null;
    }

    public void Map(WebApplication app, SandboxContext ctx)
    {
        LoginEndpoints.Map(app, Tokens, _world!, () => ctx.ArmBaseUri);
        GraphEndpoints.Map(app, Tokens, _world!, () => ctx.ArmBaseUri, ctx.Behaviours);
    }

    public async Task StartedAsync(SandboxContext ctx, CancellationToken ct)
    {
        var tokens = Tokens;
        // Clients that use the sandbox's ARM URL as the token resource get tokens ARM accepts.
        tokens.AddArmAudience(ctx.ArmBaseUri.ToString());
        // Registries (docker-registry start + image push) overlap with the identity listeners.
        var registriesStarted = Registries.StartAsync(ct);
        _identityServer = await LoopbackServer.StartAsync(null,
            app => ManagedIdentityEndpoints.MapIdentityServer(app, k => _machines.GetValueOrDefault(k), _world!, tokens), ct,
            sandbox: ctx).ConfigureAwait(false);
        ctx.Endpoints.AdfsAuthority = ctx.ArmBaseUri + "adfs";
        ctx.Endpoints.Authority = ctx.ArmBaseUri.ToString();
        ctx.Endpoints.ActiveDirectoryResourceId = "https://management.core.windows.net/";
        ctx.Endpoints.MicrosoftGraphEndpoint = ctx.ArmBaseUri.ToString().TrimEnd('/') + GraphEndpoints.PathPrefix + "/";
        ctx.Endpoints.CaBundle = ctx.Certificates.CaBundlePath;
        await SyncMachinesAsync(ct).ConfigureAwait(false);
        await registriesStarted.ConfigureAwait(false);
        _world!.Changed += OnWorldChanged;
        // From now on this area rewrites endpoints.json itself; the host writes the first one when every area is up.
        _started = true;
    }

    // ---- ICallerResolver (ARM, Resource Graph) ----

    public CallerResolution Resolve(HttpContext http)
    {
        var check = Tokens.ValidateArmRequest(http.Request.Headers.Authorization.ToString());
        return check.Caller is { } c
            ? new CallerResolution(new CallerIdentity(c.ObjectId, c.AppId, c.TenantId))
            : CallerResolution.Fail(check.Code!, check.Message!);
    }

    // ---- IRegistryFrontEnd ----

    public string AssignLoginServer(string registryId, string registryName) => Registries.AssignLoginServer(registryId, registryName);

    public void RegistryRemoved(string registryId) => Registries.RegistryRemoved(registryId);

    // ---- machines (runAs) ----

    /// <summary>The endpoints that act as <paramref name="resourceId"/>, creating them if needed (tests call this
    /// right after creating a resource instead of waiting for endpoints.json to be rewritten).</summary>
    public async Task<RunAsEndpoints> EnsureMachineAsync(string resourceId, CancellationToken ct = default)
    {
        await SyncMachinesAsync(ct).ConfigureAwait(false);
        var key = ManagedIdentityEndpoints.MachineKey(resourceId);
        if (!_machines.TryGetValue(key, out var m))
        {
            var type = _world!.IdentityCapableResources().FirstOrDefault(r => string.Equals(r.ResourceId, resourceId, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidOperationException($"'{resourceId}' does not exist or cannot carry a managed identity.");
            m = await AddMachineAsync(type.ResourceId, type.Type, ct).ConfigureAwait(false);
        }
        return EndpointsOf(m);
    }

    void OnWorldChanged()
    {
        // Coalesce bursts of changes into one background pass.
        if (Interlocked.Exchange(ref _syncQueued, 1) == 1) return;
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(20, _stopping.Token).ConfigureAwait(false);
                Interlocked.Exchange(ref _syncQueued, 0);
                await SyncMachinesAsync(_stopping.Token).ConfigureAwait(false);
                await Registries.SeedPendingAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or HttpRequestException)
            {
                Interlocked.Exchange(ref _syncQueued, 0);
            }
        });
    }

    async Task SyncMachinesAsync(CancellationToken ct)
    {
        await _sync.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var ctx = _ctx!;
            var changed = false;
            Task? operatorStarted = null;
            if (!_machines.ContainsKey(OperatorMachineKey))
            {
                var op = new Machine { Key = OperatorMachineKey, ResourceId = null, Secret = NewSecret(), UsesImds = true };
                operatorStarted = Task.Run(async () =>
                {
                    op.Imds = await StartImdsAsync(op, ct).ConfigureAwait(false);
                    _machines[op.Key] = op;
                }, ct);
                changed = true;
            }
            var live = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var added = new List<Task<Machine>>();
            foreach (var r in _world!.IdentityCapableResources())
            {
                live.Add(r.ResourceId);
                if (_machines.ContainsKey(ManagedIdentityEndpoints.MachineKey(r.ResourceId))) continue;
                added.Add(AddMachineLockedAsync(r.ResourceId, r.Type, ct));   // IMDS listeners start in parallel
            }
            if (added.Count > 0)
            {
                await Task.WhenAll(added).ConfigureAwait(false);
                changed = true;
            }
            if (operatorStarted is not null) await operatorStarted.ConfigureAwait(false);
            foreach (var m in _machines.Values.Where(m => m.ResourceId is not null && !live.Contains(m.ResourceId)).ToList())
            {
                _machines.TryRemove(m.Key, out _);
                if (m.Imds is not null)
                {
                    await m.Imds.DisposeAsync().ConfigureAwait(false);
                    Interlocked.Decrement(ref _imdsCount);
                }
                changed = true;
            }

            var e = ctx.Endpoints;
            var opm = _machines[OperatorMachineKey];
            var ope = EndpointsOf(opm);
            e.Operator.MsiEndpoint = ope.MsiEndpoint;
            e.Operator.MsiSecret = ope.MsiSecret;
            e.Operator.IdentityEndpoint = ope.IdentityEndpoint;
            e.Operator.IdentityHeader = ope.IdentityHeader;
            e.Operator.ImdsEndpoint = ope.ImdsEndpoint;
            lock (e.RunAs)
            {
                e.RunAs.Clear();
                foreach (var m in _machines.Values.Where(m => m.ResourceId is not null).OrderBy(m => m.ResourceId, StringComparer.OrdinalIgnoreCase))
                    e.RunAs[m.ResourceId!] = EndpointsOf(m);
            }
            lock (e.RunAs)
            {
                // Rebuilt, so deleted registries leave the file too.
                e.Registries.Clear();
                foreach (var r in _world.Registries())
                    e.Registries[r.Name] = new RegistryEndpoint { Id = r.Id, LoginServer = r.LoginServer };
            }
            if (changed && _started) await EndpointsFile.WriteAsync(ctx, ct).ConfigureAwait(false);
        }
        finally
        {
            _sync.Release();
        }
    }

    async Task<Machine> AddMachineAsync(string resourceId, string type, CancellationToken ct)
    {
        await _sync.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var key = ManagedIdentityEndpoints.MachineKey(resourceId);
            return _machines.TryGetValue(key, out var m) ? m : await AddMachineLockedAsync(resourceId, type, ct).ConfigureAwait(false);
        }
        finally { _sync.Release(); }
    }

    /// <summary>Each IMDS machine costs a listener; beyond this many, machines get only the identity/MSI endpoints.</summary>
    public const int MaxImdsListeners = 256;

    async Task<Machine> AddMachineLockedAsync(string resourceId, string type, CancellationToken ct)
    {
        var m = new Machine
        {
            Key = ManagedIdentityEndpoints.MachineKey(resourceId), ResourceId = resourceId, Secret = NewSecret(),
            UsesImds = ManagedIdentityEndpoints.UsesImdsInAzure(type)
                       && Interlocked.Increment(ref _imdsCount) <= MaxImdsListeners,
        };
        if (m.UsesImds) m.Imds = await StartImdsAsync(m, ct).ConfigureAwait(false);
        _machines[m.Key] = m;
        return m;
    }

    Task<LoopbackServer> StartImdsAsync(Machine m, CancellationToken ct) =>
        LoopbackServer.StartAsync(null, app => ManagedIdentityEndpoints.MapImds(app, m, _world!, Tokens), ct, sandbox: _ctx);

    RunAsEndpoints EndpointsOf(Machine m)
    {
        var b = _identityServer!.BaseUri.ToString().TrimEnd('/');
        return new RunAsEndpoints
        {
            MsiEndpoint = $"{b}/{m.Key}/msi/token",
            MsiSecret = m.Secret,
            IdentityEndpoint = $"{b}/{m.Key}/identity/token",
            IdentityHeader = m.Secret,
            ImdsEndpoint = m.Imds?.BaseUri.ToString().TrimEnd('/'),
        };
    }

    static string NewSecret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    public async ValueTask StopAsync(SandboxContext ctx)
    {
        _stopping.Cancel();
        if (_world is not null) _world.Changed -= OnWorldChanged;
        await _sync.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_registries is not null) await _registries.DisposeAsync().ConfigureAwait(false);
            foreach (var m in _machines.Values)
                if (m.Imds is not null) await m.Imds.DisposeAsync().ConfigureAwait(false);
            _machines.Clear();
            if (_identityServer is not null) await _identityServer.DisposeAsync().ConfigureAwait(false);
        }
        finally { _sync.Release(); }
    }
}
