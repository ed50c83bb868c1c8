using System.Diagnostics;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Behaviour;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace AcrIdentity.Sandbox.Tests;

public sealed class ArmBehaviourTests(ArmFixture f) : IClassFixture<ArmFixture>
{
    readonly ArmHarness H = f.H;

    sealed class Options : ClientOptions { }

    HttpPipeline Pipeline(string principal = "operator")
    {
        var transport = new HttpClientTransport(new HttpClient(H.Handler, disposeHandler: false));
        var p = H.Principal(principal);
        var credential = new ClientSecretCredential(H.World.TenantId, p.AppId, p.ClientSecret, new ClientSecretCredentialOptions
        {
            AuthorityHost = new Uri(H.Arm + "/"), DisableInstanceDiscovery = true, Transport = transport,
        });
        var options = new Options { Transport = transport };
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        options.Retry.MaxRetries = 3;
        return HttpPipelineBuilder.Build(options, new BearerTokenAuthenticationPolicy(credential, "https://management.azure.com/.default"));
    }

    async Task<Response> Send(HttpPipeline pipeline, RequestMethod method, string path, JsonNode? body = null)
    {
        var message = pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(new Uri(H.Arm + path));
        if (body is not null)
        {
            message.Request.Headers.Add("Content-Type", "application/json");
            message.Request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
        }
        await pipeline.SendAsync(message, CancellationToken.None);
        return message.Response;
    }

    [Fact]
    public async Task Azure_core_pipeline_retries_an_injected_503_and_the_log_shows_both()
    {
        var rule = H.Host.Behaviours.Faults.Add(new FaultRule { Method = "GET", PathContains = "/registries/myContainerRegistry", Status = 503, Nth = 1, Count = 1 });
        try
        {
            var pipeline = Pipeline();
            var resp = await Send(pipeline, RequestMethod.Get, H.RegistryId + "?api-version=2025-11-01");
            Assert.Equal(200, resp.Status);
            Assert.Equal(1, rule.TimesFired);
            var log = H.Host.Requests.Where(e => e.PathAndQuery.Contains("/registries/myContainerRegistry", StringComparison.OrdinalIgnoreCase)).TakeLast(2).ToList();
            Assert.Equal(new[] { 503, 200 }, log.Select(e => e.Status));
            Assert.Equal(H.World.Operator.ObjectId, log[1].CallerObjectId);
            Assert.Equal(RequestKind.Arm, log[1].Kind);
        }
        finally { H.Host.Behaviours.Faults.Clear(); }
    }

    [Fact]
    public async Task Azure_core_pipeline_creates_a_role_assignment_and_sees_the_conflict()
    {
        var pipeline = Pipeline();
        var sp = H.World.AddServicePrincipal("pipeline-sp", createdAt: DateTimeOffset.UnixEpoch);
        JsonObject Body() => new()
        {
            ["properties"] = new JsonObject
            {
                ["roleDefinitionId"] = $"/subscriptions/{H.Sub}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d",
                ["principalId"] = sp.ObjectId, ["principalType"] = "ServicePrincipal",
            },
        };
        var first = await Send(pipeline, RequestMethod.Put, $"{H.RegistryId}/providers/Microsoft.Authorization/roleAssignments/{Guid.NewGuid()}?api-version=2022-04-01", Body());
        Assert.Equal(201, first.Status);
        var second = await Send(pipeline, RequestMethod.Put, $"{H.RegistryId}/providers/Microsoft.Authorization/roleAssignments/{Guid.NewGuid()}?api-version=2022-04-01", Body());
        Assert.Equal(409, second.Status);
        Assert.Equal("RoleAssignmentExists", JsonNode.Parse(second.Content.ToString())!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Throttling_answers_429_with_retry_after_per_principal()
    {
        var t = H.Host.Behaviours.Throttling;
        t.Enabled = true;
        t.ReadCapacity = 3;
        t.ReadRefillPerSecond = 0.2;
        try
        {
            var results = new List<(int Status, HttpResponseMessage Resp, JsonNode? Body)>();
            for (int i = 0; i < 4; i++)
            {
                var (status, body, resp) = await H.GetAsync($"{H.RgId}?api-version=2021-04-01", "grouped-app");
                results.Add((status, resp, body));
            }
            Assert.Equal(new[] { 403, 403, 403, 429 }, results.Select(r => r.Status)); // grouped-app has no read on the RG: 403 until throttled
            Assert.Equal(new[] { "2", "1", "0" }, results.Take(3).Select(r => r.Resp.Headers.GetValues("x-ms-ratelimit-remaining-subscription-reads").Single()));
            var throttled = results[3];
            Assert.Equal("SubscriptionRequestsThrottled", ArmHarness.Code(throttled.Body));
            Assert.True(int.Parse(throttled.Resp.Headers.GetValues("Retry-After").Single()) >= 1);
            Assert.Contains($"Number of read requests for subscription '{H.Sub}' exceeded the limit of '3'", ArmHarness.Message(throttled.Body));
            // Another principal has its own bucket; writes have their own bucket too.
            var (other, _, _) = await H.GetAsync($"{H.RgId}?api-version=2021-04-01", "reader-app");
            Assert.Equal(200, other);
        }
        finally { t.Enabled = false; t.ReadCapacity = 250; t.ReadRefillPerSecond = 25; t.Reset(); }
    }

    [Fact]
    public async Task Fault_fires_on_the_nth_matching_request_only()
    {
        H.Host.Behaviours.Faults.Add(new FaultRule { Method = "PUT", PathContains = "/sites/faulty", Status = 500, Nth = 2, Count = 1 });
        try
        {
            var path = $"{H.RgId}/providers/Microsoft.Web/sites/faulty?api-version=2024-11-01";
            var body = new JsonObject { ["location"] = "westus" };
            var statuses = new List<int>();
            for (int i = 0; i < 3; i++) statuses.Add((await H.PutAsync(path, body)).Status);
            Assert.Equal(new[] { 200, 500, 200 }, statuses);
            var (_, err, _) = await H.GetAsync(path);
            Assert.NotNull(err!["id"]);
        }
        finally { H.Host.Behaviours.Faults.Clear(); }
    }

    sealed class SlowFront(TaskCompletionSource ready) : World.IRegistryFrontEnd
    {
        public string AssignLoginServer(string registryId, string registryName) => "127.0.0.1:1";
        public Task WaitReadyAsync(string registryId) => ready.Task;
    }

    [Fact]
    public async Task New_registry_stays_creating_until_its_front_end_is_ready()
    {
        var real = H.Host.Context.RegistryFrontEnd;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        H.Host.Context.RegistryFrontEnd = new SlowFront(ready);
        try
        {
            var path = $"{H.RgId}/providers/Microsoft.ContainerRegistry/registries/slowRegistry?api-version=2025-11-01";
            var (status, body, resp) = await H.PutAsync(path, new JsonObject { ["location"] = "westus" });
            Assert.Equal(201, status);
            Assert.Equal("Creating", body!["properties"]!["provisioningState"]!.GetValue<string>());
            Assert.Equal("127.0.0.1:1", body["properties"]!["loginServer"]!.GetValue<string>());
            var op = resp.Headers.GetValues("Azure-AsyncOperation").Single();
            Assert.Equal("InProgress", (await H.GetAsync(op)).Body!["status"]!.GetValue<string>());
            ready.SetResult();
            await Task.Delay(100);
            Assert.Equal("Succeeded", (await H.GetAsync(op)).Body!["status"]!.GetValue<string>());
            Assert.Equal("Succeeded", (await H.GetAsync(path)).Body!["properties"]!["provisioningState"]!.GetValue<string>());
        }
        finally { H.Host.Context.RegistryFrontEnd = real; }
    }

    [Fact]
    public async Task Latency_delays_each_reply()
    {
        H.Host.Behaviours.Latency = TimeSpan.FromMilliseconds(300);
        try
        {
            await H.TokenAsync("reader-app");
            var sw = Stopwatch.StartNew();
            var (status, _, _) = await H.GetAsync($"/subscriptions/{H.Sub}?api-version=2022-12-01", "reader-app");
            Assert.Equal(200, status);
            Assert.True(sw.ElapsedMilliseconds >= 290, $"took {sw.ElapsedMilliseconds} ms");
        }
        finally { H.Host.Behaviours.Latency = TimeSpan.Zero; }
    }

    [Fact]
    public async Task Request_log_counts_writes_by_caller()
    {
        var reader = H.Principal("reader-app").ObjectId;
        await H.TokenAsync("reader-app");
        var before = H.Host.Requests.Count;
        await H.GetAsync(H.RegistryId + "?api-version=2025-11-01", "reader-app");
        await H.SendAsync(HttpMethod.Post, "/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01",
            new JsonObject { ["query"] = "resources | take 1" }, "reader-app");
        var mine = H.Host.Requests.Entries.Skip(before).Where(e => e.CallerObjectId == reader && e.Kind is RequestKind.Arm or RequestKind.Arg).ToList();
        Assert.Equal(2, mine.Count);
        Assert.DoesNotContain(mine, e => e.Kind == RequestKind.Arm && e.IsWrite);
        Assert.Contains(mine, e => e.Kind == RequestKind.Arg && e.Method == "POST");
        await H.PatchAsync(H.RegistryId + "?api-version=2025-11-01", new JsonObject { ["tags"] = new JsonObject() }, "reader-app");
        var write = H.Host.Requests.ArmWrites().Last();
        Assert.Equal((reader, 403, "PATCH"), (write.CallerObjectId, write.Status, write.Method));
    }

    [Fact]
    public async Task Container_app_lro_put_polls_async_operation_and_patch_returns_202_location()
    {
        H.Host.Behaviours.LroDurations["containerApps"] = TimeSpan.FromMilliseconds(500);
        try
        {
            var ca = $"{H.RgId}/providers/Microsoft.App/containerApps/lroApp?api-version=2025-07-01";
            var (status, body, resp) = await H.PutAsync(ca, new JsonObject { ["location"] = "westus", ["properties"] = new JsonObject() });
            Assert.Equal(201, status);
            Assert.Equal("Creating", body!["properties"]!["provisioningState"]!.GetValue<string>());
            Assert.True(resp.Headers.Contains("Azure-AsyncOperation"));
            await Task.Delay(600);
            (status, body, resp) = await H.PatchAsync(ca, new JsonObject { ["tags"] = new JsonObject { ["t"] = "1" } });
            Assert.Equal(202, status);
            var location = resp.Headers.Location!.ToString();
            (status, _, _) = await H.GetAsync(location);
            Assert.Equal(202, status);
            await Task.Delay(600);
            (status, body, _) = await H.GetAsync(location);
            Assert.Equal(200, status);
            Assert.Equal("1", body!["tags"]!["t"]!.GetValue<string>());
            Assert.Equal("Succeeded", body["properties"]!["provisioningState"]!.GetValue<string>());
        }
        finally { H.Host.Behaviours.LroDurations.Clear(); }
    }

}

[CollectionDefinition("ArmTiming", DisableParallelization = true)]
public sealed class ArmTimingCollection { }

/// <summary>Runs alone (after the parallel tests) so other sandboxes don't share the two cores.</summary>
[Collection("ArmTiming")]
public sealed class ArmStartupTests
{
    [Fact]
    public async Task Sandbox_with_the_seed_world_starts_and_answers_in_under_three_seconds()
    {
        var sw = Stopwatch.StartNew();
        await using var h = await ArmHarness.StartAsync();
        var (status, _, _) = await h.GetAsync(h.RegistryId + "?api-version=2025-11-01");
        Assert.Equal(200, status);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"start {h.StartTime.TotalMilliseconds:F0} ms, first answer after {sw.Elapsed.TotalMilliseconds:F0} ms");
    }
}
