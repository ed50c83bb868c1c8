using AcrIdentity.Engine.Tests.Support;

namespace AcrIdentity.Engine.Tests.Audit;

/// <summary>
/// One world with every way a principal can come to pull: direct, inherited from resource group, subscription and
/// management group (and one from a management group the subscription is not under), built-in and custom roles,
/// system, user-assigned and kubelet identities, a user and a group, a legacy and an ABAC-mode registry, and an
/// identity deleted after its grant (orphan), an app registration's service principal, and an identity in a second
/// subscription that the auditor (Reader of the first only) cannot see.
/// </summary>
public sealed class AuditWorld : IAsyncLifetime
{
    public const string Sub = "6d3c2a10-1111-4a5b-9c8d-0123456789ab";
    public const string OperatorId = "0a9f1e2d-2222-4b3c-8d7e-aaaaaaaaaaaa";
    public const string BobId = "b0b00000-3333-4c4d-9e8f-bbbbbbbbbbbb";
    public const string AliceId = "a11ce000-4444-4d5e-8f90-cccccccccccc";
    public const string PullersId = "9e000000-5555-4e6f-9a01-dddddddddddd";
    public const string PullerRole = "c0ffee00-6666-4f70-8b12-eeeeeeeeeeee";
    public const string RegistryAdminRole = "c0ffee00-7777-4081-9c23-ffffffffffff";
    public const string OtherSub = "6d3c2a10-8888-4a5b-9c8d-0123456789ab";
    public const string CiAppId = "c1a99000-9999-4a1b-8c2d-111111111111";
    public const string AuditorClientId = "a0d17000-aaaa-4b2c-9d3e-222222222222";
    public const string AuditorSecret = "auditor-secret";

    public AuditSandbox Sbx { get; private set; } = null!;

    public string Registry => Sbx.Id("reg", "Microsoft.ContainerRegistry/registries", "auditreg1");
    public string Abac => Sbx.Id("reg", "Microsoft.ContainerRegistry/registries", "auditabac1");
    public string Web1 => Sbx.Id("apps", "Microsoft.Web/sites", "web1");
    public string Web2 => Sbx.Id("apps", "Microsoft.Web/sites", "web2");
    public string Web3 => Sbx.Id("apps", "Microsoft.Web/sites", "web3");
    public string Web4 => Sbx.Id("apps", "Microsoft.Web/sites", "web4");
    public string Aks => Sbx.Id("apps", "Microsoft.ContainerService/managedClusters", "aks1");
    public string Shared => $"/subscriptions/{Sub}/resourcegroups/apps/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shared";
    public string Gone => $"/subscriptions/{Sub}/resourcegroups/apps/providers/Microsoft.ManagedIdentity/userAssignedIdentities/gone";
    public string Elsewhere => $"/subscriptions/{OtherSub}/resourcegroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/elsewhere";
    public string GonePrincipal { get; private set; } = "";
    public string KubeletPrincipal { get; private set; } = "";

    public static string Scenario => """
    {
      "operator": { "objectId": "0a9f1e2d-2222-4b3c-8d7e-aaaaaaaaaaaa" },
      "managementGroups": [ { "name": "platform" }, { "name": "other" } ],
      "principals": [
        { "kind": "user", "name": "bob@sandbox.onmicrosoft.com", "objectId": "b0b00000-3333-4c4d-9e8f-bbbbbbbbbbbb" },
        { "kind": "user", "name": "alice@sandbox.onmicrosoft.com", "objectId": "a11ce000-4444-4d5e-8f90-cccccccccccc" },
        { "kind": "group", "name": "pullers", "objectId": "9e000000-5555-4e6f-9a01-dddddddddddd", "members": [ "alice@sandbox.onmicrosoft.com" ] },
        { "kind": "servicePrincipal", "name": "ci-app", "objectId": "c1a99000-9999-4a1b-8c2d-111111111111" },
        { "kind": "servicePrincipal", "name": "auditor", "clientId": "a0d17000-aaaa-4b2c-9d3e-222222222222", "clientSecret": "auditor-secret" }
      ],
      "customRoles": [
        { "id": "c0ffee00-6666-4f70-8b12-eeeeeeeeeeee", "roleName": "Image Puller", "actions": [ "Microsoft.ContainerRegistry/registries/pull/read" ] },
        { "id": "c0ffee00-7777-4081-9c23-ffffffffffff", "roleName": "Registry Admin", "actions": [ "Microsoft.ContainerRegistry/registries/*" ] }
      ],
      "subscriptions": [ {
        "id": "6d3c2a10-1111-4a5b-9c8d-0123456789ab", "managementGroup": "platform",
        "resourceGroups": [
          { "name": "reg", "resources": [
            { "type": "registry", "name": "auditreg1" },
            { "type": "registry", "name": "auditabac1", "properties": { "roleAssignmentMode": "AbacRepositoryPermissions" } } ] },
          { "name": "apps", "resources": [
            { "type": "userAssignedIdentity", "name": "shared" },
            { "type": "userAssignedIdentity", "name": "gone" },
            { "type": "webApp", "name": "web1", "identity": { "type": "SystemAssigned" } },
            { "type": "webApp", "name": "web2", "identity": { "type": "UserAssigned", "userAssignedIdentities": [ "shared" ] } },
            { "type": "webApp", "name": "web3", "identity": { "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": [ "shared" ] } },
            { "type": "webApp", "name": "web4", "identity": { "type": "SystemAssigned" } },
            { "type": "aks", "name": "aks1" } ] }
        ] }, {
        "id": "6d3c2a10-8888-4a5b-9c8d-0123456789ab",
        "resourceGroups": [ { "name": "ids", "resources": [ { "type": "userAssignedIdentity", "name": "elsewhere" } ] } ] } ],
      "roleAssignments": [
        { "principal": "operator", "role": "Reader", "scope": "/" },
        { "principal": "web1", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/auditreg1" },
        { "principal": "web1", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/auditabac1" },
        { "principal": "web1", "role": "Contributor", "scope": "/subscriptions/{subscriptionId}/resourceGroups/apps" },
        { "principal": "shared", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg" },
        { "principal": "gone", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/auditreg1" },
        { "principal": "web4", "role": "Registry Admin", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/auditreg1" },
        { "principal": "web4", "role": "Container Registry Repository Reader", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/auditabac1" },
        { "principal": "bob@sandbox.onmicrosoft.com", "role": "AcrPush", "scope": "/subscriptions/{subscriptionId}" },
        { "principal": "pullers", "role": "AcrPull", "scope": "/providers/Microsoft.Management/managementGroups/platform", "principalType": "Group" },
        { "principal": "alice@sandbox.onmicrosoft.com", "role": "AcrPull", "scope": "/providers/Microsoft.Management/managementGroups/other" },
        { "principal": "ci-app", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/auditreg1" },
        { "principal": "elsewhere", "role": "AcrPull", "scope": "/subscriptions/{subscriptionId}/resourceGroups/reg/providers/Microsoft.ContainerRegistry/registries/auditreg1" },
        { "principal": "auditor", "role": "Reader", "scope": "/subscriptions/{subscriptionId}" }
      ]
    }
    """;

    public async Task InitializeAsync()
    {
        Sbx = await AuditSandbox.StartAsync(Scenario);
        KubeletPrincipal = (string)Sbx.Resource(Aks)["properties"]!["identityProfile"]!["kubeletidentity"]!["objectId"]!;
        Sbx.Host.World.AddRoleAssignment(Registry, PullerRole, KubeletPrincipal, "ServicePrincipal");
        // The orphan: the identity is deleted after its grant, as when an identity is deleted and recreated.
        GonePrincipal = Sbx.UamiPrincipal(Gone);
        await Sbx.Arm.DeleteAsync(Gone, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (Sbx != null) await Sbx.DisposeAsync();
    }
}
