using System.Net;
using System.Text.Json;
using AcrIdentity.Sandbox.Behaviour;
using AcrIdentity.Sandbox.Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using WorldModel = AcrIdentity.Sandbox.World.World;

namespace AcrIdentity.Sandbox;

/// <summary>
/// One part of the sandbox (ARM, Resource Graph, tokens, registries). The host calls every area in order:
/// ConfigureKestrel and ConfigureServices before the app is built, Map to add endpoints, StartedAsync once
/// the listeners have ports (fill <see cref="SandboxContext.Endpoints"/>, start processes), StopAsync in
/// reverse order. Add an area by adding it to <see cref="SandboxHost.CreateAreas"/>.
/// </summary>
public interface ISandboxArea
{
    void ConfigureKestrel(KestrelServerOptions kestrel, SandboxContext ctx) { }
    void ConfigureServices(WebApplicationBuilder builder, SandboxContext ctx) { }
    void Map(WebApplication app, SandboxContext ctx);
    Task StartedAsync(SandboxContext ctx, CancellationToken ct) => Task.CompletedTask;
    ValueTask StopAsync(SandboxContext ctx) => ValueTask.CompletedTask;
}

/// <summary>Shared by every area of one running sandbox.</summary>
public sealed class SandboxContext
{
    internal SandboxContext(SandboxOptions options, WorldModel world, RequestLog requests, Behaviours behaviours,
        SandboxCertificates certificates)
    {
        Options = options;
        World = world;
        Requests = requests;
        Behaviours = behaviours;
        Certificates = certificates;
    }

    public SandboxOptions Options { get; }
    public WorldModel World { get; }
    public RequestLog Requests { get; }
    public Behaviours Behaviours { get; }
    public SandboxCertificates Certificates { get; }
    public SandboxEndpoints Endpoints { get; } = new();

    /// <summary>https://127.0.0.1:port/ of the main listener (ARM, ARG, Entra); set once listening.</summary>
    public Uri ArmBaseUri { get; internal set; } = new("https://127.0.0.1/");

    /// <summary>Who is calling (from the bearer token). Set by the auth area; until then ARM reads the
    /// token's claims without checking its signature (see World/ICallerResolver.cs).</summary>
    public AcrIdentity.Sandbox.World.ICallerResolver? CallerResolver { get; set; }

    /// <summary>Gives a registry its login server (host:port). Set by the registry area; ARM calls it
    /// whenever a registry is created or loaded.</summary>
    public AcrIdentity.Sandbox.World.IRegistryFrontEnd? RegistryFrontEnd { get; set; }

    /// <summary>authentication.loginEndpoint of /metadata/endpoints; default = the ARM base URL.</summary>
    public string? LoginEndpoint { get; set; }

    /// <summary>suffixes.acrLoginServer of /metadata/endpoints (no leading dot).</summary>
    public string AcrLoginServerSuffix { get; set; } = "azurecr.io";

    /// <summary>Extra request classifiers for the request log (first non-null wins).</summary>
    public List<Func<HttpContext, RequestKind?>> RequestClassifiers { get; } = [];
}

public sealed class SandboxHost : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly IReadOnlyList<ISandboxArea> _areas;
    int _disposed;

    SandboxHost(WebApplication app, IReadOnlyList<ISandboxArea> areas, SandboxContext ctx, string endpointsFile)
    {
        _app = app;
        _areas = areas;
        Context = ctx;
        EndpointsFile = endpointsFile;
    }

    /// <summary>The areas in start order. Each owner adds their own line.</summary>
    static IReadOnlyList<ISandboxArea> CreateAreas() =>
    [
        new Arm.ArmArea(),
        new Arg.ArgArea(),
        new Auth.IdentityArea(),   // Entra, managed identity, registries (Auth/, Registry/)
        new Arm.RunCommandArea(),  // POST {vm}/runCommand: runs RunShellScript locally as the VM's identity
        new Arm.MachinePowerArea(),  // POST {vm|vmss|instance}/deallocate|powerOff|start: power states Run Command needs
        new Behaviour.RequestLogFile(),   // opt-in: $ACRIDENTITY_SANDBOX_REQUEST_LOG (bench/)
    ];

    public SandboxContext Context { get; }
    public SandboxEndpoints Endpoints => Context.Endpoints;
    public string EndpointsFile { get; }
    public WorldModel World => Context.World;
    public RequestLog Requests => Context.Requests;
    public Behaviours Behaviours => Context.Behaviours;
    public Uri ArmEndpoint => Context.ArmBaseUri;

    public static async Task<SandboxHost> StartAsync(SandboxOptions options, CancellationToken ct = default)
    {
        Directory.CreateDirectory(options.StateDir);
        var world = new WorldModel();
        var behaviours = new Behaviours();
        var scenario = new Scenario.ScenarioLoader(world, behaviours);
        if (options.ScenarioFile is not null)
            scenario.Apply(await File.ReadAllTextAsync(options.ScenarioFile, ct), options.ScenarioFile);
        if (options.ScenarioJson is not null)
            scenario.Apply(options.ScenarioJson, "inline scenario");
        world.EnsureDefaults();

        var certs = SandboxCertificates.LoadOrCreate(options.CaDir ?? options.StateDir);
        var ctx = new SandboxContext(options, world, new RequestLog(), behaviours, certs);
        var areas = CreateAreas();

        // No appsettings.json watcher: each holds one of the user's 128 inotify instances, and test runs start
        // many sandboxes (the identity area's servers do the same).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.ArmPort, lo => lo.UseHttps(certs.Tls));
            foreach (var a in areas) a.ConfigureKestrel(k, ctx);
        });
        foreach (var a in areas) a.ConfigureServices(builder, ctx);
        // Scenario registries were loaded before the registry area existed: give them real login servers now
        // (the world rewrites references to the placeholder <name>.azurecr.io in sites, containers, apps).
        if (ctx.RegistryFrontEnd is { } front)
            foreach (var r in world.Registries())
                world.SetLoginServer(r.Id, front.AssignLoginServer(r.Id, r.Name));

        var app = builder.Build();
        app.UseMiddleware<BehaviourMiddleware>(ctx);
        foreach (var a in areas) a.Map(app, ctx);

        await app.StartAsync(ct);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        var armPort = addresses.Addresses.Select(a => new Uri(a.Replace("[::]", "127.0.0.1"))).First().Port;
        if (options.ArmPort != 0) armPort = options.ArmPort;
        ctx.ArmBaseUri = new Uri($"https://127.0.0.1:{armPort}/");

        var endpointsFile = Path.Combine(options.StateDir, "endpoints.json");
        var host = new SandboxHost(app, areas, ctx, endpointsFile);
        try
        {
            host.FillWorldEndpoints();
            foreach (var a in areas) await a.StartedAsync(ctx, ct);
            await host.WriteEndpointsFileAsync(ct);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    void FillWorldEndpoints()
    {
        var e = Context.Endpoints;
        var w = Context.World;
        e.ArmEndpoint = Context.ArmBaseUri.ToString();
        e.CaBundle ??= Context.Certificates.CaBundlePath;
        e.TenantId = w.TenantId;
        e.SubscriptionIds = w.Subscriptions.Select(s => s.SubscriptionId).ToList();
        var op = w.Operator;
        e.Operator.PrincipalId = op.ObjectId;
        e.Operator.ClientId = op.AppId ?? "";
        e.Operator.ClientSecret = op.ClientSecret ?? "";
        foreach (var r in w.Registries())
            e.Registries[r.Name] = new RegistryEndpoint { Id = r.Id, LoginServer = r.LoginServer };
    }

    /// <summary>Rewrites endpoints.json (e.g. after an area added registries or runAs entries).</summary>
    public async Task WriteEndpointsFileAsync(CancellationToken ct = default)
    {
        // RunAs is the lock the identity area's background rewrites take for runAs and registries.
        lock (Context.Endpoints.RunAs)
            foreach (var r in Context.World.Registries())
                Context.Endpoints.Registries[r.Name] = new RegistryEndpoint { Id = r.Id, LoginServer = r.LoginServer };
        await Sandbox.EndpointsFile.WriteAsync(Context, ct);   // atomic, owner-only, serialised with those rewrites
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { await _app.StopAsync(); }
        finally
        {
            for (int i = _areas.Count - 1; i >= 0; i--)
            {
                try { await _areas[i].StopAsync(Context); }
                catch (Exception) { /* keep stopping the rest: a failed stop must not leak processes of later areas */ }
            }
            await _app.DisposeAsync();
            Context.Certificates.Dispose();
        }
    }
}
