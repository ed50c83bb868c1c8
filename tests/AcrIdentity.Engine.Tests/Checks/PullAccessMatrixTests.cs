using System.Text.Json.Nodes;
using AcrIdentity.Engine.Checks;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Tests.Configure;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Engine.Tests.Checks;

/// <summary>
/// The matrix of broken setups (issue 5): each is a realistic user mistake built in the sandbox through ARM,
/// and each must fail exactly one check — the right one — with the right fix; the healthy setups pass.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class PullAccessMatrixTests
{
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    private const string Owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    private const string RepositoryReader = "b93aa761-3e63-49ed-ac28-beffa264f7ac";
    private readonly SandboxFixture _sbx;

    public PullAccessMatrixTests(SandboxFixture sandbox) => _sbx = sandbox;

    private Task<EnableWorld> WorldAsync() => EnableWorld.CreateAsync(_sbx.Host);

    private static async Task<PullAccessReport> TestAsync(EnableWorld w, PullAccessRequest request, RecordingHost? host = null)
    {
        var reports = await new PullAccessTester(w.Context, host ?? new RecordingHost()).TestAsync(request, CancellationToken.None);
        return Assert.Single(reports);
    }

    private static string Dump(PullAccessReport r) => string.Join("\n", r.Checks.Select(c => $"{c.Id}: {c.Result} — {c.Message} | fix: {c.Fix}"));

    /// <summary>Exactly one failed check, with this Id, whose fix says <paramref name="fixContains"/>.</summary>
    private static PullCheck AssertFailsOnly(PullAccessReport r, string id, params string[] fixContains)
    {
        var failed = r.Checks.Where(c => c.Result == CheckResult.Fail).Select(c => c.Id).ToList();
        Assert.True(failed.Count == 1 && failed[0] == id, $"expected only {id} to fail, got [{string.Join(", ", failed)}]\n{Dump(r)}");
        Assert.False(r.CanPull);
        PullCheck check = r[id]!;
        Assert.False(string.IsNullOrWhiteSpace(check.Fix), Dump(r));
        foreach (string s in fixContains) Assert.True(check.Fix!.Contains(s, StringComparison.OrdinalIgnoreCase), $"fix of {id} lacks '{s}': {check.Fix}");
        return check;
    }

    private static void AssertHealthy(PullAccessReport r)
    {
        Assert.True(r.CanPull, Dump(r));
        Assert.DoesNotContain(r.Checks, c => c.Result == CheckResult.Fail);
        Assert.Equal(PullAccessTester.CheckIds, r.Checks.Select(c => c.Id));
    }

    private async Task<(string Id, string Login)> RegistryAsync(EnableWorld w, string properties = "")
    {
        string name = EnableWorld.Unique("acr");
        var reg = await w.PutAsync($"{w.GroupId}/providers/Microsoft.ContainerRegistry/registries/{name}",
            $$$$"""{"location":"westus","sku":{"name":"Premium"},"properties":{ {{{{properties}}}} }}""");
        return ((string)reg["id"]!, (string)reg["properties"]!["loginServer"]!);
    }

    /// <summary>A Linux web app with its system identity, acrUseManagedIdentityCreds on, and AcrPull: the healthy seed-000 state.</summary>
    private async Task<(string App, string Principal)> HealthyWebAppAsync(EnableWorld w, string login, string registryId, string role = AcrPull, string image = "aci-helloworld:v1")
    {
        string app = await w.WebAppAsync(login, identityJson: """{"type":"SystemAssigned"}""");
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse($$$$"""{"properties":{"acrUseManagedIdentityCreds":true,"linuxFxVersion":"DOCKER|{{{{login}}}}/{{{{image}}}}"}}""")!, CancellationToken.None);
        string principal = (string)(await w.GetAsync(app))["identity"]!["principalId"]!;
        await w.AssignAsync(registryId, role, principal);
        return (app, principal);
    }

    [Fact]
    public async Task Healthy_web_app_passes_every_check()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var (app, principal) = await HealthyWebAppAsync(w, login, reg);
        var r = await TestAsync(w, new PullAccessRequest { ResourceId = app });
        AssertHealthy(r);
        Assert.Equal(reg, r.Registry, ignoreCase: true);
        Assert.Equal(principal, r.PrincipalId);
        Assert.Equal("aci-helloworld", r.Repository);
        Assert.Equal(CheckResult.Pass, r["PullRole"]!.Result);
        Assert.Equal(CheckResult.Skipped, r["LivePull"]!.Result);
        Assert.Contains("-Live", r["LivePull"]!.Message);
    }

    [Fact]
    public async Task Fault01_acrUseManagedIdentityCreds_off()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var (app, _) = await HealthyWebAppAsync(w, login, reg);
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse("""{"properties":{"acrUseManagedIdentityCreds":false}}""")!, CancellationToken.None);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "PullConfiguration", "Enable-AcrManagedIdentityPull", app);
        Assert.Contains("acrUseManagedIdentityCreds is false", c.Message);
    }

    [Fact]
    public async Task Fault02_user_assigned_identity_attached_but_client_id_missing()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var mi = await w.IdentityAsync();
        string app = await w.WebAppAsync(login, identityJson: $$$$"""{"type":"UserAssigned","userAssignedIdentities":{"{{{{mi.Id}}}}":{}}}""");
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse("""{"properties":{"acrUseManagedIdentityCreds":true}}""")!, CancellationToken.None);
        await w.AssignAsync(reg, AcrPull, mi.PrincipalId);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "ConfiguredIdentity", mi.ClientId, mi.Id);
        Assert.Contains("acrUserManagedIdentityID is empty", c.Message);
    }

    [Fact]
    public async Task Fault03_principal_id_where_the_client_id_belongs()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var mi = await w.IdentityAsync();
        string app = await w.WebAppAsync(login, identityJson: $$$$"""{"type":"UserAssigned","userAssignedIdentities":{"{{{{mi.Id}}}}":{}}}""");
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse($$$$"""{"properties":{"acrUseManagedIdentityCreds":true,"acrUserManagedIdentityID":"{{{{mi.PrincipalId}}}}"}}""")!, CancellationToken.None);
        await w.AssignAsync(reg, AcrPull, mi.PrincipalId);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "ConfiguredIdentity", mi.ClientId);
        Assert.Contains("principal (object) ID", c.Message);
    }

    [Fact]
    public async Task Fault04_client_id_of_an_identity_that_is_not_attached()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var attached = await w.IdentityAsync();
        var other = await w.IdentityAsync();
        string app = await w.WebAppAsync(login, identityJson: $$$$"""{"type":"UserAssigned","userAssignedIdentities":{"{{{{attached.Id}}}}":{}}}""");
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse($$$$"""{"properties":{"acrUseManagedIdentityCreds":true,"acrUserManagedIdentityID":"{{{{other.ClientId}}}}"}}""")!, CancellationToken.None);
        await w.AssignAsync(reg, AcrPull, other.PrincipalId);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "ConfiguredIdentity", other.Id);
        Assert.Contains("not attached", c.Message);
    }

    [Fact]
    public async Task Fault05_no_managed_identity_on_the_app()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        string app = await w.WebAppAsync(login);
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse("""{"properties":{"acrUseManagedIdentityCreds":true}}""")!, CancellationToken.None);
        AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "IdentityAttached", $"Enable-AcrManagedIdentityPull -ResourceId '{app}'");
    }

    [Fact]
    public async Task Fault06_no_role_assignment()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        string app = await w.WebAppAsync(login, identityJson: """{"type":"SystemAssigned"}""");
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse("""{"properties":{"acrUseManagedIdentityCreds":true}}""")!, CancellationToken.None);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "PullRole", "AcrPull", $"Enable-AcrManagedIdentityPull -ResourceId '{app}' -Registry '{reg}'");
        Assert.Contains("holds no role", c.Message);
    }

    [Fact]
    public async Task Fault07_custom_role_whose_notActions_remove_pull()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        string roleGuid = Guid.NewGuid().ToString();
        _sbx.Host.World.PutRoleDefinition(new RoleDefinition
        {
            Name = roleGuid, RoleName = "Registry operator " + roleGuid[..6], RoleType = "CustomRole", Description = "all but pull",
            AssignableScopes = ["/subscriptions/" + w.SubscriptionId],
            Permissions = [new Permission(["Microsoft.ContainerRegistry/*"], ["Microsoft.ContainerRegistry/registries/pull/*"], [], [])],
            CreatedOn = DateTimeOffset.UtcNow, UpdatedOn = DateTimeOffset.UtcNow,
        });
        var (app, _) = await HealthyWebAppAsync(w, login, reg, role: roleGuid);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "PullRole", "AcrPull");
        Assert.Contains("custom role", c.Message);
        Assert.Contains("notActions", c.Message);
    }

    [Fact]
    public async Task Fault08_abac_registry_with_only_AcrPull()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w, "\"roleAssignmentMode\":\"AbacRepositoryPermissions\"");
        var (app, _) = await HealthyWebAppAsync(w, login, reg);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "RoleMatchesRegistryMode", "Container Registry Repository Reader", "-Repository 'aci-helloworld'");
        Assert.Contains("ABAC mode", c.Message);
        Assert.Equal(CheckResult.Pass, (await TestAsync(w, new PullAccessRequest { ResourceId = app }))["PullRole"]!.Result);
    }

    [Fact]
    public async Task Fault09_abac_condition_for_another_repository()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w, "\"roleAssignmentMode\":\"AbacRepositoryPermissions\"");
        string app = await w.WebAppAsync(login, identityJson: """{"type":"SystemAssigned"}""");
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse("""{"properties":{"acrUseManagedIdentityCreds":true}}""")!, CancellationToken.None);
        string principal = (string)(await w.GetAsync(app))["identity"]!["principalId"]!;
        _sbx.Host.World.AddRoleAssignment(reg, RepositoryReader, principal, "ServicePrincipal", condition: PullRoles.Condition("hello-world"));
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "RepositoryCondition", "-Repository 'aci-helloworld'");
        Assert.Contains("'hello-world'", c.Message);
        // The same grant covers the repository it names.
        AssertHealthy(await TestAsync(w, new PullAccessRequest { ResourceId = app, Image = "hello-world:v1" }));
    }

    [Fact]
    public async Task Fault10_aks_role_on_the_control_plane_identity()
    {
        var w = await WorldAsync();
        var (reg, _) = await RegistryAsync(w);
        string aks = await w.AksAsync();
        var cluster = await w.GetAsync(aks);
        string controlPlane = (string)cluster["identity"]!["principalId"]!;
        string kubelet = (string)cluster["properties"]!["identityProfile"]!["kubeletidentity"]!["objectId"]!;
        await w.AssignAsync(reg, AcrPull, controlPlane);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = aks, Registry = reg }), "KubeletIdentity", $"Enable-AcrManagedIdentityPull -ResourceId '{aks}'", controlPlane);
        Assert.Contains(kubelet, c.Message);
        Assert.Equal(CheckResult.Skipped, (await TestAsync(w, new PullAccessRequest { ResourceId = aks, Registry = reg }))["PullRole"]!.Result);
    }

    [Fact]
    public async Task Fault11_identity_deleted_and_recreated_leaves_an_orphaned_assignment()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        string name = EnableWorld.Unique("myACRId");
        var old = await w.IdentityAsync(name);
        await w.AssignAsync(reg, AcrPull, old.PrincipalId);
        await w.Arm.DeleteAsync(old.Id, CancellationToken.None);
        var fresh = await w.IdentityAsync(name);
        Assert.NotEqual(old.PrincipalId, fresh.PrincipalId);
        var g = await w.ContainerGroupAsync(login, extraCredentials: $$$$"""{"server":"{{{{login}}}}","identity":"{{{{fresh.Id}}}}"}""");
        await w.Arm.PatchAsync(g, JsonNode.Parse("{}")!, CancellationToken.None).ContinueWith(_ => { });
        await AttachAsync(w, g, fresh.Id);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = g }), "OrphanedAssignments", "Remove-AzRoleAssignment", old.PrincipalId, "Enable-AcrManagedIdentityPull");
        Assert.Contains(old.PrincipalId, c.Message);
        Assert.Equal(CheckResult.Skipped, (await TestAsync(w, new PullAccessRequest { ResourceId = g }))["PullRole"]!.Result);
    }

    [Fact]
    public async Task An_app_registration_with_pull_is_no_orphan_and_without_the_directory_it_is_a_warning()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var (app, _) = await HealthyWebAppAsync(w, login, reg);
        // A CI pipeline's service principal: no managed identity has it, but Entra ID does.
        var pipeline = _sbx.Host.World.AddServicePrincipal(EnableWorld.Unique("ci-pipeline"));
        await w.AssignAsync(reg, AcrPull, pipeline.ObjectId);

        var exact = await TestAsync(w, new PullAccessRequest { ResourceId = app });
        AssertHealthy(exact);
        Assert.Equal(CheckResult.Pass, exact["OrphanedAssignments"]!.Result);

        _sbx.Host.Behaviours.GraphDirectoryReadDenied = ["*"];
        try
        {
            var host = new RecordingHost();
            var guessed = await TestAsync(w, new PullAccessRequest { ResourceId = app }, host);
            Assert.True(guessed.CanPull, Dump(guessed));
            PullCheck c = guessed["OrphanedAssignments"]!;
            Assert.Equal(CheckResult.Warning, c.Result);
            Assert.Contains(pipeline.ObjectId, c.Message);
            Assert.Contains("unless they are applications", c.Message);
        }
        finally
        {
            _sbx.Host.Behaviours.GraphDirectoryReadDenied = null;
        }
    }

    [Fact]
    public async Task A_pipeline_of_targets_resolves_the_registry_and_asks_entra_once()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        string name = reg.Split('/').Last();
        var apps = new List<string>();
        for (int i = 0; i < 3; i++) apps.Add((await HealthyWebAppAsync(w, login, reg)).App);
        var pipeline = _sbx.Host.World.AddServicePrincipal(EnableWorld.Unique("ci-pipeline"));
        await w.AssignAsync(reg, AcrPull, pipeline.ObjectId);

        async Task<(int RegistryLists, int Lookups)> RunAsync(PullAccessCache? cache)
        {
            _sbx.Host.Requests.Clear();
            foreach (string app in apps)
            {
                // A new tester per input, as the cmdlet makes one per pipeline record.
                var r = Assert.Single(await new PullAccessTester(w.Context, new RecordingHost(), cache)
                    .TestAsync(new PullAccessRequest { ResourceId = app, Registry = name }, CancellationToken.None));
                Assert.True(r.CanPull, Dump(r));
                Assert.Equal(CheckResult.Pass, r["OrphanedAssignments"]!.Result);
            }
            var log = _sbx.Host.Requests.Entries;
            return (log.Count(e => e.Method == "GET" && e.PathAndQuery.Contains("/providers/Microsoft.ContainerRegistry/registries?", StringComparison.OrdinalIgnoreCase)),
                    log.Count(e => e.PathAndQuery.Contains("/directoryObjects/getByIds", StringComparison.Ordinal)));
        }

        var alone = await RunAsync(null);
        var shared = await RunAsync(new PullAccessCache());
        Assert.Equal((3, 3), alone);
        Assert.Equal((1, 1), shared);
    }

    /// <summary>Re-PUTs a container group with a user-assigned identity attached (its PATCH takes only tags).</summary>
    private static async Task AttachAsync(EnableWorld w, string groupId, string identityId)
    {
        var g = await w.GetAsync(groupId);
        var spec = new JsonObject
        {
            ["location"] = g["location"]!.DeepClone(),
            ["identity"] = new JsonObject { ["type"] = "UserAssigned", ["userAssignedIdentities"] = new JsonObject { [identityId] = new JsonObject() } },
            ["properties"] = g["properties"]!.DeepClone(),
        };
        var props = (JsonObject)spec["properties"]!;
        props.Remove("provisioningState");
        props.Remove("instanceView");
        await w.Arm.PutAsync(groupId, spec, CancellationToken.None);
    }

    [Fact]
    public async Task Fault12_image_from_another_registry()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var (_, otherLogin) = await RegistryAsync(w);
        var (app, _) = await HealthyWebAppAsync(w, login, reg);
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse($$$$"""{"properties":{"linuxFxVersion":"DOCKER|{{{{otherLogin}}}}/aci-helloworld:v1"}}""")!, CancellationToken.None);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app, Registry = reg }), "ImageRegistry", $"{login}/aci-helloworld:v1");
        Assert.Contains(otherLogin, c.Message);
    }

    [Fact]
    public async Task Fault13_typo_in_the_image_login_server()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var (app, _) = await HealthyWebAppAsync(w, login, reg);
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse("""{"properties":{"linuxFxVersion":"DOCKER|mycontainerregistyr.azurecr.io/aci-helloworld:v1"}}""")!, CancellationToken.None);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "RegistryFound", "login server");
        Assert.Contains("mycontainerregistyr.azurecr.io", c.Message);
    }

    [Fact]
    public async Task Fault14_public_network_access_disabled()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w, "\"publicNetworkAccess\":\"Disabled\"");
        var (app, _) = await HealthyWebAppAsync(w, login, reg);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "NetworkAccess", "private endpoint", "-PublicNetworkAccess Enabled");
        Assert.Contains("vnetImagePullEnabled", c.Message);
    }

    [Fact]
    public async Task Fault15_firewall_default_deny_without_rules()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w, "\"networkRuleSet\":{\"defaultAction\":\"Deny\",\"ipRules\":[]}");
        var (app, _) = await HealthyWebAppAsync(w, login, reg);
        AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app }), "NetworkAccess", "network-rule add");
    }

    [Theory]
    [InlineData("Windows", "westus", false, "IdentityNotSupportedOnWindows")]
    [InlineData("Linux", "westus", true, "subnetIds")]
    [InlineData("Linux", "canadacentral", false, "does not support")]
    public async Task Fault16_18_container_instance_limits(string os, string location, bool vnet, string expected)
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var mi = await w.IdentityAsync();
        await w.AssignAsync(reg, AcrPull, mi.PrincipalId);
        string g = await w.ContainerGroupAsync(login, os, location, vnet, $$$$"""{"server":"{{{{login}}}}","identity":"{{{{mi.Id}}}}"}""");
        // Azure refuses an identity on a Windows group (IdentityNotSupportedOnWindows), so there it stays unattached.
        if (os != "Windows") await AttachAsync(w, g, mi.Id);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = g }), "ContainerInstanceLimits", "registry token");
        Assert.Contains(expected, c.Message);
    }

    [Fact]
    public async Task Fault19_container_group_credential_names_the_client_id()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var mi = await w.IdentityAsync();
        await w.AssignAsync(reg, AcrPull, mi.PrincipalId);
        string g = await w.ContainerGroupAsync(login, extraCredentials: $$$$"""{"server":"{{{{login}}}}","identity":"{{{{mi.ClientId}}}}"}""");
        await AttachAsync(w, g, mi.Id);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = g }), "ConfiguredIdentity", mi.Id);
        Assert.Contains("client ID", c.Message);
    }

    [Fact]
    public async Task Fault20_container_app_without_a_registry_entry()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        string app = await w.ContainerAppAsync(login);
        await w.Arm.PatchAsync(app, JsonNode.Parse("""{"identity":{"type":"SystemAssigned"}}""")!, CancellationToken.None);
        string principal = (string)(await w.GetAsync(app))["identity"]!["principalId"]!;
        await w.AssignAsync(reg, AcrPull, principal);
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = app, Registry = reg }), "PullConfiguration", "Enable-AcrManagedIdentityPull");
        Assert.Contains("docker.io", c.Message);
    }

    [Fact]
    public async Task Fault21_vm_without_identity()
    {
        var w = await WorldAsync();
        var (reg, _) = await RegistryAsync(w);
        string vm = await w.VmAsync();
        AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = vm, Registry = reg }), "IdentityAttached", $"Enable-AcrManagedIdentityPull -ResourceId '{vm}'");
    }

    [Fact]
    public async Task Fault22_conditioned_repository_role_on_a_legacy_registry()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        string vm = await w.VmAsync("""{"type":"SystemAssigned"}""");
        string principal = (string)(await w.GetAsync(vm))["identity"]!["principalId"]!;
        _sbx.Host.World.AddRoleAssignment(reg, RepositoryReader, principal, "ServicePrincipal", condition: PullRoles.Condition("aci-helloworld"));
        var c = AssertFailsOnly(await TestAsync(w, new PullAccessRequest { ResourceId = vm, Registry = reg, Image = "aci-helloworld:v1" }), "RoleMatchesRegistryMode", "AcrPull", "rbac-abac");
        Assert.Contains("legacy mode", c.Message);
    }

    [Fact]
    public async Task Effective_permissions_inherited_group_and_wildcard_custom_role_pass()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        // Inherited from the resource group.
        string vm1 = await w.VmAsync("""{"type":"SystemAssigned"}""");
        await w.AssignAsync(w.GroupId, AcrPull, (string)(await w.GetAsync(vm1))["identity"]!["principalId"]!);
        var r1 = await TestAsync(w, new PullAccessRequest { ResourceId = vm1, Registry = reg });
        AssertHealthy(r1);
        Assert.Contains(w.GroupId, r1["PullRole"]!.Message, StringComparison.OrdinalIgnoreCase);
        // Through a group.
        string vm2 = await w.VmAsync("""{"type":"SystemAssigned"}""");
        var group = _sbx.Host.World.AddGroup("pullers" + Guid.NewGuid().ToString("N")[..6], [(string)(await w.GetAsync(vm2))["identity"]!["principalId"]!]);
        _sbx.Host.World.AddRoleAssignment(reg, AcrPull, group.ObjectId, "Group");
        var r2 = await TestAsync(w, new PullAccessRequest { ResourceId = vm2, Registry = reg });
        AssertHealthy(r2);
        Assert.Contains("through group " + group.ObjectId, r2["PullRole"]!.Message);
        // A custom role with a wildcard action.
        string roleGuid = Guid.NewGuid().ToString();
        _sbx.Host.World.PutRoleDefinition(new RoleDefinition
        {
            Name = roleGuid, RoleName = "Registry reader " + roleGuid[..6], RoleType = "CustomRole", Description = "reads",
            AssignableScopes = ["/subscriptions/" + w.SubscriptionId],
            Permissions = [new Permission(["Microsoft.ContainerRegistry/registries/*/read"], [], [], [])],
            CreatedOn = DateTimeOffset.UtcNow, UpdatedOn = DateTimeOffset.UtcNow,
        });
        string vm3 = await w.VmAsync("""{"type":"SystemAssigned"}""");
        await w.AssignAsync(reg, roleGuid, (string)(await w.GetAsync(vm3))["identity"]!["principalId"]!);
        AssertHealthy(await TestAsync(w, new PullAccessRequest { ResourceId = vm3, Registry = reg }));
    }

    [Fact]
    public async Task Warnings_for_owner_admin_user_anonymous_pull_and_arm_audience_policy()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w,
            "\"adminUserEnabled\":true,\"anonymousPullEnabled\":true,\"policies\":{\"azureADAuthenticationAsArmPolicy\":{\"status\":\"disabled\"}}");
        var (app, principal) = await HealthyWebAppAsync(w, login, reg, role: Owner);
        var r = await TestAsync(w, new PullAccessRequest { ResourceId = app });
        Assert.True(r.CanPull, Dump(r));
        Assert.Equal(CheckResult.Warning, r["LeastPrivilege"]!.Result);
        Assert.Contains("Owner", r["LeastPrivilege"]!.Message);
        Assert.Contains("Remove-AzRoleAssignment -ObjectId " + principal, r["LeastPrivilege"]!.Fix);
        Assert.Equal(CheckResult.Warning, r["AdminUser"]!.Result);
        Assert.Equal(CheckResult.Warning, r["AnonymousPull"]!.Result);
        Assert.Equal(CheckResult.Warning, r["ArmAudienceTokens"]!.Result);
        Assert.Contains("authentication-as-arm", r["ArmAudienceTokens"]!.Fix);
    }

    [Fact]
    public async Task Bare_identity_by_client_id_or_principal_id_with_a_registry()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var mi = await w.IdentityAsync();
        var none = await TestAsync(w, new PullAccessRequest { Identity = mi.ClientId, Registry = login });
        var c = AssertFailsOnly(none, "PullRole", "New-AzRoleAssignment -ObjectId " + mi.PrincipalId, "AcrPull", reg);
        await w.AssignAsync(reg, AcrPull, mi.PrincipalId);
        var byPrincipal = await TestAsync(w, new PullAccessRequest { Identity = mi.PrincipalId, Registry = reg });
        AssertHealthy(byPrincipal);
        Assert.Equal(mi.Id, byPrincipal.Identity, ignoreCase: true);
        Assert.Equal(CheckResult.Skipped, byPrincipal["TargetFound"]!.Result);
    }

    [Fact]
    public async Task Missing_target_fails_TargetFound_and_skips_the_rest()
    {
        var w = await WorldAsync();
        string id = $"{w.GroupId}/providers/Microsoft.Web/sites/nosuchapp";
        var r = await TestAsync(w, new PullAccessRequest { ResourceId = id });
        AssertFailsOnly(r, "TargetFound", "resource ID");
        Assert.All(r.Checks.Where(c => c.Id != "TargetFound"), c => Assert.Equal(CheckResult.Skipped, c.Result));
    }

    [Fact]
    public async Task Slots_are_checked_one_by_one()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var (app, _) = await HealthyWebAppAsync(w, login, reg);
        string slot = await w.SlotAsync(app, "staging");
        var reports = await new PullAccessTester(w.Context, new RecordingHost()).TestAsync(new PullAccessRequest { ResourceId = app, IncludeSlots = true, Registry = reg }, CancellationToken.None);
        Assert.Equal(2, reports.Count);
        Assert.True(reports[0].CanPull, Dump(reports[0]));
        Assert.Equal(slot, reports[1].Target, ignoreCase: true);
        Assert.False(reports[1].CanPull);
        Assert.Equal(CheckResult.Fail, reports[1]["IdentityAttached"]!.Result);
    }

    [Fact]
    public async Task Enable_then_Test_passes_for_every_target_kind()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var mi = await w.IdentityAsync();
        var targets = new List<(string Id, string? Identity)>
        {
            (await w.WebAppAsync(login), null),
            (await w.WebAppAsync(login, windows: true), mi.Id),
            (await w.ContainerGroupAsync(login), mi.Id),
            (await w.VmAsync(), null),
            (await w.VmAsync(scaleSet: true), mi.Id),
            (await w.AksAsync(), null),
            (await w.ContainerAppAsync(login), null),
        };
        foreach (var (id, identity) in targets)
        {
            var outcomes = await w.EnableAsync(new EnableRequest { ResourceId = id, Registry = reg, UserAssignedIdentity = identity });
            Assert.All(outcomes, o => Assert.Null(o.Error));
            var r = await TestAsync(w, new PullAccessRequest { ResourceId = id, Registry = reg });
            AssertHealthy(r);
            Assert.Equal(outcomes[0].Identity!.PrincipalId, r.PrincipalId);
        }
    }

    [Fact]
    public async Task Report_text_never_holds_a_token()
    {
        var w = await WorldAsync();
        var (reg, login) = await RegistryAsync(w);
        var (app, _) = await HealthyWebAppAsync(w, login, reg);
        var host = new RecordingHost();
        var r = await TestAsync(w, new PullAccessRequest { ResourceId = app }, host);
        Assert.DoesNotContain("eyJ", Dump(r) + host.AllText());
    }
}
