using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Text.Json.Nodes;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox.Behaviour;
using Azure.Core.Diagnostics;

namespace AcrIdentity.Engine.Tests.Sandbox;

[Collection(SandboxCollection.Name)]
public sealed class ArmGatewayTests : IDisposable
{
    private readonly SandboxFixture _sbx;
    private readonly EnvScope _env = new();

    public ArmGatewayTests(SandboxFixture sandbox)
    {
        _sbx = sandbox;
        Reset();
    }

    public void Dispose()
    {
        Reset();
        _env.Dispose();
    }

    private void Reset() => _sbx.Host.Behaviours.Reset();

    private async Task<ModuleContext> ConnectAsync(EngineOptions? options = null, string? applicationId = null, string? secret = null)
    {
        var ctx = await Session.ConnectAsync(new ConnectRequest
        {
            Environment = _sbx.Host.EndpointsFile,
            ApplicationId = applicationId ?? _sbx.Host.Endpoints.Operator.ClientId,
            ClientSecret = SandboxFixture.Secure(secret ?? _sbx.Host.Endpoints.Operator.ClientSecret),
            SubscriptionId = _sbx.SubscriptionId,
            Options = options ?? Fast.Options(),
        }, new RecordingHost(), CancellationToken.None);
        _sbx.Host.Requests.Clear();
        return ctx;
    }

    private string Rg(string name) => $"/subscriptions/{_sbx.SubscriptionId}/resourceGroups/{name}";

    private static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Every_call_is_narrated_without_tokens_or_headers()
    {
        var ctx = await ConnectAsync();
        var host = new RecordingHost();
        var gateway = ctx.CreateGateway(host);
        string rg = Rg(Unique("narrate"));
        var put = await gateway.PutAsync(rg, new JsonObject { ["location"] = "westus" }, CancellationToken.None);
        Assert.True(put.Status is 200 or 201);
        var get = await gateway.GetAsync(rg.ToUpperInvariant().Replace("/SUBSCRIPTIONS/", "/subscriptions/"), CancellationToken.None);
        Assert.Equal(200, get.Status);
        Assert.Equal(rg.Split('/').Last(), (string?)get.Object!["name"]);

        var lines = host.Verbose.ToList();
        Assert.Contains(lines, l => l.StartsWith("ARM PUT " + rg, StringComparison.OrdinalIgnoreCase) && l.Contains("-> 20") && l.Contains(" ms)"));
        Assert.Contains(lines, l => l.StartsWith("ARM GET ", StringComparison.Ordinal) && l.Contains("-> 200"));
        // Pinned api-versions: no provider lookups (GET …/providers/{namespace}) were spent.
        Assert.DoesNotContain(_sbx.Host.Requests.Entries, e => System.Text.RegularExpressions.Regex.IsMatch(e.PathAndQuery, @"/providers/[^/?]+\?", System.Text.RegularExpressions.RegexOptions.IgnoreCase));
        string all = host.AllText();
        Assert.DoesNotContain("eyJ", all);
        Assert.DoesNotContain("Bearer", all, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Authorization", all, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Azure_core_event_logging_never_carries_a_token_or_secret()
    {
        var events = new List<string>();
        using (new AzureEventSourceListener((e, message) =>
        {
            lock (events) events.Add(message + " " + string.Join(" ", e.Payload ?? (IReadOnlyList<object?>)Array.Empty<object?>()));
        }, EventLevel.Verbose))
        {
            Session.Disconnect();
            var ctx = await ConnectAsync();
            await ctx.CreateGateway(new RecordingHost()).GetAsync("/subscriptions/" + _sbx.SubscriptionId + "/resourcegroups", CancellationToken.None);
        }
        string all;
        lock (events) all = string.Join("\n", events);
        Assert.Contains("/subscriptions/", all);                    // the listener did see the traffic
        Assert.DoesNotContain("eyJ", all);                           // no JWT, neither from ARM requests nor token replies
        Assert.DoesNotContain(_sbx.Host.Endpoints.Operator.ClientSecret, all);
    }

    [Fact]
    public async Task Throttled_reads_wait_for_retry_after_and_succeed()
    {
        var ctx = await ConnectAsync();
        var t = _sbx.Host.Behaviours.Throttling;
        t.ReadCapacity = 2;
        t.ReadRefillPerSecond = 1;
        t.Reset();
        t.Enabled = true;

        var host = new RecordingHost();
        var gateway = ctx.CreateGateway(host);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 5; i++)
        {
            var reply = await gateway.GetAsync("/subscriptions/" + _sbx.SubscriptionId, CancellationToken.None);
            Assert.Equal(200, reply.Status);
        }
        watch.Stop();

        var throttled = _sbx.Host.Requests.Where(e => e.Status == 429);
        Assert.NotEmpty(throttled);
        Assert.Contains(host.Verbose, l => l.Contains("-> 429") );
        Assert.Contains(host.Verbose, l => l.Contains("Retry-After 1 s"));
        // Back-off alone would be ~50 ms; the seconds come from honouring Retry-After.
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(throttled.Count * 0.9), $"{watch.Elapsed} for {throttled.Count} throttled replies");
    }

    [Fact]
    public async Task A_throttling_storm_beyond_the_retry_budget_surfaces_quickly_as_LimitsExceeded()
    {
        var options = Fast.Options();
        options.RetryBudget = TimeSpan.FromSeconds(3);
        var ctx = await ConnectAsync(options);
        var t = _sbx.Host.Behaviours.Throttling;
        t.ReadCapacity = 1;
        t.ReadRefillPerSecond = 0.05;   // Retry-After 20 s: more than the budget
        t.Reset();
        t.Enabled = true;

        var host = new RecordingHost();
        var gateway = ctx.CreateGateway(host);
        await gateway.GetAsync("/subscriptions/" + _sbx.SubscriptionId, CancellationToken.None);
        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<ArmRequestException>(() => gateway.GetAsync("/subscriptions/" + _sbx.SubscriptionId, CancellationToken.None));
        watch.Stop();

        Assert.Equal(429, ex.Status);
        Assert.Equal(EngineErrorCategory.LimitsExceeded, ex.Category);
        Assert.NotNull(ex.RecommendedAction);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), watch.Elapsed.ToString());
        Assert.Contains(host.Verbose, l => l.Contains("retry budget"));
    }

    [Fact]
    public async Task Resource_graph_queries_over_quota_are_retried_after_the_wait()
    {
        var ctx = await ConnectAsync();
        _sbx.Host.Behaviours.ArgQuotaPerWindow = 1;
        _sbx.Host.Behaviours.ArgThrottlingEnabled = true;
        var gateway = ctx.CreateGateway(new RecordingHost());
        JsonObject Query() => new()
        {
            ["subscriptions"] = new JsonArray(_sbx.SubscriptionId),
            ["query"] = "resourcecontainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups' | project id",
        };
        var first = await gateway.PostAsync("/providers/Microsoft.ResourceGraph/resources", Query(), CancellationToken.None);
        var second = await gateway.PostAsync("/providers/Microsoft.ResourceGraph/resources", Query(), CancellationToken.None);
        Assert.Equal(200, first.Status);
        Assert.Equal(200, second.Status);
        Assert.Contains(_sbx.Host.Requests.Entries, e => e.Method == "POST" && e.Status == 429);
        Assert.NotNull(second.Object!["data"]);
    }

    [Fact]
    public async Task Injected_server_errors_are_retried()
    {
        var ctx = await ConnectAsync();
        var rule = _sbx.Host.Behaviours.Faults.Add(new FaultRule { Method = "GET", PathContains = "/resourcegroups", Status = 503, Count = 2 });
        var reply = await ctx.CreateGateway(new RecordingHost()).GetAsync("/subscriptions/" + _sbx.SubscriptionId + "/resourcegroups", CancellationToken.None);
        Assert.Equal(200, reply.Status);
        Assert.Equal(2, rule.TimesFired);
        Assert.Equal(new[] { 503, 503, 200 }, _sbx.Host.Requests.Where(e => e.Method == "GET" && e.PathAndQuery.Contains("/resourcegroups", StringComparison.OrdinalIgnoreCase)).Select(e => e.Status));
    }

    [Fact]
    public async Task Persistent_server_errors_give_up_after_max_retries_with_the_arm_error()
    {
        var options = Fast.Options();
        options.MaxRetries = 2;
        var ctx = await ConnectAsync(options);
        _sbx.Host.Behaviours.Faults.Add(new FaultRule { Method = "GET", PathContains = "/resourcegroups", Status = 500, Code = "InternalServerError", Message = "boom", Count = 100 });
        var ex = await Assert.ThrowsAsync<ArmRequestException>(() =>
            ctx.CreateGateway(new RecordingHost()).GetAsync("/subscriptions/" + _sbx.SubscriptionId + "/resourcegroups", CancellationToken.None));
        Assert.Equal(500, ex.Status);
        Assert.Equal("InternalServerError", ex.Reason);
        Assert.Equal(EngineErrorCategory.ResourceUnavailable, ex.Category);
        Assert.Equal(3, _sbx.Host.Requests.Where(e => e.Status == 500).Count);
    }

    [Fact]
    public async Task An_absolute_url_from_arm_is_sent_as_is()
    {
        var ctx = await ConnectAsync();
        string url = _sbx.Host.Endpoints.ArmEndpoint.TrimEnd('/') + $"/subscriptions/{_sbx.SubscriptionId}?api-version=2022-12-01";
        var reply = await ctx.CreateGateway(new RecordingHost()).SendAsync("GET", url, null, null, CancellationToken.None);
        Assert.Equal(200, reply.Status);
        Assert.Equal(_sbx.SubscriptionId, (string?)reply.Object!["subscriptionId"]);
        Assert.Single(_sbx.Host.Requests.Where(e => e.PathAndQuery.Contains("api-version=2022-12-01") && !e.PathAndQuery.Contains("api-version=2022-12-01&")));
    }

    [Fact]
    public async Task Missing_resource_is_ResourceNotFound_or_null_from_TryGet()
    {
        var ctx = await ConnectAsync();
        var gateway = ctx.CreateGateway(new RecordingHost());
        string id = Rg(Unique("missing"));
        var ex = await Assert.ThrowsAsync<ArmRequestException>(() => gateway.GetAsync(id, CancellationToken.None));
        Assert.Equal(404, ex.Status);
        Assert.Equal(EngineErrorCategory.ObjectNotFound, ex.Category);
        Assert.Equal(id, ex.TargetId);
        Assert.Null(await gateway.TryGetAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task A_reader_writing_gets_AuthorizationFailed_with_the_scope_as_target()
    {
        var world = _sbx.Host.World;
        string secret = "s3cret-" + Guid.NewGuid().ToString("N");
        var reader = world.AddServicePrincipal(Unique("reader-"), secret: secret);
        world.AddRoleAssignment("/subscriptions/" + _sbx.SubscriptionId, "Reader", reader.ObjectId, "ServicePrincipal");
        var ctx = await ConnectAsync(applicationId: reader.AppId, secret: secret);
        string rg = Rg(Unique("denied"));
        var ex = await Assert.ThrowsAsync<ArmRequestException>(() =>
            ctx.CreateGateway(new RecordingHost()).PutAsync(rg, new JsonObject { ["location"] = "westus" }, CancellationToken.None));
        Assert.Equal(403, ex.Status);
        Assert.Equal("AuthorizationFailed", ex.Reason);
        Assert.Equal(EngineErrorCategory.PermissionDenied, ex.Category);
        Assert.Equal(rg, ex.TargetId);
        Assert.Contains(rg, ex.RecommendedAction);
    }

    [Fact]
    public async Task Duplicate_role_assignment_is_RoleAssignmentExists()
    {
        var ctx = await ConnectAsync();
        var gateway = ctx.CreateGateway(new RecordingHost());
        string rg = Rg(Unique("ra"));
        await gateway.PutAsync(rg, new JsonObject { ["location"] = "westus" }, CancellationToken.None);
        var sp = _sbx.Host.World.AddServicePrincipal(Unique("assignee-"));
        JsonObject Body() => new()
        {
            ["properties"] = new JsonObject
            {
                ["roleDefinitionId"] = $"/subscriptions/{_sbx.SubscriptionId}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d",
                ["principalId"] = sp.ObjectId,
                ["principalType"] = "ServicePrincipal",
            },
        };
        var first = await gateway.PutAsync($"{rg}/providers/Microsoft.Authorization/roleAssignments/{Guid.NewGuid()}", Body(), CancellationToken.None);
        Assert.Equal(201, first.Status);
        var ex = await Assert.ThrowsAsync<ArmRequestException>(() =>
            gateway.PutAsync($"{rg}/providers/Microsoft.Authorization/roleAssignments/{Guid.NewGuid()}", Body(), CancellationToken.None));
        Assert.Equal(409, ex.Status);
        Assert.Equal("RoleAssignmentExists", ex.Reason);
        Assert.Equal(EngineErrorCategory.ResourceExists, ex.Category);
    }

    [Fact]
    public async Task Long_running_put_is_polled_to_the_final_resource()
    {
        var ctx = await ConnectAsync();
        var host = new RecordingHost();
        var gateway = ctx.CreateGateway(host);
        string rg = Rg(Unique("lro"));
        await gateway.PutAsync(rg, new JsonObject { ["location"] = "westus" }, CancellationToken.None);
        _sbx.Host.Behaviours.LroDuration = TimeSpan.FromSeconds(1.5);
        _sbx.Host.Requests.Clear();

        string id = rg + "/providers/Microsoft.ContainerInstance/containerGroups/" + Unique("cg");
        var body = new JsonObject
        {
            ["location"] = "westus",
            ["properties"] = new JsonObject
            {
                ["osType"] = "Linux",
                ["containers"] = new JsonArray(new JsonObject
                {
                    ["name"] = "app",
                    ["properties"] = new JsonObject
                    {
                        ["image"] = "mcr.microsoft.com/hello:1",
                        ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["cpu"] = 1, ["memoryInGB"] = 1.5 } },
                    },
                }),
            },
        };
        var watch = Stopwatch.StartNew();
        var reply = await gateway.PutAsync(id, body, CancellationToken.None);
        watch.Stop();

        Assert.Equal(200, reply.Status);
        Assert.Equal("Succeeded", (string?)reply.Object!["properties"]!["provisioningState"]);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.2), watch.Elapsed.ToString());
        var log = _sbx.Host.Requests.Entries;
        Assert.Equal("PUT", log[0].Method);
        string trace = string.Join("\n", log.Select(e => $"{e.Method} {e.PathAndQuery} {e.Status}"));
        Assert.True(log.Count(e => e.PathAndQuery.Contains("/operationStatuses/", StringComparison.OrdinalIgnoreCase)) >= 2, trace);
        Assert.Equal("GET", log[^1].Method);                      // the final resource is read after the operation ends
        Assert.Contains(id.Split('/').Last(), log[^1].PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(host.Progress, p => p.Activity.Contains("PUT") && !p.Completed);
        Assert.Contains(host.Progress, p => p.Completed);
    }

    [Fact]
    public async Task Long_running_patch_answered_202_with_Location_is_polled_to_its_result()
    {
        var ctx = await ConnectAsync();
        var gateway = ctx.CreateGateway(new RecordingHost());
        string rg = Rg(Unique("lroloc"));
        await gateway.PutAsync(rg, new JsonObject { ["location"] = "westus" }, CancellationToken.None);
        string id = rg + "/providers/Microsoft.App/containerApps/" + Unique("app");
        await gateway.PutAsync(id, new JsonObject
        {
            ["location"] = "westus",
            ["properties"] = new JsonObject
            {
                ["configuration"] = new JsonObject(),
                ["template"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "hello:1" }) },
            },
        }, CancellationToken.None);
        _sbx.Host.Behaviours.LroDuration = TimeSpan.FromSeconds(2.5);   // longer than one Retry-After, so a poll sees 202
        _sbx.Host.Requests.Clear();

        var reply = await gateway.PatchAsync(id, new JsonObject { ["tags"] = new JsonObject { ["owner"] = "engine-test" } }, CancellationToken.None);

        Assert.Equal(200, reply.Status);
        Assert.Equal("engine-test", (string?)reply.Object!["tags"]!["owner"]);
        var log = _sbx.Host.Requests.Entries;
        string trace = string.Join("\n", log.Select(e => $"{e.Method} {e.PathAndQuery} {e.Status}"));
        Assert.True(log[0].Method == "PATCH" && log[0].Status == 202, trace);
        Assert.Contains(log, e => e.PathAndQuery.Contains("/operationResults/", StringComparison.OrdinalIgnoreCase) && e.Status == 202);
        Assert.Contains(log, e => e.PathAndQuery.Contains("/operationResults/", StringComparison.OrdinalIgnoreCase) && e.Status == 200);
    }

    [Fact]
    public async Task Long_running_delete_is_waited_for()
    {
        var ctx = await ConnectAsync();
        var gateway = ctx.CreateGateway(new RecordingHost());
        string rg = Rg(Unique("lrodel"));
        await gateway.PutAsync(rg, new JsonObject { ["location"] = "westus" }, CancellationToken.None);
        // Virtual machines delete asynchronously in Azure (and in the sandbox); container groups do not.
        string id = rg + "/providers/Microsoft.Compute/virtualMachines/" + Unique("vm");
        await gateway.PutAsync(id, new JsonObject
        {
            ["location"] = "westus",
            ["properties"] = new JsonObject { ["hardwareProfile"] = new JsonObject { ["vmSize"] = "Standard_B1s" } },
        }, CancellationToken.None);
        _sbx.Host.Requests.Clear();
        _sbx.Host.Behaviours.LroDuration = TimeSpan.FromSeconds(1);
        var watch = Stopwatch.StartNew();
        var reply = await gateway.DeleteAsync(id, CancellationToken.None);
        watch.Stop();
        Assert.True(reply.Status is 200 or 204, reply.ToString());
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.8), watch.Elapsed.ToString());
        Assert.Contains(_sbx.Host.Requests.Entries, e => e.Method == "DELETE" && e.Status == 202);
        Assert.Contains(_sbx.Host.Requests.Entries, e => e.PathAndQuery.Contains("/operationStatuses/", StringComparison.OrdinalIgnoreCase));
        Assert.Null(await gateway.TryGetAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Cancellation_reaches_the_http_call()
    {
        var ctx = await ConnectAsync();
        _sbx.Host.Behaviours.Latency = TimeSpan.FromSeconds(10);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ctx.CreateGateway(new RecordingHost()).GetAsync("/subscriptions/" + _sbx.SubscriptionId, cts.Token));
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), watch.Elapsed.ToString());
    }

    [Fact]
    public async Task Lists_follow_every_page()
    {
        var ctx = await ConnectAsync();
        var gateway = ctx.CreateGateway(new RecordingHost());
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < 3; i++)
        {
            string name = Unique("list");
            names.Add(name);
            await gateway.PutAsync(Rg(name), new JsonObject { ["location"] = "westus" }, CancellationToken.None);
        }
        var all = await gateway.ListAsync("/subscriptions/" + _sbx.SubscriptionId + "/resourcegroups", CancellationToken.None);
        Assert.Subset(all.Select(o => (string)o["name"]!).ToHashSet(StringComparer.OrdinalIgnoreCase), names);
    }
}
