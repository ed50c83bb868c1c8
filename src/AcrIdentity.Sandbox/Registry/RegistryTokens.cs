using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Auth;

namespace AcrIdentity.Sandbox.Registry;

/// <summary>The caller an ACR refresh token stands for.</summary>
public sealed record RegistryCaller(string ObjectId, string TenantId, string? RunsOnResourceId, string? MiResourceId);

/// <summary>
/// ACR refresh tokens (from /oauth2/exchange) and scoped access tokens (from /oauth2/token), in the claim
/// shape of Azure/acr docs/AAD-OAuth.md, signed with the sandbox key so the real registry trusts them (x5c).
/// </summary>
public sealed class RegistryTokens
{
    public const string Issuer = "Azure Container Registry";
    public static readonly TimeSpan RefreshLifetime = TimeSpan.FromHours(3);
    public static readonly TimeSpan AccessLifetime = TimeSpan.FromSeconds(4500);
    readonly JwtSigner _signer;

    public RegistryTokens(JwtSigner signer) => _signer = signer;

    public string IssueRefresh(TokenCaller caller, string loginServer)
    {
        var now = DateTimeOffset.UtcNow;
        var claims = Base(now, now + RefreshLifetime, caller.ObjectId, loginServer);
        claims["grant_type"] = "refresh_token";
        claims["tenant"] = caller.TenantId;
        // Permissions are decided per /oauth2/token call from the roles held then, so none are frozen here.
        claims["permissions"] = new JsonObject { ["actions"] = new JsonArray("*"), ["notActions"] = new JsonArray() };
        claims["roles"] = new JsonArray();
        if (caller.RunsOnResourceId is not null) claims["xms_sandbox_runs_on"] = caller.RunsOnResourceId;
        if (caller.ManagedIdentityResourceId is not null) claims["xms_mirid"] = caller.ManagedIdentityResourceId;
        return _signer.Sign(claims);
    }

    public RegistryCaller? ValidateRefresh(string token, string loginServer, out string? error)
    {
        var claims = _signer.Verify(token, out error);
        if (claims is null) return null;
        if ((string?)claims["iss"] != Issuer || (string?)claims["grant_type"] != "refresh_token")
        { error = "not an ACR refresh token"; return null; }
        if (!string.Equals((string?)claims["aud"], loginServer, StringComparison.OrdinalIgnoreCase))
        { error = "the refresh token was issued for another registry"; return null; }
        return new RegistryCaller((string)claims["sub"]!, (string?)claims["tenant"] ?? "",
            (string?)claims["xms_sandbox_runs_on"], (string?)claims["xms_mirid"]);
    }

    public (string Token, long ExpiresIn) IssueAccess(RegistryCaller caller, string loginServer, IEnumerable<ScopeRequest> granted)
    {
        var now = DateTimeOffset.UtcNow;
        var claims = Base(now, now + AccessLifetime, caller.ObjectId, loginServer);
        claims["grant_type"] = "refresh_token";
        claims["tenant"] = caller.TenantId;
        var access = new JsonArray();
        foreach (var g in granted)
            access.Add(new JsonObject { ["type"] = g.Type, ["name"] = g.Name, ["actions"] = new JsonArray(g.Actions.Select(a => (JsonNode)a!).ToArray()) });
        claims["access"] = access;
        return (_signer.Sign(claims), (long)AccessLifetime.TotalSeconds);
    }

    /// <summary>A token the sandbox itself uses to seed images straight into the registry process.</summary>
    public string IssueInternal(string loginServer, string repository) =>
        IssueAccess(new RegistryCaller("sandbox", "", null, null), loginServer,
            [new ScopeRequest("repository", repository, ["pull", "push"])]).Token;

    static JsonObject Base(DateTimeOffset now, DateTimeOffset exp, string sub, string aud) => new()
    {
        ["jti"] = Guid.NewGuid().ToString(),
        ["sub"] = sub,
        ["nbf"] = now.ToUnixTimeSeconds(),
        ["exp"] = exp.ToUnixTimeSeconds(),
        ["iat"] = now.ToUnixTimeSeconds(),
        ["iss"] = Issuer,
        ["aud"] = aud,     // a plain string: Distribution cannot read an array here
        ["version"] = "1.0",
    };
}
