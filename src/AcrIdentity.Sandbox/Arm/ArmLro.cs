using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>Long-running operations: Azure-AsyncOperation status and Location result URLs.</summary>
static class ArmLro
{
    public sealed record Operation(string Id, string ResourceId, DateTimeOffset Started, DateTimeOffset CompletesAt, bool Deleting,
        string StatusUrl, string ResultUrl)
    {
        /// <summary>When set, the operation also waits for this (e.g. a new registry's process).</summary>
        public Task? Ready { get; init; }
        /// <summary>When set, operationResults answers 200 with this once done (a POST action's result, e.g. runCommand).</summary>
        public Func<JsonNode?>? Result { get; init; }
    }

    static readonly ConcurrentDictionary<string, Operation> Ops = new(StringComparer.OrdinalIgnoreCase);

    public static Operation Start(ArmRequest r, string resourceId, string ns, string location, DateTimeOffset? busyUntil, bool deleting, Task? ready = null,
        Func<JsonNode?>? result = null)
    {
        var id = Guid.NewGuid().ToString();
        var sub = ResourceIds.SubscriptionOf(resourceId);
        var root = $"{r.BaseUrl}/subscriptions/{sub}/providers/{ns}/locations/{location}";
        var v = Uri.EscapeDataString(r.ApiVersion ?? "");
        var now = r.World.Now;
        var op = new Operation(id, resourceId, now, busyUntil is { } b && b != DateTimeOffset.MaxValue ? b : now, deleting,
            $"{root}/operationStatuses/{id}?api-version={v}", $"{root}/operationResults/{id}?api-version={v}") { Ready = ready, Result = result };
        Ops[id] = op;
        return op;
    }

    /// <summary>GET …/locations/{loc}/{operationStatuses|operationResults}/{id}.</summary>
    public static async Task Status(ArmRequest r, Subscription sub)
    {
        var kind = r.Seg[6];
        var id = r.Seg[7];
        if (!Ops.TryGetValue(id, out var op) || !string.Equals(ResourceIds.SubscriptionOf(op.ResourceId), sub.SubscriptionId, StringComparison.OrdinalIgnoreCase))
        {
            await ArmHttp.Error(r.Http, 404, "OperationNotFound", $"The operation '{id}' could not be found.");
            return;
        }
        var done = r.World.Now >= op.CompletesAt && (op.Ready is null || op.Ready.IsCompleted);
        var failed = op.Ready is { IsFaulted: true } or { IsCanceled: true };
        if (kind.Equals("operationResults", StringComparison.OrdinalIgnoreCase))
        {
            if (!done)
            {
                await ArmHttp.Json(r.Http, 202, null, new Dictionary<string, string> { ["Location"] = op.ResultUrl, ["Retry-After"] = "1" });
                return;
            }
            if (op.Result is not null) { await ArmHttp.Json(r.Http, 200, op.Result()); return; }
            var resource = op.Deleting ? null : r.World.GetResource(op.ResourceId);
            if (resource is null) await ArmHttp.Json(r.Http, 204, null);
            else await ArmHttp.Json(r.Http, 200, resource);
            return;
        }
        var status = new JsonObject
        {
            ["id"] = r.Path, ["name"] = id, ["status"] = !done ? "InProgress" : failed ? "Failed" : "Succeeded",
            ["startTime"] = ArmHttp.Iso(op.Started),
        };
        if (done && failed)
            status["error"] = new JsonObject { ["code"] = "InternalServerError", ["message"] = "The registry could not be started by the sandbox." };
        if (done) { status["endTime"] = ArmHttp.Iso(op.CompletesAt > op.Started ? op.CompletesAt : r.World.Now); status["percentComplete"] = 100; }
        var headers = done ? null : new Dictionary<string, string> { ["Retry-After"] = "1" };
        await ArmHttp.Json(r.Http, 200, status, headers);
    }
}
