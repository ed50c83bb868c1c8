using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Arm;
using AcrIdentity.Sandbox.Behaviour;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arg;

/// <summary>POST /providers/Microsoft.ResourceGraph/resources over the tables resources, resourcecontainers and
/// authorizationresources, limited to what the caller may read.</summary>
static class ArgEndpoint
{
    static readonly ICallerResolver Fallback = new UnverifiedJwtResolver();
    // Quota windows per sandbox instance, per caller.
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SandboxContext, ConcurrentDictionary<string, Queue<DateTimeOffset>>> Windows = new();
    static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    public static async Task HandleAsync(HttpContext http, SandboxContext ctx)
    {
        var resolution = (ctx.CallerResolver ?? Fallback).Resolve(http);
        if (resolution.Caller is null)
        {
            await ArmHttp.Error(http, 401, resolution.ErrorCode ?? "AuthenticationFailed", resolution.ErrorMessage ?? "Authentication failed.");
            return;
        }
        var caller = resolution.Caller;
        http.Items[RequestLog.CallerKey] = caller.ObjectId;

        // Per-user quota: x-ms-user-quota-remaining / -resets-after on every reply.
        var (remaining, resetsAfter) = Quota(ctx, caller.ObjectId);
        http.Response.Headers["x-ms-user-quota-remaining"] = Math.Max(0, remaining).ToString();
        http.Response.Headers["x-ms-user-quota-resets-after"] = resetsAfter.ToString(@"hh\:mm\:ss");
        if (remaining < 0 && ctx.Behaviours.ArgThrottlingEnabled)
        {
            await ArmHttp.Error(http, 429, "RateLimiting", "Please provide below info when asking for support: timestamp = " + DateTime.UtcNow.ToString("O") +
                ". Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed.",
                new Dictionary<string, string> { ["Retry-After"] = Math.Max(1, (int)Math.Ceiling(resetsAfter.TotalSeconds)).ToString() });
            return;
        }

        var version = http.Request.Query["api-version"].FirstOrDefault();
        if (string.IsNullOrEmpty(version))
        {
            await ArmHttp.Error(http, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
            return;
        }
        if (!ArgArea.ApiVersions.Contains(version))
        {
            await ArmHttp.Error(http, 400, "NoRegisteredProviderFound",
                $"No registered resource provider found for location 'global' and API version '{version}' for type 'resources'. The supported api-versions are '{string.Join(", ", ArgArea.ApiVersions)}'. The supported locations are ''.");
            return;
        }
        var (body, err) = await ArmHttp.ReadObject(http);
        var query = body?["query"]?.GetValue<string>();
        if (body is null || string.IsNullOrWhiteSpace(query))
        {
            await ArmHttp.Error(http, 400, "BadRequest", err ?? "The query is required.");
            return;
        }
        var options = body["options"] as JsonObject ?? new JsonObject();
        int top = options["$top"]?.GetValue<int>() ?? 100;
        int skip = options["$skip"]?.GetValue<int>() ?? 0;
        if (top is < 1 or > 1000)
        {
            await ArmHttp.Error(http, 400, "BadRequest", "The $top option must be between 1 and 1000.");
            return;
        }
        if (options["$skipToken"]?.GetValue<string>() is { Length: > 0 } token)
        {
            try { skip = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(token)))!["skip"]!.GetValue<int>(); }
            catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or NullReferenceException or InvalidOperationException)
            {
                await ArmHttp.Error(http, 400, "BadRequest", "The $skipToken is invalid.");
                return;
            }
        }
        var subs = (body["subscriptions"] as JsonArray)?.Select(s => s!.GetValue<string>()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var tables = new ArgTables(ctx.World, caller.ObjectId, subs);

        Kql.Table result;
        try { result = Kql.Run(query, tables.Get); }
        catch (KqlException e)
        {
            await ArmHttp.Json(http, 400, new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["code"] = "BadRequest",
                    ["message"] = $"Please provide below info when asking for support: timestamp = {DateTime.UtcNow:O}, correlationId = {Guid.NewGuid()}.",
                    ["details"] = new JsonArray(
                        new JsonObject { ["code"] = "InvalidQuery", ["message"] = "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying." },
                        new JsonObject
                        {
                            ["code"] = "ParserFailure", ["message"] = e.Message, ["line"] = 1,
                            ["characterPositionInLine"] = e.Position, ["token"] = e.Token,
                        }),
                },
            });
            return;
        }

        var total = result.Rows.Count;
        var page = result.Rows.Skip(skip).Take(top).ToList();
        var more = skip + page.Count < total;
        var hasId = result.Columns.Contains("id");
        var reply = new JsonObject
        {
            ["totalRecords"] = total,
            ["count"] = page.Count,
            // Without an id column ARG cannot page: it truncates instead.
            ["resultTruncated"] = more && !hasId ? "true" : "false",
        };
        if (more && hasId)
            reply["$skipToken"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(new JsonObject { ["skip"] = skip + page.Count }.ToJsonString()));
        reply["facets"] = new JsonArray();
        if ((options["resultFormat"]?.GetValue<string>() ?? "objectArray").Equals("table", StringComparison.OrdinalIgnoreCase))
            reply["data"] = new JsonObject
            {
                ["columns"] = new JsonArray(result.Columns.Select(c => (JsonNode)new JsonObject { ["name"] = c, ["type"] = ColumnType(page, c) }).ToArray()),
                ["rows"] = new JsonArray(page.Select(r => (JsonNode)new JsonArray(result.Columns.Select(c => r[c]?.DeepClone()).ToArray())).ToArray()),
            };
        else
            reply["data"] = new JsonArray(page.Select(r => (JsonNode)r).ToArray());
        await ArmHttp.Json(http, 200, reply);
    }

    static string ColumnType(List<JsonObject> rows, string column)
    {
        var v = rows.Select(r => r[column]).FirstOrDefault(x => x is not null);
        return v switch
        {
            JsonObject => "object",
            JsonArray => "array",
            JsonValue jv when jv.GetValueKind() == System.Text.Json.JsonValueKind.Number => "integer",
            JsonValue jv when jv.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "boolean",
            _ => "string",
        };
    }

    static (int Remaining, TimeSpan ResetsAfter) Quota(SandboxContext ctx, string caller)
    {
        var q = Windows.GetValue(ctx, _ => new(StringComparer.OrdinalIgnoreCase)).GetOrAdd(caller, _ => new Queue<DateTimeOffset>());
        var now = DateTimeOffset.UtcNow;
        lock (q)
        {
            while (q.Count > 0 && now - q.Peek() >= Window) q.Dequeue();
            // Only served queries use quota, as in Azure: counting refused ones would keep a client that waits
            // exactly the Retry-After throttled for ever.
            bool served = q.Count < ctx.Behaviours.ArgQuotaPerWindow || !ctx.Behaviours.ArgThrottlingEnabled;
            if (served) q.Enqueue(now);
            var resets = q.Count > 0 ? Window - (now - q.Peek()) : Window;
            return (served ? ctx.Behaviours.ArgQuotaPerWindow - q.Count : -1, resets < TimeSpan.Zero ? TimeSpan.Zero : resets);
        }
    }
}
