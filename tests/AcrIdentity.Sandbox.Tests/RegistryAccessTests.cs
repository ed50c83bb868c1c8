using System.Net;
using AcrIdentity.Sandbox.Auth;
using AcrIdentity.Sandbox.Registry;

namespace AcrIdentity.Sandbox.Tests;

public sealed class RegistryAccessTests
{
    const string Cr = "Microsoft.ContainerRegistry/registries/";
    const string Me = "11111111-2222-3333-4444-555555555555";
    static readonly RolePermission AcrPull = new([Cr + "pull/read"], [], [], []);
    static readonly RolePermission AcrPush = new([Cr + "pull/read", Cr + "push/write"], [], [], []);
    static readonly RolePermission Owner = new(["*"], [], [], []);
    static readonly RolePermission Reader = new(["*/read"], [], [], []);
    static readonly RolePermission Contributor = new(["*"], ["Microsoft.Authorization/*/Write", "Microsoft.Authorization/*/Delete"], [], []);
    static readonly RolePermission RepoReader = new([], [], [Cr + "repositories/metadata/read", Cr + "repositories/content/read"], []);
    static readonly RolePermission RepoWriter = new([], [], [Cr + "repositories/metadata/read", Cr + "repositories/content/read",
        Cr + "repositories/metadata/write", Cr + "repositories/content/write"], []);
    static readonly RolePermission CatalogLister = new([], [], [Cr + "catalog/read"], []);

    static RegistryView Registry(bool abac = false) => new("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r",
        "r", "127.0.0.1:1", true, "Allow", [], true, abac, true, false, []);

    static List<ScopeRequest> Grant(bool abac, string scopes, params (RolePermission P, string? Condition)[] roles)
    {
        var world = new FakeWorld(roles.Select(r => new EffectiveAssignment("id", "role", "/", [r.P], r.Condition)).ToList());
        return new RegistryAccess(world).Grant(Me, Registry(abac), ScopeRequest.ParseAll([scopes]));
    }

    static string Show(List<ScopeRequest> g) => string.Join(" ", g.Select(s => $"{s.Type}:{s.Name}:{string.Join(",", s.Actions)}"));

    [Fact]
    public void Scopes_parse_repeated_and_space_separated() =>
        Assert.Equal(3, ScopeRequest.ParseAll(["repository:a:pull,push repository:b/c:pull", "registry:catalog:*"]).Count);

    [Fact]
    public void AcrPull_grants_pull_only() =>
        Assert.Equal("repository:app:pull", Show(Grant(false, "repository:app:pull,push", (AcrPull, null))));

    [Fact]
    public void AcrPush_grants_pull_and_push() =>
        Assert.Equal("repository:app:pull,push", Show(Grant(false, "repository:app:pull,push", (AcrPush, null))));

    [Fact]
    public void No_role_grants_nothing() => Assert.Empty(Grant(false, "repository:app:pull"));

    [Theory]
    [InlineData("owner", "repository:app:pull,push,delete")]
    [InlineData("contributor", "repository:app:pull,push,delete")]
    [InlineData("reader", "repository:app:pull")]
    public void Legacy_mode_honours_control_plane_roles_by_their_actions(string role, string expected)
    {
        var p = role switch { "owner" => Owner, "contributor" => Contributor, _ => Reader };
        Assert.Equal(expected, Show(Grant(false, "repository:app:pull,push,delete", (p, null))));
    }

    [Fact]
    public void Custom_role_notActions_subtract()
    {
        var custom = new RolePermission([Cr + "*"], [Cr + "push/write"], [], []);
        Assert.Equal("repository:app:pull", Show(Grant(false, "repository:app:pull,push", (custom, null))));
    }

    [Fact]
    public void Abac_mode_ignores_AcrPull_and_Owner() =>
        Assert.Empty(Grant(true, "repository:app:pull,push", (AcrPull, null), (Owner, null)));

    [Fact]
    public void Abac_repository_reader_without_condition_is_registry_wide() =>
        Assert.Equal("repository:any/thing:pull", Show(Grant(true, "repository:any/thing:pull,push", (RepoReader, null))));

    [Fact]
    public void Abac_condition_narrows_to_matching_repositories()
    {
        const string cond = "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'})) OR " +
                            "(@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWithIgnoreCase 'Team-A/'))";
        var g = Grant(true, "repository:team-a/api:pull,push repository:team-b/api:pull", (RepoWriter, cond));
        Assert.Equal("repository:team-a/api:pull,push", Show(g));
        const string exact = "@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'hello-world'";
        Assert.Equal("repository:Hello-World:pull", Show(Grant(true, "repository:Hello-World:pull repository:hello-world2:pull", (RepoReader, exact))));
    }

    [Fact]
    public void Catalog_needs_the_catalog_lister_in_abac_mode_and_pull_in_legacy_mode()
    {
        Assert.Empty(Grant(true, "registry:catalog:*", (RepoReader, null)));
        Assert.Equal("registry:catalog:*", Show(Grant(true, "registry:catalog:*", (CatalogLister, null))));
        Assert.Equal("registry:catalog:*", Show(Grant(false, "registry:catalog:*", (AcrPull, null))));
    }

    [Fact]
    public void Legacy_mode_ignores_conditioned_repository_roles_but_honours_data_importer()
    {
        const string cond = "@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'app'";
        Assert.Empty(Grant(false, "repository:app:pull", (RepoReader, cond)));
        var importer = new RolePermission([Cr + "pull/read", Cr + "importImage/action"], [], [Cr + "repositories/content/read"], []);
        Assert.Equal("repository:app:pull", Show(Grant(false, "repository:app:pull,push", (importer, null))));
    }

    [Fact]
    public void Network_rules()
    {
        var open = Registry();
        Assert.True(RegistryAccess.NetworkAllows(open, IPAddress.Loopback, null, null));
        var closed = open with { PublicNetworkAccess = false };
        Assert.False(RegistryAccess.NetworkAllows(closed, IPAddress.Loopback, null, null));
        const string aci = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/g";
        const string app = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/a";
        Assert.True(RegistryAccess.NetworkAllows(closed, IPAddress.Loopback, aci, aci));     // trusted service, system identity
        Assert.False(RegistryAccess.NetworkAllows(closed, IPAddress.Loopback, app, app));    // App Service is not trusted
        Assert.False(RegistryAccess.NetworkAllows(closed with { TrustedServicesBypass = false }, IPAddress.Loopback, aci, aci));
        var deny = open with { DefaultAction = "Deny" };
        Assert.False(RegistryAccess.NetworkAllows(deny, IPAddress.Loopback, null, null));
        Assert.True(RegistryAccess.NetworkAllows(deny with { AllowedIpRanges = ["127.0.0.0/8"] }, IPAddress.Loopback, null, null));
        Assert.False(RegistryAccess.NetworkAllows(deny with { AllowedIpRanges = ["10.0.0.0/8"] }, IPAddress.Loopback, null, null));
    }

    sealed class FakeWorld(IReadOnlyList<EffectiveAssignment> assignments) : IIdentityWorld
    {
        public string TenantId => "t";
        public IReadOnlyList<string> SubscriptionIds => ["s"];
        public DirectoryPrincipal Operator => new("o", "o", PrincipalKind.ServicePrincipal, "o");
        public string OperatorClientSecret => "";
        public DirectoryPrincipal? FindPrincipal(string id) => null;
        public bool CheckClientSecret(string clientId, string secret) => false;
        public ResourceIdentities? GetIdentities(string resourceId) => null;
        public IReadOnlyList<IdentityCapableResource> IdentityCapableResources() => [];
        public IReadOnlyList<RegistryView> Registries() => [];
        public IReadOnlyList<EffectiveAssignment> AssignmentsAt(string principalObjectId, string scope) =>
            principalObjectId == Me ? assignments : [];
        public event Action? Changed { add { } remove { } }
    }
}
