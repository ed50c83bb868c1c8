using System.Diagnostics;
using System.Text.Json.Nodes;
using AcrIdentity.Engine.Audit;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox.Behaviour;
using Xunit.Abstractions;

namespace AcrIdentity.Engine.Tests.Audit;

/// <summary>
/// The audit's cost grows with Resource Graph pages only, never with one call per app: the same world at 1,000 and
/// 10,000 web apps (3 registries, each app with its own identity and a pull grant) differs in requests by exactly
/// the extra pages of the two big queries (role assignments and identity-bearing resources).
/// </summary>
public sealed class AuditScaleTests
{
    private const string Sub = "5ca1e000-1111-4a5b-9c8d-0123456789ab";
    private readonly ITestOutputHelper _out;

    public AuditScaleTests(ITestOutputHelper output)
    {
        _out = output;
    }

    // A principal deleted long ago that still holds Reader on a registry: every audit asks Entra ID about it.
    private const string DeletedPrincipal = "de1e7ed0-1111-4a5b-9c8d-0123456789ab";

    private static string Scenario(int apps)
    {
        var assignments = new JsonArray(new JsonObject
        {
            ["principal"] = DeletedPrincipal, ["role"] = "Reader", ["principalType"] = "ServicePrincipal",
            ["scope"] = $"/subscriptions/{Sub}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/scalereg0",
        });
        for (int i = 0; i < apps; i++)
        {
            string app = $"/subscriptions/{Sub}/resourceGroups/apps/providers/Microsoft.Web/sites/app{i:D5}";
            string registry = $"/subscriptions/{Sub}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/scalereg{i % 3}";
            assignments.Add(new JsonObject { ["principal"] = app, ["role"] = "AcrPull", ["scope"] = registry, ["principalType"] = "ServicePrincipal" });
        }
        var scenario = new JsonObject
        {
            ["subscriptions"] = new JsonArray(new JsonObject
            {
                ["id"] = Sub,
                ["resourceGroups"] = new JsonArray(
                    new JsonObject
                    {
                        ["name"] = "reg",
                        ["resources"] = new JsonArray(
                            new JsonObject { ["type"] = "registry", ["name"] = "scalereg0" },
                            new JsonObject { ["type"] = "registry", ["name"] = "scalereg1" },
                            new JsonObject { ["type"] = "registry", ["name"] = "scalereg2" }),
                    },
                    new JsonObject
                    {
                        ["name"] = "apps",
                        ["generate"] = new JsonArray(new JsonObject
                        {
                            ["type"] = "webApp", ["count"] = apps, ["namePrefix"] = "app",
                            ["template"] = new JsonObject { ["kind"] = "app,linux,container", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" } },
                        }),
                    }),
            }),
            ["roleAssignments"] = assignments,
        };
        return scenario.ToJsonString();
    }

    private sealed record Run(int Arm, int Arg, int Graph, int Pages, int Rows, long Millis, int AssignmentRows, int IdentityRows);

    private static int GraphCalls(IEnumerable<RequestLogEntry> log) => log.Count(e => e.PathAndQuery.Contains("/directoryObjects/getByIds", StringComparison.OrdinalIgnoreCase));

    private async Task<Run> AuditAsync(int apps)
    {
        await using var sbx = await AuditSandbox.StartAsync(Scenario(apps));
        var world = sbx.Host.World;
        int assignmentRows = world.RoleAssignments().Count;
        int identityRows = world.ListResources().Count(r => r["identity"] is JsonObject || ((string?)r["type"])!.EndsWith("userAssignedIdentities", StringComparison.OrdinalIgnoreCase));
        sbx.Host.Requests.Clear();
        var watch = Stopwatch.StartNew();

        var recording = new RecordingHost();
        var result = await new AccessAuditor(sbx.Context, recording).AuditAsync(new AuditRequest { Scope = "/subscriptions/" + Sub }, CancellationToken.None);

        watch.Stop();
        var log = sbx.Host.Requests.Entries;
        Assert.True(result.UsedResourceGraph);
        Assert.Equal(apps, result.Entries.Count(e => e.Role == "AcrPull"));
        // Every app's grant is attributed to that app.
        foreach (int i in new[] { 0, apps / 2, apps - 1 })
        {
            string app = $"/subscriptions/{Sub}/resourceGroups/apps/providers/Microsoft.Web/sites/app{i:D5}";
            var row = Assert.Single(result.Entries, e => e.Resources.Contains(app, StringComparer.OrdinalIgnoreCase));
            Assert.Equal($"scalereg{i % 3}", row.Registry);
            Assert.Equal("SystemAssigned", row.IdentityType);
        }
        Assert.True(Assert.Single(result.Entries, e => e.PrincipalId == DeletedPrincipal).IsOrphaned);
        var run = new Run(log.Count(e => e.Kind == RequestKind.Arm), log.Count(e => e.Kind == RequestKind.Arg), GraphCalls(log), result.ResourceGraphPages, result.Entries.Count,
            watch.ElapsedMilliseconds, assignmentRows, identityRows);
        // How much of the time was spent waiting for the sandbox's answers (the verbose line of every ARM call has its ms).
        long serverMs = recording.Verbose.Select(v => System.Text.RegularExpressions.Regex.Match(v, @"\((\d+) ms\)$")).Where(m => m.Success).Sum(m => long.Parse(m.Groups[1].Value));
        _out.WriteLine($"{apps} apps: {run}, of which in HTTP calls: {serverMs} ms");
        return run;
    }

    private static int Pages(int rows) => Math.Max(1, (rows + 999) / 1000);

    /// <summary>The growth law, small enough for every CI run.</summary>
    [Fact]
    public async Task Requests_grow_only_by_resource_graph_pages_from_1000_to_3000_apps() => await GrowthLawAsync(1000, 3000);

    /// <summary>The issue's size: 10,000 web apps and 3 registries (about a minute, most of it the sandbox answering 23 pages).</summary>
    [Fact]
    [Trait("Category", "Benchmark")]
    public async Task Requests_grow_only_by_resource_graph_pages_from_1000_to_10000_apps() => await GrowthLawAsync(1000, 10000);

    /// <summary>Principals no visible identity has are looked up 1,000 a call: 2,500 of them (users and deleted ones) take 3 calls.</summary>
    [Fact]
    public async Task Entra_lookups_are_batched_by_1000_principals()
    {
        const int users = 1200, deleted = 1300;
        string registry = $"/subscriptions/{Sub}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/scalereg0";
        var principals = new JsonArray();
        var assignments = new JsonArray();
        for (int i = 0; i < users; i++)
        {
            principals.Add(new JsonObject { ["kind"] = "user", ["name"] = $"user{i:D4}@sandbox.onmicrosoft.com" });
            assignments.Add(new JsonObject { ["principal"] = $"user{i:D4}@sandbox.onmicrosoft.com", ["role"] = "AcrPull", ["scope"] = registry, ["principalType"] = "User" });
        }
        for (int i = 0; i < deleted; i++)
        {
            assignments.Add(new JsonObject { ["principal"] = $"de1e7ed0-0000-4000-8000-{i:D12}", ["role"] = "AcrPull", ["scope"] = registry, ["principalType"] = "ServicePrincipal" });
        }
        var scenario = new JsonObject
        {
            ["principals"] = principals,
            ["subscriptions"] = new JsonArray(new JsonObject
            {
                ["id"] = Sub,
                ["resourceGroups"] = new JsonArray(new JsonObject { ["name"] = "reg", ["resources"] = new JsonArray(new JsonObject { ["type"] = "registry", ["name"] = "scalereg0" }) }),
            }),
            ["roleAssignments"] = assignments,
        };
        await using var sbx = await AuditSandbox.StartAsync(scenario.ToJsonString());
        sbx.Host.Requests.Clear();

        var result = await new AccessAuditor(sbx.Context, new RecordingHost()).AuditAsync(new AuditRequest { Registry = "scalereg0" }, CancellationToken.None);

        var lookups = sbx.Host.Requests.Entries.Where(e => e.PathAndQuery.Contains("/directoryObjects/getByIds", StringComparison.OrdinalIgnoreCase)).ToList();
        // 2,500 principals plus the operator (Owner of the subscription): ceil(2501 / 1000) = 3 calls, all answered.
        Assert.Equal((users + deleted + 1 + 999) / 1000, lookups.Count);
        Assert.All(lookups, e => Assert.Equal(200, e.Status));
        Assert.True(result.DirectoryChecked);
        var pulls = result.Entries.Where(e => e.Role == "AcrPull").ToList();
        Assert.Equal(users, pulls.Count(e => !e.IsOrphaned && e.PrincipalKind == "User" && e.PrincipalName!.StartsWith("user", StringComparison.Ordinal)));
        Assert.Equal(deleted, pulls.Count(e => e.IsOrphaned && e.PrincipalName == null));
    }

    private async Task GrowthLawAsync(int smallApps, int largeApps)
    {
        Run small = await AuditAsync(smallApps);
        Run large = await AuditAsync(largeApps);

        // ARM calls (no per-app reads) are the same; Resource Graph calls are the pages answered. Entra ID is asked
        // once, about the principals no app's identity has, however many apps there are.
        Assert.Equal(small.Arm, large.Arm);
        Assert.Equal(1, small.Graph);
        Assert.Equal(1, large.Graph);
        Assert.Equal(small.Pages, small.Arg);
        Assert.Equal(large.Pages, large.Arg);
        int extraPages = (Pages(large.AssignmentRows) - Pages(small.AssignmentRows)) + (Pages(large.IdentityRows) - Pages(small.IdentityRows));
        Assert.Equal(extraPages, large.Arg - small.Arg);
        Assert.True(extraPages >= 2 * ((largeApps - smallApps) / 1000), $"the bigger world should need more pages, got {extraPages}");
        // Registries, assignments, definitions, resources: a constant number of queries plus their pages.
        Assert.Equal(1 + Pages(large.AssignmentRows) + 1 + Pages(large.IdentityRows), large.Arg);
        Assert.True(large.Arm <= 3, $"ARM calls: {large.Arm}");
    }
}
