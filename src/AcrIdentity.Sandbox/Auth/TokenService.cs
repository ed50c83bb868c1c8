using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Auth;

/// <summary>Who made a request, read from a sandbox-issued Entra token.</summary>
public sealed record TokenCaller(
    string ObjectId,
    string TenantId,
    string AppId,
    string Audience,
    string? ManagedIdentityResourceId,   // xms_mirid: the user-assigned identity, or the resource for a system one
    string? RunsOnResourceId,            // the resource whose endpoint issued a managed-identity token
    DateTimeOffset ExpiresOn);

/// <summary>Outcome of checking an ARM request's Authorization header; Code/Message follow ARM's 401 errors.</summary>
public sealed record TokenCheck(TokenCaller? Caller, string? Code, string? Message)
{
    public bool Ok => Caller is not null;
}

/// <summary>The validation seam ARM and Resource Graph use to learn the caller (documented in docs/dev/contracts.md).</summary>
public interface ICallerTokenValidator
{
    /// <summary>Checks "Bearer &lt;token&gt;" for an ARM audience. Failures carry ARM's error code and message.</summary>
    TokenCheck ValidateArmRequest(string? authorizationHeader);
}

/// <summary>Issues and validates the sandbox's Entra-style access tokens (v1 shape, as ARM sees them).</summary>
public sealed class TokenService : ICallerTokenValidator
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    /// <summary>Audiences ARM accepts (as the real one does) plus the registry data-plane audience.</summary>
    public static readonly string[] ArmAudiences =
    [
        "https://management.core.windows.net/", "https://management.core.windows.net",
        "https://management.azure.com/", "https://management.azure.com",
    ];
    public const string ContainerRegistryAudience = "https://containerregistry.azure.net";

    readonly JwtSigner _signer;
    readonly string _tenantId;
    readonly List<string> _extraArmAudiences = new();

    public TokenService(JwtSigner signer, string tenantId)
    {
        _signer = signer;
        _tenantId = tenantId;
    }

    public JwtSigner Signer => _signer;
    public string Issuer => $"https://sts.windows.net/{_tenantId}/";

    /// <summary>Also accept the sandbox's own ARM URL as an audience (clients that use the endpoint as resource).</summary>
    public void AddArmAudience(string audience)
    {
        lock (_extraArmAudiences) _extraArmAudiences.Add(audience.TrimEnd('/'));
    }

    /// <summary>Normalises a v2 scope ("https://x//.default") or v1 resource to the token audience.</summary>
    public static string AudienceFromScope(string scopeOrResource)
    {
        var s = scopeOrResource.Trim();
        var first = s.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? s;
        if (first.EndsWith("/.default", StringComparison.OrdinalIgnoreCase))
            first = first[..^"/.default".Length];
        return first;
    }

    public (string Token, DateTimeOffset ExpiresOn) Issue(DirectoryPrincipal principal, string audience,
        string? managedIdentityResourceId = null, string? runsOnResourceId = null)
    {
        var now = DateTimeOffset.UtcNow;
        var exp = now + Lifetime;
        var claims = new JsonObject
        {
            ["aud"] = audience,
            ["iss"] = Issuer,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = exp.ToUnixTimeSeconds(),
            ["aio"] = Guid.NewGuid().ToString("N"),
            ["appid"] = principal.ClientId,
            ["appidacr"] = managedIdentityResourceId is null ? "1" : "2",
            ["idp"] = Issuer,
            ["idtyp"] = principal.Kind == PrincipalKind.User ? "user" : "app",
            ["oid"] = principal.ObjectId,
            ["sub"] = principal.ObjectId,
            ["tid"] = _tenantId,
            ["uti"] = Guid.NewGuid().ToString("N")[..22],
            ["ver"] = "1.0",
        };
        if (managedIdentityResourceId is not null) claims["xms_mirid"] = managedIdentityResourceId;
        // Not an Azure claim: lets the registry's network rules see which resource the caller runs on.
        if (runsOnResourceId is not null) claims["xms_sandbox_runs_on"] = runsOnResourceId;
        return (_signer.Sign(claims), exp);
    }

    /// <summary>Validates a sandbox Entra token for any audience; null with a reason when invalid.</summary>
    public TokenCaller? Validate(string token, out string? error)
    {
        var claims = _signer.Verify(token, out error);
        if (claims is null) return null;
        if ((string?)claims["iss"] != Issuer || claims["oid"] is null || claims["aud"] is null)
        {
            // Registry tokens are signed by the same key but are not Entra tokens.
            error = "not an Entra access token";
            return null;
        }
        return new TokenCaller(
            (string)claims["oid"]!, (string?)claims["tid"] ?? _tenantId, (string?)claims["appid"] ?? "",
            (string)claims["aud"]!, (string?)claims["xms_mirid"], (string?)claims["xms_sandbox_runs_on"],
            DateTimeOffset.FromUnixTimeSeconds((long)claims["exp"]!));
    }

    public bool IsArmAudience(string audience)
    {
        if (ArmAudiences.Contains(audience, StringComparer.OrdinalIgnoreCase)) return true;
        lock (_extraArmAudiences)
            return _extraArmAudiences.Contains(audience.TrimEnd('/'), StringComparer.OrdinalIgnoreCase);
    }

    public TokenCheck ValidateArmRequest(string? authorizationHeader)
    {
        if (string.IsNullOrEmpty(authorizationHeader))
            return new(null, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
        const string bearer = "Bearer ";
        if (!authorizationHeader.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
            return new(null, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.");
        var token = authorizationHeader[bearer.Length..].Trim();
        var claims = _signer.Verify(token, out var error);
        if (claims is null)
        {
            if (error == "token has expired")
                return new(null, "ExpiredAuthenticationToken",
                    $"The access token expiry UTC time is earlier than current UTC time '{DateTime.UtcNow:M/d/yyyy h:mm:ss tt}'.");
            return new(null, "InvalidAuthenticationToken", "The access token is invalid.");
        }
        var caller = Validate(token, out _);
        if (caller is null) return new(null, "InvalidAuthenticationToken", "The access token is invalid.");
        if (!IsArmAudience(caller.Audience))
            return new(null, "InvalidAuthenticationTokenAudience",
                $"The access token has been obtained for wrong audience or resource '{caller.Audience}'. It should exactly match with one of the allowed audiences " +
                string.Join(",", ArmAudiences.Select(a => "'" + a + "'")) + ".");
        if (!string.Equals(caller.TenantId, _tenantId, StringComparison.OrdinalIgnoreCase))
            return new(null, "InvalidAuthenticationTokenTenant",
                $"The access token is from the wrong issuer '{Issuer}'. It must match the tenant associated with this subscription.");
        return new(caller, null, null);
    }
}
