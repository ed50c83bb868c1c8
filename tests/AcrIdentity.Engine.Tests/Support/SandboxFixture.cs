using System.Security;
using AcrIdentity.Sandbox;

namespace AcrIdentity.Engine.Tests.Support;

/// <summary>
/// One in-process sandbox for the engine's integration tests. HTTPS trust must come from SSL_CERT_FILE set
/// before this process started (tests/run does it), with ACRIDENTITY_SANDBOX_CA_DIR naming the same CA.
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public SandboxHost Host { get; private set; } = null!;
    public string StateDir { get; } = Directory.CreateTempSubdirectory("acrid-engine-sbx").FullName;

    public async Task InitializeAsync()
    {
        string? caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        if (string.IsNullOrEmpty(caDir) || string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SSL_CERT_FILE")))
        {
            throw new InvalidOperationException(
                "Run these tests through tests/run, or with SSL_CERT_FILE=<ca-dir>/ca-bundle.pem and ACRIDENTITY_SANDBOX_CA_DIR=<ca-dir> " +
                "(make the CA with: dotnet run --project src/AcrIdentity.Sandbox -- init-ca --ca-dir <ca-dir>).");
        }
        Host = await SandboxHost.StartAsync(new SandboxOptions { StateDir = StateDir, CaDir = caDir, StartRegistries = false });
    }

    public async Task DisposeAsync()
    {
        if (Host != null) await Host.DisposeAsync();
        try { Directory.Delete(StateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public string SubscriptionId => Host.Endpoints.SubscriptionIds[0];

    public static SecureString Secure(string text)
    {
        var s = new SecureString();
        foreach (char c in text) s.AppendChar(c);
        s.MakeReadOnly();
        return s;
    }
}

[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>
{
    public const string Name = "sandbox";
}
