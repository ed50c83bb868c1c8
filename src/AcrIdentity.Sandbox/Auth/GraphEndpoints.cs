using System.Text.Json;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Behaviour;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AcrIdentity.Sandbox.Auth;

/// <summary>
/// The sliver of Microsoft Graph that clients use to name principals (az role assignment list resolves
/// principal names with directoryObjects/getByIds), under /graph/ on the main listener. Answers from the
/// sandbox directory for any valid sandbox token whose audience is this Graph URL. Deleted objects are not found;
/// Behaviours.GraphDirectoryReadDenied makes it refuse callers as Graph refuses one without Directory.Read.All.
/// </summary>
public static class GraphEndpoints
{
    public const string PathPrefix = "/graph";

    /// <summary>Graph's limit on getByIds' ids.</summary>
    public const int MaxIds = 1000;

    public static void Map(WebApplication app, TokenService tokens, IIdentityWorld world, Func<Uri> mainBase, Behaviours behaviours)
    {
        string GraphBase() => mainBase().ToString().TrimEnd('/') + PathPrefix + "/";

        app.MapPost(PathPrefix + "/v1.0/directoryObjects/getByIds", async (HttpContext http) =>
        {
            if (Authorize(http, tokens, GraphBase(), behaviours) is { } denied) return denied;
            JsonNode? body;
            try
            {
                body = await JsonNode.ParseAsync(http.Request.Body).ConfigureAwait(false);
            }
            catch (JsonException)
            {
                return GraphError(400, "Request_BadRequest", "Invalid JSON in the request body.");
            }
            var ids = (body?["ids"] as JsonArray ?? []).Select(i => i is JsonValue v && v.TryGetValue(out string? s) ? s : null).ToList();
            if (ids.Count > MaxIds)
                return GraphError(400, "Request_BadRequest", $"Too many identifiers in the request: {ids.Count}. The maximum is {MaxIds}.");
            // Absent types = every directory object; names are case-insensitive, as in Graph.
            var types = (body?["types"] as JsonArray ?? []).Select(t => ((string?)t ?? "").ToLowerInvariant()).ToHashSet();
            var value = new JsonArray();
            foreach (var id in ids)
            {
                // Deleted objects are not found: FindPrincipal leaves them out.
                if (id is not null && world.FindPrincipal(id) is { } p && p.ObjectId.Equals(id, StringComparison.OrdinalIgnoreCase)
                    && (types.Count == 0 || types.Contains("directoryobject") || types.Contains(TypeName(p))))
                    value.Add(Render(p));
            }
            return Results.Json(new JsonObject { ["@odata.context"] = GraphBase() + "v1.0/$metadata#directoryObjects", ["value"] = value });
        });
        // The directory the caller's token is for (one tenant here), as GET /organization names it.
        app.MapGet(PathPrefix + "/v1.0/organization", (HttpContext http) =>
        {
            if (Authorize(http, tokens, GraphBase(), behaviours) is { } denied) return denied;
            return Results.Json(new JsonObject
            {
                ["@odata.context"] = GraphBase() + "v1.0/$metadata#organization",
                ["value"] = new JsonArray(new JsonObject { ["id"] = world.TenantId }),
            });
        });
        app.MapGet(PathPrefix + "/v1.0/servicePrincipals/{id}", (HttpContext http, string id) =>
        {
            if (Authorize(http, tokens, GraphBase(), behaviours) is { } denied) return denied;
            return world.FindPrincipal(id) is { Kind: PrincipalKind.ServicePrincipal or PrincipalKind.ManagedIdentity } p
                   && p.ObjectId.Equals(id, StringComparison.OrdinalIgnoreCase)
                ? Results.Json(Render(p))
                : GraphError(404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.");
        });
    }

    static IResult? Authorize(HttpContext http, TokenService tokens, string graphBase, Behaviours behaviours)
    {
        var h = http.Request.Headers.Authorization.ToString();
        var caller = h.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? tokens.Validate(h[7..].Trim(), out _) : null;
        if (caller is null)
            return GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
        if (!caller.Audience.TrimEnd('/').Equals(graphBase.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
            return GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
        http.Items[RequestLog.CallerKey] = caller.ObjectId;
        if (behaviours.IsGraphDirectoryReadDenied(caller.ObjectId))
            return GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
        return null;
    }

    static string TypeName(DirectoryPrincipal p) => p.Kind switch
    {
        PrincipalKind.User => "user",
        PrincipalKind.Group => "group",
        _ => "serviceprincipal",
    };

    static JsonObject Render(DirectoryPrincipal p) => p.Kind switch
    {
        PrincipalKind.User => new JsonObject
        {
            ["@odata.type"] = "#microsoft.graph.user", ["id"] = p.ObjectId, ["displayName"] = p.DisplayName, ["userPrincipalName"] = p.DisplayName,
        },
        PrincipalKind.Group => new JsonObject
        {
            ["@odata.type"] = "#microsoft.graph.group", ["id"] = p.ObjectId, ["displayName"] = p.DisplayName, ["securityEnabled"] = true,
        },
        _ => new JsonObject
        {
            ["@odata.type"] = "#microsoft.graph.servicePrincipal", ["id"] = p.ObjectId, ["appId"] = p.ClientId, ["displayName"] = p.DisplayName,
            ["servicePrincipalType"] = p.Kind == PrincipalKind.ManagedIdentity ? "ManagedIdentity" : "Application",
            ["servicePrincipalNames"] = p.ManagedIdentityResourceId is null
                ? new JsonArray(p.ClientId)
                : new JsonArray(p.ClientId, p.ManagedIdentityResourceId),
            // Graph's managed identities: isExplicit=True for a user-assigned one, and the resource ID.
            ["alternativeNames"] = p.ManagedIdentityResourceId is null ? new JsonArray()
                : new JsonArray($"isExplicit={(p.ManagedIdentityResourceId.Contains("/userAssignedIdentities/", StringComparison.OrdinalIgnoreCase) ? "True" : "False")}",
                    p.ManagedIdentityResourceId),
        },
    };

    static IResult GraphError(int status, string code, string message) => Results.Json(new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["code"] = code, ["message"] = message,
            ["innerError"] = new JsonObject { ["date"] = DateTime.UtcNow.ToString("s"), ["request-id"] = Guid.NewGuid().ToString() },
        },
    }, statusCode: status);
}
