using AcrIdentity.Sandbox.Behaviour;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>The ARM subset: one catch-all dispatcher over path segments (ARM paths are case-insensitive
/// and scopes nest arbitrarily, which route templates express badly).</summary>
public sealed class ArmArea : ISandboxArea
{
    static readonly ICallerResolver Fallback = new UnverifiedJwtResolver();

    public void Map(WebApplication app, SandboxContext ctx)
    {
        RequestDelegate handler = http => HandleAsync(http, ctx);
        app.Map("/subscriptions", handler);
        app.Map("/subscriptions/{**rest}", handler);
        app.Map("/providers/{**rest}", handler);
        app.Map("/tenants", handler);
        app.Map("/metadata/endpoints", http => ArmMeta.MetadataEndpoints(http, ctx));
    }

    static async Task HandleAsync(HttpContext http, SandboxContext ctx)
    {
        var seg = (http.Request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var resolution = (ctx.CallerResolver ?? Fallback).Resolve(http);
        if (resolution.Caller is null)
        {
            http.Response.Headers.WWWAuthenticate =
                $"Bearer authorization_uri=\"{ctx.LoginEndpoint ?? ctx.ArmBaseUri.ToString()}\", error=\"invalid_token\", error_description=\"{resolution.ErrorMessage}\"";
            await ArmHttp.Error(http, 401, resolution.ErrorCode ?? "AuthenticationFailed", resolution.ErrorMessage ?? "Authentication failed.");
            return;
        }
        var caller = resolution.Caller;
        http.Items[RequestLog.CallerKey] = caller.ObjectId;

        // Token buckets per subscription (or tenant) and principal; headers on every reply.
        var sub = seg.Length >= 2 && seg[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase) ? seg[1] : null;
        var kind = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) ? OpKind.Read
            : HttpMethods.IsDelete(http.Request.Method) ? OpKind.Delete : OpKind.Write;
        var (allowed, remaining, retryAfter) = ctx.Behaviours.Throttling.Take(sub ?? "tenant", caller.ObjectId, kind, DateTimeOffset.UtcNow);
        var level = sub is null ? "tenant" : "subscription";
        var opName = kind switch { OpKind.Read => "reads", OpKind.Write => "writes", _ => "deletes" };
        http.Response.Headers[$"x-ms-ratelimit-remaining-{level}-{opName}"] = remaining.ToString();
        if (sub is not null) http.Response.Headers[$"x-ms-ratelimit-remaining-subscription-global-{(kind == OpKind.Read ? "reads" : "writes")}"] = (remaining * 15).ToString();
        if (!allowed)
        {
            var t = ctx.Behaviours.Throttling;
            var limit = kind switch { OpKind.Read => t.ReadCapacity, OpKind.Write => t.WriteCapacity, _ => t.DeleteCapacity };
            var what = kind switch { OpKind.Read => "read", OpKind.Write => "write", _ => "delete" };
            await ArmHttp.Error(http, 429, sub is null ? "TenantRequestsThrottled" : "SubscriptionRequestsThrottled",
                $"Number of {what} requests for {level} '{sub ?? caller.TenantId}' exceeded the limit of '{limit}' for time interval '01:00:00'. Please try again after '{retryAfter}' seconds.",
                new Dictionary<string, string> { ["Retry-After"] = retryAfter.ToString() });
            return;
        }

        if (string.IsNullOrEmpty(http.Request.Query["api-version"].FirstOrDefault()))
        {
            await ArmHttp.Error(http, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
            return;
        }

        var r = new ArmRequest { Http = http, Ctx = ctx, Seg = seg, Caller = caller };
        await Dispatch(r);
    }

    static async Task Dispatch(ArmRequest r)
    {
        var s = r.Seg;
        bool Is(int i, string v) => s.Length > i && s[i].Equals(v, StringComparison.OrdinalIgnoreCase);

        // {scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions}[/{name}]
        for (int i = s.Length - 2; i >= 0; i--)
            if (Is(i, "providers") && Is(i + 1, "Microsoft.Authorization") && s.Length > i + 2)
            {
                await ArmRbac.Handle(r, i);
                return;
            }

        if (Is(0, "tenants") && s.Length == 1) { await ArmMeta.Tenants(r); return; }
        if (Is(0, "providers")) { await ArmHttp.Error(r.Http, 404, "InvalidResourceNamespace", $"The resource namespace '{(s.Length > 1 ? s[1] : "")}' is invalid."); return; }
        if (!Is(0, "subscriptions")) { await NotFound(r); return; }
        if (s.Length == 1) { await ArmMeta.ListSubscriptions(r); return; }

        var sub = r.World.FindSubscription(s[1]);
        if (sub is null)
        {
            await ArmHttp.Error(r.Http, 404, "SubscriptionNotFound", $"The subscription '{s[1]}' could not be found.");
            return;
        }
        if (s.Length == 2) { await ArmMeta.GetSubscription(r, sub); return; }
        if (Is(2, "resourcegroups"))
        {
            if (s.Length == 3) { await ArmMeta.ListResourceGroups(r, sub); return; }
            if (s.Length == 4) { await ArmMeta.ResourceGroup(r, sub, s[3]); return; }
            if (s.Length == 5 && Is(4, "resources")) { await ArmResources.ListGeneric(r, sub, s[3]); return; }
            if (Is(4, "providers") && s.Length >= 7) { await ArmResources.Handle(r, sub); return; }
            await NotFound(r);
            return;
        }
        if (Is(2, "resources") && s.Length == 3) { await ArmResources.ListGeneric(r, sub, null); return; }
        if (Is(2, "locations") && s.Length == 3) { await ArmMeta.ListLocations(r, sub); return; }
        if (Is(2, "providers"))
        {
            if (s.Length == 3) { await ArmMeta.ListProviders(r, sub); return; }
            if (s.Length == 4) { await ArmMeta.GetProvider(r, sub, s[3]); return; }
            if (s.Length == 5 && Is(4, "register")) { await ArmMeta.GetProvider(r, sub, s[3]); return; }
            if (Is(4, "locations") && s.Length == 8) { await ArmLro.Status(r, sub); return; }
            if (s.Length == 5 && Is(4, "checkNameAvailability")) { await ArmResources.CheckNameAvailability(r, sub, s[3]); return; }
            if (s.Length == 5) { await ArmResources.ListByType(r, sub, null, $"{s[3]}/{s[4]}"); return; }
        }
        await NotFound(r);
    }

    internal static Task NotFound(ArmRequest r) =>
        ArmHttp.Error(r.Http, 404, "NotFound", $"The requested path '{r.Path}' is not served by the sandbox.");
}
