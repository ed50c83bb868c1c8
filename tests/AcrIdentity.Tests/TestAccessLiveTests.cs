using System.Text.Json.Nodes;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// -Live against the sandbox's real registries: Test-AcrPullAccess runs in a fresh pwsh host with the target's
/// own managed-identity endpoint in its environment (as it would on the target), and its verdict is compared
/// with what skopeo does with that identity's registry credential.
/// </summary>
[Collection(TestAccessCollection.Name)]
public sealed class TestAccessLiveTests
{
    private readonly TestAccessSandbox _s;

    public TestAccessLiveTests(TestAccessSandbox sandbox) => _s = sandbox;

    private const string Script = """
        $ErrorActionPreference = 'Stop'
        Import-Module $env:T_MANIFEST
        $secret = [System.Security.SecureString]::new(); foreach ($ch in $env:T_SECRET.ToCharArray()) { $secret.AppendChar($ch) }
        Connect-AcrIdentity -Environment $env:T_ENDPOINTS -ApplicationId $env:T_APP -ClientSecret $secret -Subscription $env:T_SUB | Out-Null
        $r = Test-AcrPullAccess -ResourceId $env:T_TARGET -Live -Verbose
        'RESULT:' + [System.Text.Json.JsonSerializer]::Serialize($r.PSObject.BaseObject, $r.PSObject.BaseObject.GetType(), [System.Text.Json.JsonSerializerOptions]::new())
        """;

    private JsonObject RunTest(string target, IDictionary<string, string?> identityEnv)
    {
        var env = new Dictionary<string, string?>(identityEnv)
        {
            ["T_MANIFEST"] = Repo.ModuleManifest, ["T_ENDPOINTS"] = _s.Host.EndpointsFile, ["T_APP"] = _s.Host.Endpoints.Operator.ClientId,
            ["T_SECRET"] = _s.Host.Endpoints.Operator.ClientSecret, ["T_SUB"] = _s.SubscriptionId, ["T_TARGET"] = target,
        };
        var (exit, stdout, stderr) = _s.RunChild(Script, env);
        string? line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT:", StringComparison.Ordinal));
        Assert.True(line != null, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.DoesNotContain("eyJ", stdout + stderr);
        return (JsonObject)JsonNode.Parse(line!["RESULT:".Length..])!;
    }

    private static JsonObject Check(JsonObject report, string id) =>
        report["Checks"]!.AsArray().OfType<JsonObject>().Single(c => (string?)c["Id"] == id);

    private static string Dump(JsonObject report) =>
        string.Join("\n", report["Checks"]!.AsArray().OfType<JsonObject>().Select(c => $"{c["Id"]}: {c["Result"]} — {c["Message"]} | {c["Fix"]}"));

    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { "liveHealthy", "" },
        new object[] { "liveNoRole", "PullRole" },
        new object[] { "liveCustomNoPull", "PullRole" },
        new object[] { "liveAbacAcrPull", "RoleMatchesRegistryMode" },
        new object[] { "liveAbacOtherRepo", "RepositoryCondition" },
        new object[] { "liveAbacRightRepo", "" },
        new object[] { "liveClosed", "NetworkAccess" },
        new object[] { "liveDeny", "NetworkAccess" },
        new object[] { "liveMissingTag", "LivePull" },
        new object[] { "liveOwner", "" },
        new object[] { "liveInherited", "" },
        new object[] { "liveLegacyConditioned", "RoleMatchesRegistryMode" },
        new object[] { "liveConfigOff", "PullConfiguration" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Live_agrees_with_a_real_skopeo_pull(string app, string expectedFailure)
    {
        var c = TestAccessSandbox.LiveCases.Single(x => x.App == app);
        string id = _s.AppId(app);
        JsonObject report = RunTest(id, _s.RunAsEnvironment(id));

        // The static checks: exactly the expected failure (besides the live one where the pull itself fails).
        var failed = report["Failed"]!.AsArray().Select(n => (string)n!).ToList();
        var staticFailed = failed.Where(f => f != "LivePull").ToList();
        var expectedStatic = expectedFailure is "" or "LivePull" ? new List<string>() : new List<string> { expectedFailure };
        Assert.True(expectedStatic.SequenceEqual(staticFailed), $"{app}: expected [{string.Join(",", expectedStatic)}], got [{string.Join(",", failed)}]\n{Dump(report)}");

        JsonObject live = Check(report, "LivePull");
        Assert.NotEqual("Skipped", (string?)live["Result"]);
        var (pulled, output) = await _s.SkopeoPullAsync(id, _s.LoginServer(c.Registry), "aci-helloworld", c.Tag);
        Assert.True(pulled == ((string?)live["Result"] == "Pass"), $"{app}: skopeo pulled={pulled}, -Live said {live["Result"]}: {live["Message"]}\nskopeo: {output}\n{Dump(report)}");
        if (!pulled) Assert.False(string.IsNullOrWhiteSpace((string?)live["Fix"]), Dump(report));
        // The failed step is named, with the registry's answer.
        string message = (string?)live["Message"] ?? "";
        string? step = app switch
        {
            "liveMissingTag" => "answered 404",
            "liveClosed" or "liveDeny" => "failed at the registry's network rules",
            _ when !pulled => "failed at /oauth2/token (scope repository:aci-helloworld:pull)",
            _ => "HEAD manifest aci-helloworld:v1 200",
        };
        Assert.True(message.Contains(step, StringComparison.Ordinal), $"{app}: '{step}' not in: {message}");
    }

    [Fact]
    public async Task Live_with_a_user_assigned_identity_selects_it_by_client_id()
    {
        string app = _s.Id("live", "Microsoft.Web/sites", "liveUamiApp");
        string uami = _s.Id("live", "Microsoft.ManagedIdentity/userAssignedIdentities", "liveUami");
        var enabled = _s.Ps.Run("Enable-AcrManagedIdentityPull -ResourceId $args[0] -Registry liveacr -UserAssignedIdentity $args[1]", app, uami);
        Assert.True(enabled.Errors.Count == 0, enabled.ToString());
        string clientId = (string)_s.Host.World.GetResource(uami)!["properties"]!["clientId"]!;

        JsonObject report = RunTest(app, _s.RunAsEnvironment(app));
        Assert.True((bool)report["CanPull"]!, Dump(report));
        JsonObject live = Check(report, "LivePull");
        Assert.Equal("Pass", (string?)live["Result"]);
        Assert.Contains("liveUami", (string?)live["Message"]);
        var (pulled, output) = await _s.SkopeoPullAsync(app, _s.LoginServer("liveacr"), "aci-helloworld", "v1", clientId);
        Assert.True(pulled, output);
    }

    [Fact]
    public void Live_is_skipped_when_this_environment_is_another_identity_or_none()
    {
        string target = _s.AppId("liveHealthy");
        JsonObject asOther = RunTest(target, _s.RunAsEnvironment(_s.AppId("liveNoRole")));
        JsonObject live = Check(asOther, "LivePull");
        Assert.Equal("Skipped", (string?)live["Result"]);
        Assert.Contains("not system-assigned identity", (string?)live["Message"]);
        Assert.True((bool)asOther["CanPull"]!, Dump(asOther));

        JsonObject none = RunTest(target, new Dictionary<string, string?>());
        Assert.Equal("Skipped", (string?)Check(none, "LivePull")["Result"]);
    }
}
