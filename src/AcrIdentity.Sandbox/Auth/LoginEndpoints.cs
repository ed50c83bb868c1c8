using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AcrIdentity.Sandbox.Auth;

/// <summary>
/// Entra ID on the login server: v2 and v1 client-credentials token endpoints, the /adfs variant the az
/// CLI 2.45 needs offline (MSAL Python skips instance discovery only for ADFS authorities), OpenID
/// metadata and keys. Token bodies are never logged.
/// </summary>
public static class LoginEndpoints
{
    public static void Map(WebApplication app, TokenService tokens, IIdentityWorld world, Func<Uri> loginBase)
    {
        string Base() => loginBase().ToString().TrimEnd('/');

        app.MapGet("/adfs/.well-known/openid-configuration", () =>
            Results.Json(OpenIdConfig(Base() + "/adfs", Base() + "/adfs", world.TenantId, adfs: true)));
        app.MapGet("/{tenant}/.well-known/openid-configuration", (string tenant) =>
            KnownTenant(world, tenant)
                ? Results.Json(OpenIdConfig(Base() + "/" + world.TenantId, Base() + "/" + tenant, world.TenantId, adfs: false))
                : TenantNotFound(tenant));
        app.MapGet("/{tenant}/v2.0/.well-known/openid-configuration", (string tenant) =>
            KnownTenant(world, tenant)
                ? Results.Json(OpenIdConfig(Base() + "/" + world.TenantId + "/v2.0", Base() + "/" + tenant, world.TenantId, adfs: false, v2: true))
                : TenantNotFound(tenant));
        app.MapGet("/adfs/discovery/keys", () => Results.Json(tokens.Signer.Jwks()));
        app.MapGet("/{tenant}/discovery/keys", (string tenant) => Results.Json(tokens.Signer.Jwks()));
        app.MapGet("/{tenant}/discovery/v2.0/keys", (string tenant) => Results.Json(tokens.Signer.Jwks()));
        app.MapGet("/common/discovery/instance", (HttpRequest req) => Results.Json(new JsonObject
        {
            ["tenant_discovery_endpoint"] = Base() + "/" + world.TenantId + "/v2.0/.well-known/openid-configuration",
            ["api-version"] = "1.1",
            ["metadata"] = new JsonArray(new JsonObject
            {
                ["preferred_network"] = req.Host.Value, ["preferred_cache"] = req.Host.Value,
                ["aliases"] = new JsonArray(JsonValue.Create(req.Host.Value)),
            }),
        }));

        app.MapPost("/adfs/oauth2/token", (HttpRequest req) => TokenAsync(req, world.TenantId, tokens, world));
        app.MapPost("/{tenant}/oauth2/v2.0/token", (HttpRequest req, string tenant) => TokenAsync(req, tenant, tokens, world));
        app.MapPost("/{tenant}/oauth2/token", (HttpRequest req, string tenant) => TokenAsync(req, tenant, tokens, world));
    }

    static bool KnownTenant(IIdentityWorld world, string tenant) =>
        string.Equals(tenant, world.TenantId, StringComparison.OrdinalIgnoreCase)
        || tenant.Equals("organizations", StringComparison.OrdinalIgnoreCase)
        || tenant.Equals("common", StringComparison.OrdinalIgnoreCase)
        || tenant.Equals("adfs", StringComparison.OrdinalIgnoreCase)
        || tenant.EndsWith(".onmicrosoft.com", StringComparison.OrdinalIgnoreCase);

    static JsonObject OpenIdConfig(string issuer, string endpointsBase, string tenantId, bool adfs, bool v2 = false)
    {
        var oauth = adfs ? endpointsBase + "/oauth2" : endpointsBase + (v2 ? "/oauth2/v2.0" : "/oauth2");
        return new JsonObject
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = oauth + "/authorize",
            ["token_endpoint"] = oauth + "/token",
            ["device_authorization_endpoint"] = oauth + "/devicecode",
            ["end_session_endpoint"] = oauth + "/logout",
            ["jwks_uri"] = endpointsBase + (v2 ? "/discovery/v2.0/keys" : "/discovery/keys"),
            ["response_types_supported"] = new JsonArray("code", "id_token", "code id_token", "token id_token", "token"),
            ["subject_types_supported"] = new JsonArray("pairwise"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "client_secret_basic"),
            ["scopes_supported"] = new JsonArray("openid", "profile", "email", "offline_access"),
            ["tenant_region_scope"] = "WW",
            ["cloud_instance_name"] = "sandbox",
            ["tenant_id"] = tenantId,
        };
    }

    static async Task<IResult> TokenAsync(HttpRequest req, string tenant, TokenService tokens, IIdentityWorld world)
    {
        if (!KnownTenant(world, tenant)) return TenantNotFound(tenant);
        if (!req.HasFormContentType)
            return EntraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.");
        var form = await req.ReadFormAsync().ConfigureAwait(false);
        string grant = form["grant_type"].ToString();
        if (grant != "client_credentials")
            return EntraError(400, "unsupported_grant_type", 70003, $"The app requested an unsupported grant type '{grant}'.");

        // client_secret_post, or client_secret_basic (Authorization: Basic id:secret).
        string clientId = form["client_id"].ToString(), secret = form["client_secret"].ToString();
        if (BasicAuth.TryParse(req.Headers.Authorization.ToString(), out var u, out var p))
        {
            if (clientId.Length == 0) clientId = Uri.UnescapeDataString(u);
            if (secret.Length == 0) secret = Uri.UnescapeDataString(p);
        }
        if (clientId.Length == 0)
            return EntraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.");
        var scope = form["scope"].ToString();
        var resource = form["resource"].ToString();
        if (scope.Length == 0 && resource.Length == 0)
            return EntraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.");

        var principal = world.FindPrincipal(clientId);
        if (principal is null || principal.Kind != PrincipalKind.ServicePrincipal)
            return EntraError(400, "unauthorized_client", 700016,
                $"Application with identifier '{clientId}' was not found in the directory '{world.TenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.");
        if (secret.Length == 0)
            return EntraError(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
        if (!world.CheckClientSecret(principal.ClientId, secret))
            return EntraError(401, "invalid_client", 7000215,
                $"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{principal.ClientId}'.");

        req.HttpContext.Items[Behaviour.RequestLog.CallerKey] = principal.ObjectId;
        var audience = TokenService.AudienceFromScope(scope.Length > 0 ? scope : resource);
        var (token, exp) = tokens.Issue(principal, audience);
        var expiresIn = (long)(exp - DateTimeOffset.UtcNow).TotalSeconds;
        var reply = new JsonObject
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = expiresIn,
            ["ext_expires_in"] = expiresIn,
            ["access_token"] = token,
        };
        if (scope.Length == 0)
        {
            // v1 endpoint shape
            reply["expires_on"] = exp.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            reply["not_before"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            reply["resource"] = resource;
        }
        return Results.Json(reply);
    }

    static IResult TenantNotFound(string tenant) => EntraError(400, "invalid_request", 90002,
        $"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.");

    public static IResult EntraError(int status, string error, int code, string description)
    {
        var trace = Guid.NewGuid().ToString();
        return Results.Json(new JsonObject
        {
            ["error"] = error,
            ["error_description"] = $"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {Guid.NewGuid()} Timestamp: {DateTime.UtcNow:yyyy-MM-dd HH:mm:ssZ}",
            ["error_codes"] = new JsonArray(code),
            ["timestamp"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ssZ"),
            ["trace_id"] = trace,
            ["correlation_id"] = Guid.NewGuid().ToString(),
            ["error_uri"] = "https://login.microsoftonline.com/error?code=" + code,
        }, statusCode: status);
    }
}

static class BasicAuth
{
    public static bool TryParse(string header, out string user, out string password)
    {
        user = password = "";
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            var raw = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var i = raw.IndexOf(':');
            if (i < 0) return false;
            user = raw[..i];
            password = raw[(i + 1)..];
            return true;
        }
        catch (FormatException) { return false; }
    }
}
