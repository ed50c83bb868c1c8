using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace AcrIdentity.Sandbox.Auth;

/// <summary>A "machine": the operator, or a resource a process can pretend to run on.</summary>
public sealed class Machine
{
    public required string Key { get; init; }              // path segment on the identity server
    public string? ResourceId { get; init; }               // null for the operator
    public required string Secret { get; init; }           // IDENTITY_HEADER / MSI_SECRET
    public bool UsesImds { get; init; }
    public LoopbackServer? Imds { get; set; }
}

/// <summary>
/// Managed-identity token endpoints. The identity server (plain http, like the real ones) serves the
/// App Service protocol (IDENTITY_ENDPOINT, api 2019-08-01) and the legacy MSI_ENDPOINT protocol under
/// /{machine}/; IMDS clients drop the path of AZURE_POD_IDENTITY_AUTHORITY_HOST, so each IMDS machine gets
/// its own port. Each answer uses the identity the resource has at the time of the request.
/// </summary>
public static class ManagedIdentityEndpoints
{
    public const string ImdsPath = "/metadata/identity/oauth2/token";

    public static string MachineKey(string resourceId) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(resourceId.ToLowerInvariant())))[..16].ToLowerInvariant();

    /// <summary>Resource types that use IMDS in Azure (VMs, scale sets, AKS nodes).</summary>
    public static bool UsesImdsInAzure(string type) =>
        type.Equals("microsoft.compute/virtualmachines", StringComparison.OrdinalIgnoreCase)
        || type.Equals("microsoft.compute/virtualmachinescalesets", StringComparison.OrdinalIgnoreCase)
        || type.Equals("microsoft.containerservice/managedclusters", StringComparison.OrdinalIgnoreCase);

    public static void MapIdentityServer(WebApplication app, Func<string, Machine?> findMachine, IIdentityWorld world, TokenService tokens)
    {
        // App Service / Functions / Automation: GET ?api-version=2019-08-01&resource=… with X-IDENTITY-HEADER.
        app.MapGet("/{key}/identity/token", (HttpRequest req, string key) =>
        {
            var m = findMachine(key);
            if (m is null) return Results.NotFound();
            if (!SecretMatches(req.Headers["X-IDENTITY-HEADER"], m.Secret))
                return AppServiceError(401, "Unauthorized: the X-IDENTITY-HEADER header is missing or wrong.");
            var q = req.Query;
            var resource = q["resource"].ToString();
            if (resource.Length == 0) return AppServiceError(400, "The 'resource' query parameter is required.");
            var sel = Selector.From(q["client_id"], q["object_id"].Count > 0 ? q["object_id"] : q["principal_id"], q["mi_res_id"]);
            if (sel.Error is not null) return AppServiceError(400, sel.Error);
            var pick = Pick(world, m, sel, imdsRules: false);
            if (pick.Error is not null) return AppServiceError(400, pick.Error);
            return TokenReply(req, tokens, pick, resource, m, appService: true);
        });

        // Legacy MSI_ENDPOINT. az 2.45 (msrestazure get_msi_token) POSTs a form {resource, client_id|object_id|
        // msi_res_id} with Metadata: true; the 2017-09-01 App Service form GETs ?resource=&api-version=&clientid=
        // with a "secret" header (also what MSAL.NET sends when MSI_SECRET is set).
        // One template serves ".../token" and ".../token/" (routing ignores a trailing slash).
        app.Map("/{key}/msi/token", (Delegate)MsiAsync);

        async Task<IResult> MsiAsync(HttpRequest req, string key)
        {
            var m = findMachine(key);
            if (m is null) return Results.NotFound();
            var fromSecret = SecretMatches(req.Headers["secret"], m.Secret);
            if (!fromSecret && !string.Equals(req.Headers["Metadata"], "true", StringComparison.OrdinalIgnoreCase))
                return ImdsError(400, "bad_request_102", "Required metadata header not specified");
            IQueryCollection q = req.Query;
            IFormCollection? form = req.HasFormContentType ? await req.ReadFormAsync().ConfigureAwait(false) : null;
            string Get(string name) => form is not null && form[name].Count > 0 ? form[name].ToString() : q[name].ToString();
            var resource = Get("resource");
            if (resource.Length == 0) return ImdsError(400, "invalid_request", "Required audience parameter not specified");
            var clientId = Get("client_id").Length > 0 ? Get("client_id") : Get("clientid");
            var sel = Selector.From(clientId, Get("object_id").Length > 0 ? Get("object_id") : Get("principal_id"),
                Get("msi_res_id").Length > 0 ? Get("msi_res_id") : Get("mi_res_id"));
            if (sel.Error is not null) return ImdsError(400, "invalid_request", sel.Error);
            var pick = Pick(world, m, sel, imdsRules: false);
            if (pick.Error is not null) return ImdsError(400, "invalid_request", pick.Error);
            return TokenReply(req, tokens, pick, resource, m, appService: false);
        }
    }

    /// <summary>The IMDS path protocol on a machine's own port.</summary>
    public static void MapImds(WebApplication app, Machine m, IIdentityWorld world, TokenService tokens)
    {
        app.MapGet(ImdsPath, (HttpRequest req) =>
        {
            var hasMetadata = string.Equals(req.Headers["Metadata"], "true", StringComparison.OrdinalIgnoreCase);
            // Azure SDKs probe without the header and treat a redirected host's 400 as "no IMDS"; answer their
            // probe like a working IMDS (see docs/dev/contracts.md). Other header-less callers get Azure's 400.
            var sdkProbe = req.Headers.ContainsKey("x-ms-client-request-id")
                           || req.Headers.UserAgent.ToString().Contains("azsdk", StringComparison.OrdinalIgnoreCase);
            if (!hasMetadata && !sdkProbe)
                return ImdsError(400, "bad_request_102", "Required metadata header not specified");
            var q = req.Query;
            if (q["api-version"].Count == 0)
                return ImdsError(400, "invalid_request", "Required query variable 'api-version' is missing");
            var resource = q["resource"].ToString();
            if (resource.Length == 0) return ImdsError(400, "invalid_request", "Required audience parameter not specified");
            var resId = q["msi_res_id"].Count > 0 ? q["msi_res_id"] : q["msi-res-id"].Count > 0 ? q["msi-res-id"] : q["mi_res_id"];
            var sel = Selector.From(q["client_id"], q["object_id"], resId);
            if (sel.Error is not null) return ImdsError(400, "invalid_request", sel.Error);
            var pick = Pick(world, m, sel, imdsRules: true);
            if (pick.Error is not null) return ImdsError(400, "invalid_request", pick.Error);
            return TokenReply(req, tokens, pick, resource, m, appService: false);
        });
    }

    sealed record Selector(string? ClientId, string? ObjectId, string? ResourceId, string? Error)
    {
        public bool Any => ClientId is not null || ObjectId is not null || ResourceId is not null;

        public static Selector From(StringValues clientId, StringValues objectId, StringValues resourceId)
        {
            string? c = clientId.Count > 0 && clientId.ToString().Length > 0 ? clientId.ToString() : null;
            string? o = objectId.Count > 0 && objectId.ToString().Length > 0 ? objectId.ToString() : null;
            string? r = resourceId.Count > 0 && resourceId.ToString().Length > 0 ? resourceId.ToString() : null;
            var n = (c is null ? 0 : 1) + (o is null ? 0 : 1) + (r is null ? 0 : 1);
            return new Selector(c, o, r, n > 1 ? "Only one of client_id, object_id or mi_res_id may be specified." : null);
        }
    }

    sealed record Picked(DirectoryPrincipal? Principal, string? MiResourceId, string? Error);

    static Picked Pick(IIdentityWorld world, Machine m, Selector sel, bool imdsRules)
    {
        if (m.ResourceId is null)
        {
            // The operator "machine" carries the operator principal as its only identity.
            var op = world.Operator;
            if (sel.Any && !(Eq(sel.ClientId, op.ClientId) || Eq(sel.ObjectId, op.ObjectId)))
                return new(null, null, "Identity not found");
            return new(op, null, null);
        }
        var ids = world.GetIdentities(m.ResourceId);
        if (ids is null) return new(null, null, $"Resource '{m.ResourceId}' no longer exists.");
        if (!sel.Any)
        {
            if (ids.SystemAssigned is not null) return new(ids.SystemAssigned, m.ResourceId, null);
            // IMDS falls back to the only user-assigned identity; App Service does not.
            if (imdsRules && ids.UserAssigned.Count == 1)
                return new(ids.UserAssigned[0].Principal, ids.UserAssigned[0].ResourceId, null);
            return new(null, null, ids.UserAssigned.Count == 0
                ? "Identity not found"
                : "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request");
        }
        foreach (var ua in ids.UserAssigned)
        {
            if (Eq(sel.ClientId, ua.Principal.ClientId) || Eq(sel.ObjectId, ua.Principal.ObjectId) || Eq(sel.ResourceId, ua.ResourceId))
                return new(ua.Principal, ua.ResourceId, null);
        }
        if (ids.SystemAssigned is not null && (Eq(sel.ClientId, ids.SystemAssigned.ClientId) || Eq(sel.ObjectId, ids.SystemAssigned.ObjectId)))
            return new(ids.SystemAssigned, m.ResourceId, null);
        return new(null, null, "Identity not found");
    }

    static bool Eq(string? a, string? b) => a is not null && b is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    static bool SecretMatches(StringValues header, string secret) =>
        header.Count == 1 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header.ToString()), Encoding.UTF8.GetBytes(secret));

    static IResult TokenReply(HttpRequest req, TokenService tokens, Picked pick, string resource, Machine m, bool appService)
    {
        req.HttpContext.Items[Behaviour.RequestLog.CallerKey] = pick.Principal!.ObjectId;
        var audience = TokenService.AudienceFromScope(resource);
        var (token, exp) = tokens.Issue(pick.Principal!, audience, pick.MiResourceId, m.ResourceId);
        var now = DateTimeOffset.UtcNow;
        string S(long v) => v.ToString(CultureInfo.InvariantCulture);
        var reply = new JsonObject
        {
            ["access_token"] = token,
            ["client_id"] = pick.Principal!.ClientId,
            ["expires_on"] = S(exp.ToUnixTimeSeconds()),
            ["resource"] = resource,
            ["token_type"] = "Bearer",
        };
        if (!appService)
        {
            reply["refresh_token"] = "";
            reply["expires_in"] = S((long)(exp - now).TotalSeconds);
            reply["ext_expires_in"] = S((long)(exp - now).TotalSeconds);
            reply["not_before"] = S(now.ToUnixTimeSeconds());
        }
        return Results.Json(reply);
    }

    static IResult ImdsError(int status, string error, string description) =>
        Results.Json(new JsonObject { ["error"] = error, ["error_description"] = description }, statusCode: status);

    static IResult AppServiceError(int status, string message) =>
        Results.Json(new JsonObject
        {
            ["statusCode"] = status, ["message"] = message, ["correlationId"] = Guid.NewGuid().ToString(),
        }, statusCode: status);
}
