using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>One ARM request being answered.</summary>
public sealed class ArmRequest
{
    public required HttpContext Http { get; init; }
    public required SandboxContext Ctx { get; init; }
    public required string[] Seg { get; init; }
    public required CallerIdentity Caller { get; init; }
    public string Method => Http.Request.Method;
    public string Path => "/" + string.Join('/', Seg);
    public string? ApiVersion => Http.Request.Query["api-version"].FirstOrDefault();
    public string? Query(string name) => Http.Request.Query[name].FirstOrDefault();
    public World.World World => Ctx.World;
    public string BaseUrl => Ctx.ArmBaseUri.ToString().TrimEnd('/');
}

/// <summary>Replies in ARM's shapes.</summary>
public static class ArmHttp
{
    static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    public static async Task Json(HttpContext http, int status, JsonNode? body, IDictionary<string, string>? headers = null)
    {
        http.Response.StatusCode = status;
        AddCommonHeaders(http);
        if (headers is not null)
            foreach (var (k, v) in headers) http.Response.Headers[k] = v;
        if (body is null) return;
        http.Response.ContentType = "application/json; charset=utf-8";
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString(Compact));
        http.Response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(http.Request.Method)) await http.Response.Body.WriteAsync(bytes);
    }

    public static void AddCommonHeaders(HttpContext http)
    {
        var h = http.Response.Headers;
        if (!h.ContainsKey("x-ms-request-id"))
        {
            var id = Guid.NewGuid().ToString();
            h["x-ms-request-id"] = id;
            h["x-ms-correlation-request-id"] = http.Request.Headers["x-ms-correlation-request-id"].FirstOrDefault() ?? id;
            h["x-ms-routing-request-id"] = "SANDBOX:" + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'") + ":" + id;
            h.CacheControl = "no-cache";
        }
    }

    public static Task Error(HttpContext http, int status, string code, string message, IDictionary<string, string>? headers = null) =>
        Json(http, status, ErrorBody(code, message), headers);

    public static JsonObject ErrorBody(string code, string message) =>
        new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };

    public static Task Error(HttpContext http, WorldError e) => Error(http, e.Status, e.Code, e.Message);

    public static async Task<(JsonObject? Body, string? Error)> ReadObject(HttpContext http)
    {
        try
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            if (string.IsNullOrWhiteSpace(text)) return (new JsonObject(), null);
            var node = JsonNode.Parse(text);
            return node is JsonObject o ? (o, null) : (null, "The request content was invalid and could not be deserialized: the body must be a JSON object.");
        }
        catch (JsonException ex)
        {
            return (null, $"The request content was invalid and could not be deserialized: '{ex.Message}'.");
        }
    }

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");

    /// <summary>A page of a list reply: {"value":[…],"nextLink":…} with $skiptoken paging.</summary>
    public static JsonObject Page(ArmRequest r, IReadOnlyList<JsonNode> items, int pageSize = 1000) =>
        Page(r, items, i => i.DeepClone(), pageSize);

    /// <summary>As above, rendering only the items on the page.</summary>
    public static JsonObject Page<T>(ArmRequest r, IReadOnlyList<T> items, Func<T, JsonNode> render, int pageSize = 1000)
    {
        int skip = int.TryParse(r.Query("$skiptoken"), out var s) ? Math.Max(0, s) : 0;
        if (int.TryParse(r.Query("$top"), out var top) && top > 0) pageSize = Math.Min(pageSize, top);
        var page = items.Skip(skip).Take(pageSize).Select(render).ToArray();
        var result = new JsonObject { ["value"] = new JsonArray(page) };
        if (skip + page.Length < items.Count)
        {
            var q = System.Web.HttpUtility.ParseQueryString(r.Http.Request.QueryString.Value ?? "");
            q["$skiptoken"] = (skip + page.Length).ToString();
            result["nextLink"] = r.BaseUrl + r.Http.Request.Path.Value + "?" + q;
        }
        return result;
    }
}
