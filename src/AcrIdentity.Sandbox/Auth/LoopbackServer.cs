using System.Net;
using System.Security.Cryptography.X509Certificates;
using AcrIdentity.Sandbox.Behaviour;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AcrIdentity.Sandbox.Auth;

/// <summary>
/// A small Kestrel app on 127.0.0.1 and a free port. The token side runs several (managed identity,
/// one IMDS per machine, one front per registry) because IMDS clients drop the URL path and each registry's
/// login server must be its own host:port; new ones start at run time as resources appear.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    readonly WebApplication _app;

    LoopbackServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    /// <summary>e.g. https://127.0.0.1:40123/</summary>
    public Uri BaseUri { get; }
    public int Port => BaseUri.Port;
    public string HostPort => $"127.0.0.1:{BaseUri.Port}";

    public static async Task<LoopbackServer> StartAsync(X509Certificate2? tls, Action<WebApplication> map,
        CancellationToken ct, int port = 0, SandboxContext? sandbox = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "AcrIdentity.Sandbox",
            // No appsettings.json watcher: each one holds an inotify instance (128 per user by default), and a
            // sandbox runs a server per registry and IMDS machine, many sandboxes per test run.
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null;   // image layers go through the registry fronts
            k.Listen(IPAddress.Loopback, port, l =>
            {
                if (tls is not null) l.UseHttps(tls);
            });
        });
        var app = builder.Build();
        // The sandbox's behaviours (latency, injected faults) and its request log apply here as on the main
        // listener. Paths and queries on these servers carry no tokens (those travel in bodies and headers).
        if (sandbox is not null) app.UseMiddleware<BehaviourMiddleware>(sandbox);
        map(app);
        await app.StartAsync(ct).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var bound = new Uri(address);
        var scheme = tls is null ? "http" : "https";
        return new LoopbackServer(app, new Uri($"{scheme}://127.0.0.1:{bound.Port}/"));
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await _app.StopAsync(cts.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
