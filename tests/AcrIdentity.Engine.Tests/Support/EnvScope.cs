namespace AcrIdentity.Engine.Tests.Support;

/// <summary>
/// Sets process environment variables for one test and restores them after. Every variable the resolver reads
/// is cleared first, so the developer's own shell cannot change the outcome.
/// </summary>
public sealed class EnvScope : IDisposable
{
    public static readonly string[] ResolverVariables =
    {
        "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_SUBSCRIPTION_ID",
        "AZURE_FEDERATED_TOKEN_FILE", "ACRIDENTITY_ENVIRONMENT",
    };

    private readonly Dictionary<string, string?> _saved = new();

    public EnvScope(IDictionary<string, string?>? values = null)
    {
        foreach (var name in ResolverVariables.Concat(values?.Keys ?? Enumerable.Empty<string>()).Distinct())
        {
            _saved[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, null);
        }
        if (values != null)
        {
            foreach (var kv in values) Environment.SetEnvironmentVariable(kv.Key, kv.Value);
        }
        AcrIdentity.Engine.Auth.Session.Disconnect();
    }

    public void Dispose()
    {
        foreach (var kv in _saved) Environment.SetEnvironmentVariable(kv.Key, kv.Value);
        AcrIdentity.Engine.Auth.Session.Disconnect();
    }
}
