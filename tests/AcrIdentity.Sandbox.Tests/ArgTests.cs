using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Tests;

public sealed class ArgTests(ArmFixture f) : IClassFixture<ArmFixture>
{
    readonly ArmHarness H = f.H;
    const string Path = "/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01";

    async Task<(int Status, JsonNode? Body, HttpResponseMessage Resp)> Query(string query, JsonObject? options = null, string caller = "operator",
        string path = Path)
    {
        var body = new JsonObject { ["subscriptions"] = new JsonArray(H.Sub), ["query"] = query };
        if (options is not null) body["options"] = options;
        return await H.SendAsync(HttpMethod.Post, path, body, caller);
    }

    static JsonArray Data(JsonNode? body) => body!["data"]!.AsArray();

    [Fact]
    public async Task Resources_table_lowercases_type_and_filters_with_where()
    {
        var (status, body, resp) = await Query("resources | where type =~ 'Microsoft.ContainerRegistry/registries' and name == 'myContainerRegistry' | project id, name, type, loginServer = properties.loginServer");
        Assert.Equal(200, status);
        var row = Data(body).Single()!;
        Assert.Equal("microsoft.containerregistry/registries", row["type"]!.GetValue<string>());
        Assert.Equal(H.RegistryId, row["id"]!.GetValue<string>());
        Assert.Equal(H.World.FindRegistry("myContainerRegistry")!.LoginServer, row["loginServer"]!.GetValue<string>());
        Assert.Equal("false", body!["resultTruncated"]!.GetValue<string>());
        Assert.Equal(1, body["totalRecords"]!.GetValue<int>());
        Assert.True(resp.Headers.Contains("x-ms-user-quota-remaining"));
        Assert.Matches(@"^\d\d:\d\d:\d\d$", resp.Headers.GetValues("x-ms-user-quota-resets-after").Single());
    }

    [Fact]
    public async Task Authorization_resources_find_assignments_by_principal()
    {
        var sp = H.World.AddServicePrincipal("arg-sp");
        var ra = H.World.AddRoleAssignment(H.RegistryId, "AcrPull", sp.ObjectId);
        var (status, body, _) = await Query(
            $"authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | where properties.principalId =~ '{sp.ObjectId.ToUpperInvariant()}' | project id, properties.scope, roleDefinitionId = tostring(properties.roleDefinitionId)");
        Assert.Equal(200, status);
        var row = Data(body).Single()!;
        Assert.Equal(ra.Id, row["id"]!.GetValue<string>());
        Assert.Equal(H.RegistryId, row["properties_scope"]!.GetValue<string>());
        Assert.EndsWith("7f951dda-4ed3-4680-a7ca-43fe172d538d", row["roleDefinitionId"]!.GetValue<string>());

        (status, body, _) = await Query("authorizationresources | where type == 'microsoft.authorization/roledefinitions' and properties.roleName in~ ('acrpull', 'ACRPUSH') | project name");
        Assert.Equal(2, Data(body).Count);
    }

    [Fact]
    public async Task Where_supports_string_operators_and_identity_paths()
    {
        var app = $"{H.RgId}/providers/Microsoft.Web/sites/argIdApp";
        await H.PutAsync(app + "?api-version=2024-11-01", new JsonObject { ["location"] = "westus", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" } });
        async Task<int> Count(string where)
        {
            var (status, body, _) = await Query($"resources | where {where} | project id");
            Assert.Equal(200, status);
            return Data(body).Count;
        }
        Assert.Equal(1, await Count("name startswith 'argid' and isnotempty(identity.principalId)"));
        Assert.Equal(1, await Count("name endswith 'IDAPP' and type has 'sites'"));
        Assert.Equal(1, await Count("tolower(name) == 'argidapp'"));
        Assert.Equal(0, await Count("name == 'argidapp'"));
        Assert.Equal(1, await Count("name contains 'gIdA' and not(name !~ 'argIdApp')"));
        Assert.True(await Count("type == 'microsoft.web/sites' and identity.type !in ('SystemAssigned') or isempty(identity)") >= 2);
        Assert.Equal(1, await Count("resourceGroup == 'myresourcegroup' and name in ('argIdApp', 'zzz')"));
    }

    [Fact]
    public async Task Summarize_order_take_and_extend()
    {
        var (status, body, _) = await Query("resources | summarize n = count() by type | order by type asc");
        Assert.Equal(200, status);
        var rows = Data(body);
        var types = rows.Select(r => r!["type"]!.GetValue<string>()).ToList();
        Assert.Equal(types.OrderBy(t => t, StringComparer.Ordinal), types);
        Assert.Contains(rows, r => r!["type"]!.GetValue<string>() == "microsoft.containerregistry/registries" && r["n"]!.GetValue<int>() >= 1);

        (status, body, _) = await Query("resources | extend lname = tolower(name) | where lname == 'mylinuxapp' | take 5 | project lname, kind");
        Assert.Equal("app,linux,container", Data(body).Single()!["kind"]!.GetValue<string>());

        (status, body, _) = await Query("resources | count");
        Assert.True(Data(body).Single()!["Count"]!.GetValue<int>() >= 9);
    }

    [Fact]
    public async Task Mv_expand_walks_user_assigned_identities()
    {
        var uami = (await H.PutAsync($"{H.RgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/argUami?api-version=2023-01-31",
            new JsonObject { ["location"] = "westus" })).Body!["id"]!.GetValue<string>();
        await H.PutAsync($"{H.RgId}/providers/Microsoft.Compute/virtualMachines/argVm?api-version=2024-11-01", new JsonObject
        {
            ["location"] = "westus",
            ["identity"] = new JsonObject { ["type"] = "UserAssigned", ["userAssignedIdentities"] = new JsonObject { [uami] = new JsonObject() } },
        });
        var (status, body, _) = await Query(
            "resources | where name == 'argVm' | mv-expand uami = identity.userAssignedIdentities | extend uamiId = tostring(bag_keys(uami)[0]) | project id, uamiId");
        Assert.True(status == 200, body?.ToJsonString());
        var row = Data(body).Single()!;
        Assert.Equal(uami, row["uamiId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Paging_uses_skip_tokens_when_id_is_projected_and_truncates_otherwise()
    {
        var (status, body, _) = await Query("resources | project id, name | order by id asc", new JsonObject { ["$top"] = 3 });
        Assert.Equal(200, status);
        Assert.Equal(3, body!["count"]!.GetValue<int>());
        var token = body["$skipToken"]!.GetValue<string>();
        var total = body["totalRecords"]!.GetValue<int>();
        var seen = Data(body).Select(r => r!["id"]!.GetValue<string>()).ToList();
        while (token is not null)
        {
            (_, body, _) = await Query("resources | project id, name | order by id asc", new JsonObject { ["$top"] = 3, ["$skipToken"] = token });
            seen.AddRange(Data(body).Select(r => r!["id"]!.GetValue<string>()));
            token = body!["$skipToken"]?.GetValue<string>();
        }
        Assert.Equal(total, seen.Count);
        Assert.Equal(total, seen.Distinct().Count());

        (_, body, _) = await Query("resources | project name", new JsonObject { ["$top"] = 2 });
        Assert.Equal("true", body!["resultTruncated"]!.GetValue<string>());
        Assert.Null(body["$skipToken"]);

        (_, body, _) = await Query("resources | project id", new JsonObject { ["$top"] = 2, ["resultFormat"] = "table" });
        Assert.Equal("id", body!["data"]!["columns"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(2, body["data"]!["rows"]!.AsArray().Count);
    }

    [Fact]
    public async Task Unsupported_syntax_is_400_with_a_parser_failure()
    {
        var (status, body, _) = await Query("resources | join kind=inner (resources) on id");
        Assert.Equal(400, status);
        Assert.Equal("BadRequest", ArmHarness.Code(body));
        var details = body!["error"]!["details"]!.AsArray();
        Assert.Equal("InvalidQuery", details[0]!["code"]!.GetValue<string>());
        Assert.Equal("ParserFailure", details[1]!["code"]!.GetValue<string>());
        Assert.Equal("join", details[1]!["token"]!.GetValue<string>());

        (status, body, _) = await Query("nosuchtable | take 1");
        Assert.Equal(400, status);

        (status, body, _) = await Query("resources", path: "/providers/Microsoft.ResourceGraph/resources?api-version=2001-01-01");
        Assert.Equal(400, status);
        Assert.Equal("NoRegisteredProviderFound", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Rows_are_limited_to_what_the_caller_may_read()
    {
        var (_, body, _) = await Query("resources | project id", caller: "noaccess-app");
        Assert.Empty(Data(body));
        (_, body, _) = await Query("resources | where type =~ 'microsoft.containerregistry/registries' | project id", caller: "reader-app");
        Assert.NotEmpty(Data(body));
    }

    [Fact]
    public async Task Quota_exhaustion_is_429_when_enabled()
    {
        var b = H.Host.Behaviours;
        b.ArgThrottlingEnabled = true;
        b.ArgQuotaPerWindow = 2;
        try
        {
            var statuses = new List<int>();
            for (int i = 0; i < 3; i++) statuses.Add((await Query("resources | take 1", caller: "grouped-app")).Status);
            Assert.Equal(new[] { 200, 200, 429 }, statuses);
        }
        finally { b.ArgThrottlingEnabled = false; b.ArgQuotaPerWindow = 15; }
    }
}
