using System.Net;
using System.Security;
using System.Text.Json;
using System.Text.RegularExpressions;
using AcrIdentity.Sandbox;

namespace AcrIdentity.Tests.Harness;

/// <summary>
/// One in-process sandbox for every PowerShell-level test that needs Azure. Its CA comes from
/// ACRIDENTITY_SANDBOX_CA_DIR and is trusted through SSL_CERT_FILE, both set by tests/run before this
/// process started (OpenSSL reads SSL_CERT_FILE once).
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    private readonly string _stateDir = Path.Combine(Path.GetTempPath(), "acridentity-tests-" + Guid.NewGuid().ToString("N"));
    private SandboxHost? _host;

    public SandboxHost Host => _host ?? throw new InvalidOperationException("sandbox not started");

    public SandboxEndpoints Endpoints => Host.Endpoints;

    public string EndpointsFile => Host.EndpointsFile;

    /// <summary>From the sandbox's /metadata/endpoints: what an Az environment pointing at it would hold.</summary>
    public string LoginEndpoint { get; private set; } = string.Empty;

    public string ArmAudience { get; private set; } = string.Empty;

    public string CloudName { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        string? caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        Assert.False(string.IsNullOrEmpty(caDir), "ACRIDENTITY_SANDBOX_CA_DIR is not set: run the tests through tests/run");
        Assert.False(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SSL_CERT_FILE")), "SSL_CERT_FILE is not set: run the tests through tests/run");

        _host = await SandboxHost.StartAsync(new SandboxOptions { StateDir = _stateDir, CaDir = caDir, StartRegistries = false });

        using var http = new HttpClient();
        string json = await http.GetStringAsync(Endpoints.ArmEndpoint.TrimEnd('/') + "/metadata/endpoints?api-version=2022-09-01");
        using JsonDocument doc = JsonDocument.Parse(json);
        // Like Azure, the answer may be a list of clouds: take the one whose ARM endpoint is the sandbox's.
        JsonElement cloud = doc.RootElement;
        if (cloud.ValueKind == JsonValueKind.Array)
        {
            var arm = new Uri(Endpoints.ArmEndpoint);
            cloud = cloud.EnumerateArray().FirstOrDefault(c =>
                c.TryGetProperty("resourceManager", out JsonElement rm) && Uri.TryCreate(rm.GetString(), UriKind.Absolute, out Uri? u) && u.Authority == arm.Authority);
            Assert.True(cloud.ValueKind == JsonValueKind.Object, "the sandbox's /metadata/endpoints does not list its own cloud");
        }

        JsonElement auth = cloud.GetProperty("authentication");
        LoginEndpoint = auth.GetProperty("loginEndpoint").GetString()!;
        ArmAudience = auth.GetProperty("audiences")[0].GetString()!;
        CloudName = cloud.TryGetProperty("name", out JsonElement n) ? n.GetString() ?? string.Empty : string.Empty;
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        try { Directory.Delete(_stateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public SecureString OperatorSecret() => new NetworkCredential(string.Empty, Endpoints.Operator.ClientSecret).SecurePassword;

    private static readonly Regex Jwt = new(@"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.", RegexOptions.Compiled);

    /// <summary>No token and no secret in anything a user could see or log.</summary>
    public void AssertNoSecrets(string text)
    {
        Match jwt = Jwt.Match(text);
        Assert.False(jwt.Success, "a token appears in the output/streams (near: " + (jwt.Success ? jwt.Value[..Math.Min(12, jwt.Value.Length)] : "") + "…)");
        foreach (string? secret in new[] { Endpoints.Operator.ClientSecret, Endpoints.Operator.IdentityHeader, Endpoints.Operator.MsiSecret })
        {
            if (!string.IsNullOrEmpty(secret))
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), "a secret of the operator identity appears in the output/streams");
            }
        }
    }

    public void AssertNoSecrets(ScriptResult result) => AssertNoSecrets(result.AllText());
}

[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>
{
    public const string Name = "sandbox";
}

/// <summary>Sets process environment variables for one test and puts the old values back.</summary>
public sealed class EnvScope : IDisposable
{
    private readonly Dictionary<string, string?> _old = new();

    public EnvScope Set(string name, string? value)
    {
        if (!_old.ContainsKey(name))
        {
            _old[name] = Environment.GetEnvironmentVariable(name);
        }

        Environment.SetEnvironmentVariable(name, value);
        return this;
    }

    /// <summary>Variables that would make the module find credentials by itself.</summary>
    public static readonly string[] Ambient =
    {
        "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_SUBSCRIPTION_ID",
        "ACRIDENTITY_ENVIRONMENT",
    };

    public static EnvScope Clean()
    {
        var scope = new EnvScope();
        foreach (string name in Ambient)
        {
            scope.Set(name, null);
        }

        return scope;
    }

    public void Dispose()
    {
        foreach (var (name, value) in _old)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}
