using System.Text.Json.Serialization;

namespace AcrIdentity.Sandbox;

/// <summary>
/// The content of endpoints.json (format in issue 3). The host fills what the world knows (ARM, tenant,
/// subscriptions, operator principal, registries); the auth/registry area fills the token endpoints,
/// caBundle, runAs and login servers in its start hook.
/// </summary>
public sealed class SandboxEndpoints
{
    [JsonPropertyName("armEndpoint")] public string ArmEndpoint { get; set; } = "";
    [JsonPropertyName("caBundle")] public string? CaBundle { get; set; }
    [JsonPropertyName("tenantId")] public string TenantId { get; set; } = "";
    [JsonPropertyName("subscriptionIds")] public List<string> SubscriptionIds { get; set; } = [];
    [JsonPropertyName("adfsAuthority")] public string? AdfsAuthority { get; set; }
    [JsonPropertyName("authority")] public string? Authority { get; set; }
    /// <summary>Token audience for ARM (az cloud register --endpoint-active-directory-resource-id).</summary>
    [JsonPropertyName("activeDirectoryResourceId")] public string? ActiveDirectoryResourceId { get; set; }
    /// <summary>Microsoft Graph subset (directoryObjects/getByIds) for az's principal names.</summary>
    [JsonPropertyName("microsoftGraphEndpoint")] public string? MicrosoftGraphEndpoint { get; set; }
    [JsonPropertyName("operator")] public OperatorEndpoints Operator { get; set; } = new();
    [JsonPropertyName("runAs")] public Dictionary<string, RunAsEndpoints> RunAs { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    [JsonPropertyName("registries")] public Dictionary<string, RegistryEndpoint> Registries { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

public class RunAsEndpoints
{
    [JsonPropertyName("msiEndpoint")] public string? MsiEndpoint { get; set; }
    [JsonPropertyName("msiSecret")] public string? MsiSecret { get; set; }
    [JsonPropertyName("identityEndpoint")] public string? IdentityEndpoint { get; set; }
    [JsonPropertyName("identityHeader")] public string? IdentityHeader { get; set; }
    [JsonPropertyName("imdsEndpoint")] public string? ImdsEndpoint { get; set; }
}

public sealed class OperatorEndpoints : RunAsEndpoints
{
    [JsonPropertyName("principalId")] public string PrincipalId { get; set; } = "";
    [JsonPropertyName("clientId")] public string ClientId { get; set; } = "";
    [JsonPropertyName("clientSecret")] public string ClientSecret { get; set; } = "";
}

public sealed class RegistryEndpoint
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("loginServer")] public string LoginServer { get; set; } = "";
}
