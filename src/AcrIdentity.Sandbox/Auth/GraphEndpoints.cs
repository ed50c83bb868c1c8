using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AcrIdentity.Sandbox.Auth;

/// <summary>
/// The sliver of Microsoft Graph that clients use to name principals (az role assignment list resolves
/// principal names with directoryObjects/getByIds), under /graph/ on the main listener. Answers from the
/// sandbox directory for any valid sandbox token whose audience is this Graph URL.
/// </summary>
public static class GraphEndpoints
{
    public const string PathPrefix = "/graph";

    public static void Map(WebApplication app, TokenService tokens, IIdentityWorld world, Func<Uri> mainBase)
    {
        string GraphBase() => mainBase().ToString().TrimEnd('/') + PathPrefix + "/";

        app.MapPost(PathPrefix + "/v1.0/directoryObjects/getByIds", async (HttpRequest req) =>
        {
            if (Authorize(req, tokens, GraphBase()) is { } denied) return denied;
            var body = await JsonNode.ParseAsync(req.Body).ConfigureAwait(false);
            var value = new JsonArray();
            foreach (var id in body?["ids"] as JsonArray ?? [])
            {
                if ((string?)id is { } s && world.FindPrincipal(s) is { } p && p.ObjectId.Equals(s, StringComparison.OrdinalIgnoreCase))
                    value.Add(Render(p));
            }
            return Results.Json(new JsonObject { ["@odata.context"] = GraphBase() + "v1.0/$metadata#directoryObjects", ["value"] = value });
        });
        app.MapGet(PathPrefix + "/v1.0/servicePrincipals/{id}", (HttpRequest req, string id) =>
        {
            if (Authorize(req, tokens, GraphBase()) is { } denied) return denied;
            return world.FindPrincipal(id) is { Kind: PrincipalKind.ServicePrincipal or PrincipalKind.ManagedIdentity } p
                   && p.ObjectId.Equals(id, StringComparison.OrdinalIgnoreCase)
                ? Results.Json(Render(p))
                : GraphError(404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.");
        });
    }

    static IResult? Authorize(HttpRequest req, TokenService tokens, string graphBase)
    {
        var h = req.Headers.Authorization.ToString();
        var caller = h.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? tokens.Validate(h[7..].Trim(), out _) : null;
        if (caller is null)
            return GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
        if (!caller.Audience.TrimEnd('/').Equals(graphBase.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
            return GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
        return null;
    }

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
            ["alternativeNames"] = p.ManagedIdentityResourceId is null ? new JsonArray() : new JsonArray(p.ManagedIdentityResourceId),
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
