using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AcrIdentity.Sandbox.Registry;

/// <summary>
/// A registry's login server: ACR's auth endpoints (/v2/ challenge, /oauth2/exchange, /oauth2/token) and a
/// reverse proxy to the real Docker Distribution process for the data plane. Registry properties and role
/// assignments are read from the world on every request.
/// </summary>
public sealed class RegistryFront
{
    public const string AnonymousUser = "00000000-0000-0000-0000-000000000000";
    readonly string _registryId;
    readonly string _loginServer;
    readonly IIdentityWorld _world;
    readonly TokenService _aad;
    readonly RegistryTokens _tokens;
    readonly RegistryAccess _access;
    readonly Func<Task<HttpClient?>> _backend;

    public RegistryFront(string registryId, string loginServer, IIdentityWorld world, TokenService aad, RegistryTokens tokens,
        Func<Task<HttpClient?>> backend)
    {
        _registryId = registryId;
        _loginServer = loginServer;
        _world = world;
        _aad = aad;
        _tokens = tokens;
        _access = new RegistryAccess(world);
        _backend = backend;
    }

    string Realm => $"https://{_loginServer}/oauth2/token";

    RegistryView? Current() =>
        _world.Registries().FirstOrDefault(r => string.Equals(r.Id, _registryId, StringComparison.OrdinalIgnoreCase));

    public void Map(WebApplication app)
    {
        app.MapPost("/oauth2/exchange", ExchangeAsync);
        app.MapPost("/oauth2/token", TokenPostAsync);
        app.MapGet("/oauth2/token", TokenGet);
        app.Map("/v2", ProxyAsync);
        app.Map("/v2/{**rest}", ProxyAsync);
    }

    // ---- /oauth2/exchange: an Entra token for an ACR refresh token ----

    async Task<IResult> ExchangeAsync(HttpRequest req)
    {
        var r = Current();
        if (r is null) return RegistryError(404, "NAME_UNKNOWN", "registry not found");
        if (!req.HasFormContentType) return RegistryError(400, "UNSUPPORTED", "the body must be application/x-www-form-urlencoded");
        var form = await req.ReadFormAsync().ConfigureAwait(false);
        var grant = form["grant_type"].ToString();
        if (grant is not ("access_token" or "access_token_refresh_token" or "refresh_token"))
            return RegistryError(400, "UNSUPPORTED", $"grant_type '{grant}' is not supported");
        var service = form["service"].ToString();
        if (!string.Equals(service, _loginServer, StringComparison.OrdinalIgnoreCase))
            return RegistryError(400, "UNSUPPORTED", $"service '{service}' is not this registry ('{_loginServer}')");
        var aadToken = form["access_token"].ToString();
        if (aadToken.Length == 0) return Unauthorized("access_token is required");
        var caller = _aad.Validate(aadToken, out var error);
        if (caller is null) return Unauthorized("invalid access token: " + error);
        var tenant = form["tenant"].ToString();
        if (tenant.Length > 0 && !string.Equals(tenant, caller.TenantId, StringComparison.OrdinalIgnoreCase))
            return Unauthorized("the access token's tenant does not match the requested tenant");
        var crAudience = caller.Audience.TrimEnd('/').Equals(TokenService.ContainerRegistryAudience, StringComparison.OrdinalIgnoreCase);
        if (!crAudience)
        {
            if (!_aad.IsArmAudience(caller.Audience))
                return Unauthorized($"the access token's audience '{caller.Audience}' is not accepted by this registry");
            if (!r.ArmAudienceTokensAllowed)
                return Unauthorized("token validation failed: this registry does not accept ARM-audience tokens (azureADAuthenticationAsArmPolicy is disabled); use the audience https://containerregistry.azure.net");
        }
        if (!RegistryAccess.NetworkAllows(r, req.HttpContext.Connection.RemoteIpAddress, caller.RunsOnResourceId, caller.ManagedIdentityResourceId))
            return NetworkDenied(req);
        req.HttpContext.Items[Behaviour.RequestLog.CallerKey] = caller.ObjectId;
        return Results.Json(new JsonObject { ["refresh_token"] = _tokens.IssueRefresh(caller, _loginServer) });
    }

    // ---- /oauth2/token: a refresh token (or the 0000… Basic login) for a scoped access token ----

    async Task<IResult> TokenPostAsync(HttpRequest req)
    {
        if (!req.HasFormContentType) return RegistryError(400, "UNSUPPORTED", "the body must be application/x-www-form-urlencoded");
        // Kestrel reads chunked bodies (skopeo sends no Content-Length) like any other.
        var form = await req.ReadFormAsync().ConfigureAwait(false);
        var grant = form["grant_type"].ToString();
        string? refresh = grant switch
        {
            "refresh_token" => form["refresh_token"].ToString(),
            "password" when form["username"] == AnonymousUser => form["password"].ToString(),
            _ => null,
        };
        if (grant == "password" && refresh is null)
            return Unauthorized("only the user 00000000-0000-0000-0000-000000000000 with an ACR refresh token is supported (admin user and repository tokens are not modelled)");
        if (refresh is null) return RegistryError(400, "UNSUPPORTED", $"grant_type '{grant}' is not supported");
        var scopes = form["scope"].Concat(req.Query["scope"]).Select(s => s ?? "");
        return Issue(req, refresh, form["service"].Count > 0 ? form["service"].ToString() : req.Query["service"].ToString(), scopes);
    }

    IResult TokenGet(HttpRequest req)
    {
        var service = req.Query["service"].ToString();
        var scopes = req.Query["scope"].Select(s => s ?? "");
        if (BasicAuth.TryParse(req.Headers.Authorization.ToString(), out var user, out var password))
        {
            if (user != AnonymousUser)
                return Unauthorized("only the user 00000000-0000-0000-0000-000000000000 with an ACR refresh token is supported (admin user and repository tokens are not modelled)");
            return Issue(req, password, service, scopes);
        }
        // No credentials: anonymous pull if the registry allows it.
        var r = Current();
        if (r is null) return RegistryError(404, "NAME_UNKNOWN", "registry not found");
        if (!r.AnonymousPullEnabled) return Unauthorized("authentication required, visit https://aka.ms/acr/authorization for more information.");
        if (!RegistryAccess.NetworkAllows(r, req.HttpContext.Connection.RemoteIpAddress, null, null)) return NetworkDenied(req);
        var pullOnly = ScopeRequest.ParseAll(scopes)
            .Where(s => s.Type == "repository" && s.Actions.Contains("pull"))
            .Select(s => s with { Actions = ["pull"] }).ToList();
        var (token, expiresIn) = _tokens.IssueAccess(new RegistryCaller("anonymous", _world.TenantId, null, null), _loginServer, pullOnly);
        return TokenReply(token, expiresIn);
    }

    IResult Issue(HttpRequest req, string refreshToken, string service, IEnumerable<string> scopeParams)
    {
        var r = Current();
        if (r is null) return RegistryError(404, "NAME_UNKNOWN", "registry not found");
        if (service.Length > 0 && !string.Equals(service, _loginServer, StringComparison.OrdinalIgnoreCase))
            return RegistryError(400, "UNSUPPORTED", $"service '{service}' is not this registry ('{_loginServer}')");
        var caller = _tokens.ValidateRefresh(refreshToken, _loginServer, out var error);
        if (caller is null) return Unauthorized("invalid refresh token: " + error);
        if (!RegistryAccess.NetworkAllows(r, req.HttpContext.Connection.RemoteIpAddress, caller.RunsOnResourceId, caller.MiResourceId))
            return NetworkDenied(req);
        req.HttpContext.Items[Behaviour.RequestLog.CallerKey] = caller.ObjectId;
        var granted = _access.Grant(caller.ObjectId, r, ScopeRequest.ParseAll(scopeParams));
        var (token, expiresIn) = _tokens.IssueAccess(caller, _loginServer, granted);
        return TokenReply(token, expiresIn);
    }

    static IResult TokenReply(string token, long expiresIn) => Results.Json(new JsonObject
    {
        ["access_token"] = token,
        ["expires_in"] = expiresIn,
        ["issued_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
    });

    // ---- data plane ----

    async Task ProxyAsync(HttpContext ctx)
    {
        var req = ctx.Request;
        var r = Current();
        if (r is null)
        {
            await RegistryError(404, "NAME_UNKNOWN", "registry not found").ExecuteAsync(ctx).ConfigureAwait(false);
            return;
        }
        var authz = req.Headers.Authorization.ToString();
        var isPing = req.Path.Value is "/v2" or "/v2/";
        if (authz.Length == 0)
        {
            // Unauthenticated: network rules first (az treats 403 on /v2/ as a firewall), then ACR's challenge.
            if (!RegistryAccess.NetworkAllows(r, ctx.Connection.RemoteIpAddress, null, null))
            {
                await NetworkDenied(req).ExecuteAsync(ctx).ConfigureAwait(false);
                return;
            }
            if (isPing)
            {
                await Challenge(ctx).ConfigureAwait(false);
                return;
            }
        }
        var backend = await _backend().ConfigureAwait(false);
        if (backend is null)
        {
            await RegistryError(503, "UNAVAILABLE", "the registry's storage is not running (StartRegistries is off)").ExecuteAsync(ctx).ConfigureAwait(false);
            return;
        }
        await ReverseProxy.ForwardAsync(ctx, backend, _loginServer).ConfigureAwait(false);
    }

    async Task Challenge(HttpContext ctx)
    {
        var res = ctx.Response;
        res.StatusCode = 401;
        res.Headers.WWWAuthenticate = $"Bearer realm=\"{Realm}\",service=\"{_loginServer}\",scope=\"registry:catalog:*\"";
        res.Headers["Docker-Distribution-Api-Version"] = "registry/2.0";
        await res.WriteAsJsonAsync(new JsonObject
        {
            ["errors"] = new JsonArray(new JsonObject
            {
                ["code"] = "UNAUTHORIZED",
                ["message"] = "authentication required, visit https://aka.ms/acr/authorization for more information.",
                ["detail"] = new JsonArray(new JsonObject { ["Type"] = "registry", ["Name"] = "catalog", ["Action"] = "*" }),
            }),
        }).ConfigureAwait(false);
    }

    static IResult NetworkDenied(HttpRequest req)
    {
        var ip = req.HttpContext.Connection.RemoteIpAddress;
        if (ip is not null && ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        return RegistryError(403, "DENIED",
            $"client with IP '{ip}' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.");
    }

    static IResult Unauthorized(string message) => RegistryError(401, "UNAUTHORIZED", message);

    static IResult RegistryError(int status, string code, string message) => Results.Json(new JsonObject
    {
        ["errors"] = new JsonArray(new JsonObject { ["code"] = code, ["message"] = message, ["detail"] = null }),
    }, statusCode: status);
}
