using System.Text.Json.Nodes;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox;

namespace AcrIdentity.Engine.Tests.Audit;

/// <summary>A sandbox of its own for audit tests: the audit reads whole subscriptions, so no other test's resources may be in it.</summary>
public sealed class AuditSandbox : IAsyncDisposable
{
    private AuditSandbox(SandboxHost host, string stateDir, ModuleContext context)
    {
        Host = host;
        StateDir = stateDir;
        Context = context;
        Arm = context.CreateGateway(new RecordingHost());
    }

    public SandboxHost Host { get; }
    public string StateDir { get; }
    public ModuleContext Context { get; }
    public ArmGateway Arm { get; }
    public string SubscriptionId => Context.SubscriptionId;

    public static async Task<AuditSandbox> StartAsync(string scenarioJson)
    {
        string? caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        if (string.IsNullOrEmpty(caDir) || string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SSL_CERT_FILE")))
        {
            throw new InvalidOperationException("Run through tests/run, or set SSL_CERT_FILE and ACRIDENTITY_SANDBOX_CA_DIR (see SandboxFixture).");
        }
        string dir = Directory.CreateTempSubdirectory("acrid-audit-sbx").FullName;
        var host = await SandboxHost.StartAsync(new SandboxOptions { StateDir = dir, CaDir = caDir, StartRegistries = false, ScenarioJson = scenarioJson });
        var context = await Session.ConnectAsync(new ConnectRequest
        {
            Environment = host.EndpointsFile,
            ApplicationId = host.Endpoints.Operator.ClientId,
            ClientSecret = SandboxFixture.Secure(host.Endpoints.Operator.ClientSecret),
            SubscriptionId = host.Endpoints.SubscriptionIds[0],
            Options = Fast.Options(),
        }, new RecordingHost(), CancellationToken.None);
        Session.Disconnect();
        return new AuditSandbox(host, dir, context);
    }

    /// <summary>A context signed in as another service principal of the scenario (one with a client secret).</summary>
    public async Task<ModuleContext> ConnectAsAsync(string clientId, string secret)
    {
        var context = await Session.ConnectAsync(new ConnectRequest
        {
            Environment = Host.EndpointsFile,
            ApplicationId = clientId,
            ClientSecret = SandboxFixture.Secure(secret),
            SubscriptionId = SubscriptionId,
            Options = Fast.Options(),
        }, new RecordingHost(), CancellationToken.None);
        Session.Disconnect();
        return context;
    }

    public string Rg(string group) => $"/subscriptions/{SubscriptionId}/resourceGroups/{group}";

    public string Id(string group, string type, string name) => $"{Rg(group)}/providers/{type}/{name}";

    public JsonObject Resource(string id) => Host.World.GetResource(id) ?? throw new InvalidOperationException("no " + id);

    public string SystemPrincipal(string id) => (string)Resource(id)["identity"]!["principalId"]!;

    public string UamiPrincipal(string id) => (string)Resource(id)["properties"]!["principalId"]!;

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        try { Directory.Delete(StateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
