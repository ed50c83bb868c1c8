using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Behaviour;

/// <summary>First in the pipeline: classifies and logs every request, adds latency, injects faults.</summary>
public sealed class BehaviourMiddleware(RequestDelegate next, SandboxContext ctx)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var kind = Classify(http);
        http.Items[RequestLog.KindKey] = kind;
        var pathAndQuery = http.Request.Path.Value + http.Request.QueryString.Value;
        var started = DateTimeOffset.UtcNow;
        try
        {
            var latency = ctx.Behaviours.Latency;
            if (latency > TimeSpan.Zero && kind is RequestKind.Arm or RequestKind.Arg or RequestKind.Token or RequestKind.Graph)
                await Task.Delay(latency, http.RequestAborted);

            if (ctx.Behaviours.Faults.Match(http.Request.Method, pathAndQuery) is { } fault)
            {
                await WriteFault(http, fault, kind);
                return;
            }
            await next(http);
        }
        finally
        {
            ctx.Requests.Add(new RequestLogEntry(started, http.Request.Method, pathAndQuery, http.Response.StatusCode,
                http.Items.TryGetValue(RequestLog.CallerKey, out var c) ? c as string : null,
                http.Items.TryGetValue(RequestLog.KindKey, out var k) && k is RequestKind rk ? rk : kind,
                DateTimeOffset.UtcNow - started));
        }
    }

    RequestKind Classify(HttpContext http)
    {
        foreach (var c in ctx.RequestClassifiers)
            if (c(http) is { } k) return k;
        var path = http.Request.Path.Value ?? "";
        if (path.StartsWith("/providers/Microsoft.ResourceGraph", StringComparison.OrdinalIgnoreCase)) return RequestKind.Arg;
        if (path.StartsWith("/subscriptions", StringComparison.OrdinalIgnoreCase) || path.StartsWith("/providers", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("/tenants", StringComparison.OrdinalIgnoreCase) || path.StartsWith("/metadata/endpoints", StringComparison.OrdinalIgnoreCase))
            return RequestKind.Arm;
        if (path.StartsWith("/v2", StringComparison.OrdinalIgnoreCase) || path.StartsWith("/oauth2/exchange", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("/oauth2/token", StringComparison.OrdinalIgnoreCase))
            return RequestKind.Registry;
        return RequestKind.Token;
    }

    static async Task WriteFault(HttpContext http, FaultRule fault, RequestKind kind)
    {
        http.Response.StatusCode = fault.Status;
        if (fault.RetryAfterSeconds is { } ra) http.Response.Headers.RetryAfter = ra.ToString();
        http.Response.Headers["x-ms-request-id"] = Guid.NewGuid().ToString();
        var code = fault.Code ?? fault.Status switch
        {
            429 => "TooManyRequests",
            500 => "InternalServerError",
            502 => "BadGateway",
            503 => "ServiceUnavailable",
            504 => "GatewayTimeout",
            _ => "InjectedFault",
        };
        var message = fault.Message ?? "The sandbox injected this fault (behaviours.faults).";
        JsonObject body = kind == RequestKind.Registry
            ? new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = code.ToUpperInvariant(), ["message"] = message }) }
            : new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync(body.ToJsonString());
    }
}
