using System.Management.Automation;
using AcrIdentity.Sandbox;
using AcrIdentity.Sandbox.Behaviour;
using AcrIdentity.Sandbox.World;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// A sandbox holding the seed docs' world (samples/seed-world.json) and a PowerShell session connected to it as
/// the sandbox's operator, for the Enable-AcrManagedIdentityPull tests.
/// </summary>
public sealed class EnableSandbox : IAsyncDisposable
{
    private EnableSandbox(SandboxHost host, string stateDir, PowerShellSession ps)
    {
        Host = host;
        StateDir = stateDir;
        Ps = ps;
    }

    public SandboxHost Host { get; }
    public string StateDir { get; }
    public PowerShellSession Ps { get; }
    public World World => Host.World;
    public string SubscriptionId => Host.Endpoints.SubscriptionIds[0];
    public string Group => $"/subscriptions/{SubscriptionId}/resourceGroups/myResourceGroup";

    public static async Task<EnableSandbox> StartAsync()
    {
        string? caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        Assert.False(string.IsNullOrEmpty(caDir) || string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SSL_CERT_FILE")),
            "Run through tests/run (SSL_CERT_FILE and ACRIDENTITY_SANDBOX_CA_DIR must name the sandbox CA).");
        string stateDir = Directory.CreateTempSubdirectory("acrid-enable").FullName;
        var host = await SandboxHost.StartAsync(new SandboxOptions
        {
            StateDir = stateDir,
            CaDir = caDir,
            ScenarioFile = Path.Combine(Repo.Root, "samples", "seed-world.json"),
            StartRegistries = false,
        });
        var ps = new PowerShellSession();
        var connected = ps.Run(
            "Connect-AcrIdentity -Environment $args[0] -ApplicationId $args[1] -ClientSecret $args[2] -Subscription $args[3]",
            host.EndpointsFile, host.Endpoints.Operator.ClientId, Secure(host.Endpoints.Operator.ClientSecret), host.Endpoints.SubscriptionIds[0]);
        Assert.True(connected.Errors.Count == 0, "Connect-AcrIdentity failed: " + connected);
        return new EnableSandbox(host, stateDir, ps);
    }

    private static System.Security.SecureString Secure(string text)
    {
        var secure = new System.Security.SecureString();
        foreach (char c in text) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }

    public string Id(string type, string name) => $"{Group}/providers/{type}/{name}";
    public string LinuxApp => Id("Microsoft.Web/sites", "myLinuxApp");
    public string WindowsApp => Id("Microsoft.Web/sites", "myWindowsApp");
    public string Vm => Id("Microsoft.Compute/virtualMachines", "myDockerVM");
    public string Aks => Id("Microsoft.ContainerService/managedClusters", "myAKSCluster");
    public string ContainerApp => Id("Microsoft.App/containerApps", "myContainerApp");
    public string ContainerGroup => Id("Microsoft.ContainerInstance/containerGroups", "myContainerGroup");
    public string Registry => Id("Microsoft.ContainerRegistry/registries", "myContainerRegistry");
    public string Uami => $"/subscriptions/{SubscriptionId}/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/myACRId";

    public System.Text.Json.Nodes.JsonObject Get(string id) => World.GetResource(id) ?? throw new InvalidOperationException("missing " + id);

    public string LoginServer => (string)Get(Registry)["properties"]!["loginServer"]!;

    /// <summary>Role assignments at exactly the registry's scope.</summary>
    public IReadOnlyList<RoleAssignment> RegistryAssignments() =>
        World.RoleAssignments().Where(a => string.Equals(a.Scope, Registry, StringComparison.OrdinalIgnoreCase)).ToList();

    public int Mark => Host.Requests.Count;

    public IReadOnlyList<RequestLogEntry> WritesSince(int mark) =>
        Host.Requests.Entries.Skip(mark).Where(e => e.Kind == RequestKind.Arm && e.IsWrite).ToList();

    public ScriptResult Run(string script, params object?[] args) => Ps.Run(script, args);

    public async ValueTask DisposeAsync()
    {
        Ps.Run("Disconnect-AcrIdentity");
        Ps.Dispose();
        await Host.DisposeAsync();
        try { Directory.Delete(StateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public static class PsResult
{
    public static T Prop<T>(this PSObject o, string name) => (T)LanguagePrimitives.ConvertTo(o.Properties[name]?.Value, typeof(T));
}
