using System.Text.Json.Nodes;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Targets;
using Azure.Core;

namespace AcrIdentity.Engine.Tests.Configure;

/// <summary>The pure decisions behind Enable: names, roles, IDs and the JSON the targets write.</summary>
public sealed class PlanUnitTests
{
    private const string Sub = "11111111-2222-3333-4444-555555555555";
    private static readonly string RegistryId = $"/subscriptions/{Sub}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/contoso";

    private static RegistryInfo Registry(bool abac = false) => new(new ResourceIdentifier(RegistryId), "contoso.azurecr.io", abac, "westus");

    [Fact]
    public void Version5_guid_matches_the_RFC_4122_reference_value()
    {
        // uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") in Python's standard library.
        var dns = new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        Assert.Equal(new Guid("886313e1-3b8a-5372-9b90-0c9aee199e5d"), RoleAssignmentName.NameBased(dns, "python.org"));
    }

    [Fact]
    public void Assignment_names_are_stable_case_insensitive_and_distinct_per_principal_role_and_condition()
    {
        string a = RoleAssignmentName.For(RegistryId, "AAAAAAAA-0000-0000-0000-000000000001", PullRoles.AcrPull);
        Assert.Equal(a, RoleAssignmentName.For(RegistryId.ToUpperInvariant(), "aaaaaaaa-0000-0000-0000-000000000001", PullRoles.AcrPull));
        Assert.NotEqual(a, RoleAssignmentName.For(RegistryId, "aaaaaaaa-0000-0000-0000-000000000002", PullRoles.AcrPull));
        Assert.NotEqual(a, RoleAssignmentName.For(RegistryId, "aaaaaaaa-0000-0000-0000-000000000001", PullRoles.RepositoryReader));
        Assert.NotEqual(a, RoleAssignmentName.For(RegistryId, "aaaaaaaa-0000-0000-0000-000000000001", PullRoles.AcrPull, "cond"));
        Assert.True(Guid.TryParse(a, out _));
    }

    [Fact]
    public void Legacy_registry_gets_AcrPull_and_refuses_a_repository()
    {
        PullRole role = PullRoles.Choose(Registry(), null);
        Assert.Equal(PullRoles.AcrPull, role.DefinitionGuid);
        Assert.Null(role.Condition);
        var ex = Assert.Throws<EngineException>(() => PullRoles.Choose(Registry(), "team/app"));
        Assert.Equal("RepositoryNeedsAbacMode", ex.Reason);
    }

    [Fact]
    public void Abac_registry_gets_Repository_Reader_with_an_exact_or_prefix_condition()
    {
        Assert.Equal(PullRoles.RepositoryReader, PullRoles.Choose(Registry(abac: true), null).DefinitionGuid);
        PullRole exact = PullRoles.Choose(Registry(abac: true), "team/app");
        Assert.Contains("@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'team/app'", exact.Condition);
        PullRole prefix = PullRoles.Choose(Registry(abac: true), "team/*");
        Assert.Equal("team/", prefix.Repository);
        Assert.Contains("StringStartsWithIgnoreCase 'team/'", prefix.Condition);
        Assert.Equal("InvalidRepositoryName", Assert.Throws<EngineException>(() => PullRoles.Choose(Registry(abac: true), "Team App")).Reason);
    }

    private static JsonObject Assignment(string role, string scope, string principal, string? condition = null) => new()
    {
        ["id"] = scope + "/providers/Microsoft.Authorization/roleAssignments/" + Guid.NewGuid(),
        ["properties"] = new JsonObject
        {
            ["roleDefinitionId"] = $"/subscriptions/{Sub}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            ["principalId"] = principal,
            ["scope"] = scope,
            ["condition"] = condition,
        },
    };

    [Fact]
    public void Existing_grants_exact_broader_inherited_and_unrelated_are_told_apart()
    {
        const string p = "aaaaaaaa-0000-0000-0000-000000000001";
        PullRole acrPull = PullRoles.Choose(Registry(), null);
        string rgScope = $"/subscriptions/{Sub}/resourceGroups/rg";

        Assert.True(PullRoles.FindExisting(new[] { Assignment(PullRoles.AcrPull, RegistryId, p) }, p, Registry(), acrPull)!.Exact);
        var contributor = PullRoles.FindExisting(new[] { Assignment(PullRoles.Contributor, rgScope, p) }, p, Registry(), acrPull);
        Assert.False(contributor!.Exact);
        Assert.Equal("Contributor", contributor.RoleName);
        // A sibling resource group that merely shares a prefix does not cover the registry.
        Assert.Null(PullRoles.FindExisting(new[] { Assignment(PullRoles.Owner, rgScope + "2", p) }, p, Registry(), acrPull));
        // Another principal's AcrPull, or a role that does not pull, is not a grant.
        Assert.Null(PullRoles.FindExisting(new[] { Assignment(PullRoles.AcrPull, RegistryId, "bbbbbbbb-0000-0000-0000-000000000001") }, p, Registry(), acrPull));
        Assert.Null(PullRoles.FindExisting(new[] { Assignment("acdd72a7-3385-48ef-bd42-f606fba81ae7", RegistryId, p) }, p, Registry(), acrPull));
        // In ABAC mode AcrPull and Owner grant nothing, and are named in a warning.
        PullRole reader = PullRoles.Choose(Registry(abac: true), "team/app");
        var legacy = new[] { Assignment(PullRoles.AcrPull, RegistryId, p), Assignment(PullRoles.Owner, $"/subscriptions/{Sub}", p) };
        Assert.Null(PullRoles.FindExisting(legacy, p, Registry(abac: true), reader));
        Assert.Equal(new[] { "AcrPull", "Owner" }, PullRoles.IgnoredInAbacMode(legacy, p, Registry(abac: true)).OrderBy(x => x));
        // A registry-wide Repository Reader covers one repository; another repository's condition does not.
        Assert.False(PullRoles.FindExisting(new[] { Assignment(PullRoles.RepositoryReader, RegistryId, p) }, p, Registry(abac: true), reader)!.Exact);
        Assert.Null(PullRoles.FindExisting(new[] { Assignment(PullRoles.RepositoryReader, RegistryId, p, PullRoles.Condition("other")) }, p, Registry(abac: true), reader));
        Assert.True(PullRoles.FindExisting(new[] { Assignment(PullRoles.RepositoryReader, RegistryId, p, PullRoles.Condition("team/app")) }, p, Registry(abac: true), reader)!.Exact);
    }

    [Theory]
    [InlineData("https://Contoso.AzureCR.io/", "contoso.azurecr.io")]
    [InlineData("CONTOSO.azurecr.io", "contoso.azurecr.io")]
    [InlineData("contoso.azurecr.io/team/app:1.0", "contoso.azurecr.io")]
    [InlineData("127.0.0.1:5001", "127.0.0.1:5001")]
    public void Login_servers_are_normalised(string input, string expected) =>
        Assert.Equal(expected, RegistryResolver.NormalizeLoginServer(input));

    [Theory]
    [InlineData("myapp")]
    [InlineData("/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Web/sites/app")]
    [InlineData("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg")]
    [InlineData("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Web/sites")]
    [InlineData("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Web/sites/app?x=1")]
    [InlineData("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Web/sites//app")]
    public void Malformed_target_ids_are_refused(string input)
    {
        Assert.Equal("InvalidResourceId", Assert.Throws<EngineException>(() => ArmIds.ParseTarget(input)).Reason);
    }

    [Fact]
    public void Identity_writes_keep_every_identity_already_there()
    {
        var resource = new JsonObject
        {
            ["identity"] = new JsonObject
            {
                ["type"] = "SystemAssigned, UserAssigned",
                ["principalId"] = "p0",
                ["userAssignedIdentities"] = new JsonObject { ["/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/old"] = new JsonObject() },
            },
        };
        var block = ManagedIdentityBlock.Parse(resource);
        string newId = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/new";
        JsonObject written = block.WithAdded(new PullIdentity(PullIdentityType.UserAssigned, newId), "SystemAssigned,UserAssigned");
        Assert.Equal("SystemAssigned,UserAssigned", (string?)written["type"]);
        var keys = written["userAssignedIdentities"]!.AsObject().Select(kv => kv.Key).ToList();
        Assert.Equal(2, keys.Count);
        Assert.Contains(newId, keys);
        // The same identity in other casing is not added twice.
        JsonObject again = block.WithAdded(new PullIdentity(PullIdentityType.UserAssigned, newId.Replace("/resourceGroups/", "/resourcegroups/").ToUpperInvariant().Replace("/SUBSCRIPTIONS/", "/subscriptions/")), "x");
        Assert.Equal(2, again["userAssignedIdentities"]!.AsObject().Count);
    }

    [Fact]
    public void Container_group_respec_switches_our_credential_and_keeps_the_rest()
    {
        string uami = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pull";
        var group = JsonNode.Parse("""
            {"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/g","name":"g","type":"Microsoft.ContainerInstance/containerGroups",
             "location":"westus","properties":{"provisioningState":"Succeeded","osType":"Linux","instanceView":{"state":"Running"},
             "containers":[{"name":"c","properties":{"image":"contoso.azurecr.io/app:1","instanceView":{"restartCount":0}}}],
             "imageRegistryCredentials":[{"server":"CONTOSO.azurecr.io","username":"contoso"},{"server":"other.azurecr.io","identity":"/x/other"}]}}
            """)!.AsObject();
        var target = new ContainerGroupTarget();
        var state = new TargetState(new ResourceIdentifier((string)group["id"]!), group);
        JsonObject spec = target.DesiredSpec(state, new PullIdentity(PullIdentityType.UserAssigned, uami), Registry());
        Assert.Null(spec["id"]);
        Assert.Null(spec["properties"]!["provisioningState"]);
        Assert.Null(spec["properties"]!["instanceView"]);
        Assert.Null(spec["properties"]!["containers"]![0]!["properties"]!["instanceView"]);
        Assert.Equal("contoso.azurecr.io/app:1", (string?)spec["properties"]!["containers"]![0]!["properties"]!["image"]);
        var creds = spec["properties"]!["imageRegistryCredentials"]!.AsArray();
        Assert.Equal(2, creds.Count);
        Assert.Equal(uami, (string?)creds[0]!["identity"]);
        Assert.Null(creds[0]!["username"]);
        Assert.Equal("/x/other", (string?)creds[1]!["identity"]);
        Assert.Equal("UserAssigned", (string?)spec["identity"]!["type"]);
    }
}
