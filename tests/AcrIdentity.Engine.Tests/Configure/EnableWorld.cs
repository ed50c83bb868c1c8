using System.Text.Json.Nodes;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox;

namespace AcrIdentity.Engine.Tests.Configure;

/// <summary>
/// Builds the seed recipes' starting points in the sandbox through ARM (as the recipes' `az … create` steps
/// would), each test in its own resource group so tests share one sandbox without seeing each other.
/// </summary>
public sealed class EnableWorld
{
    private readonly SandboxHost _host;

    private EnableWorld(SandboxHost host, ModuleContext context, string group)
    {
        _host = host;
        Context = context;
        Arm = context.CreateGateway(new RecordingHost());
        Group = group;
    }

    public ModuleContext Context { get; }
    public ArmGateway Arm { get; }
    public string Group { get; }
    public string SubscriptionId => Context.SubscriptionId;
    public string GroupId => $"/subscriptions/{SubscriptionId}/resourceGroups/{Group}";

    public static async Task<EnableWorld> CreateAsync(SandboxHost host, EngineOptions? options = null)
    {
        var context = await Session.ConnectAsync(new ConnectRequest
        {
            Environment = host.EndpointsFile,
            ApplicationId = host.Endpoints.Operator.ClientId,
            ClientSecret = SandboxFixture.Secure(host.Endpoints.Operator.ClientSecret),
            SubscriptionId = host.Endpoints.SubscriptionIds[0],
            Options = options ?? Fast.Options(),
        }, new RecordingHost(), CancellationToken.None);
        Session.Disconnect();
        string group = "enable" + Guid.NewGuid().ToString("N")[..8];
        var world = new EnableWorld(host, context, group);
        await world.Arm.PutAsync(world.GroupId, new JsonObject { ["location"] = "westus" }, CancellationToken.None);
        return world;
    }

    public static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private string Id(string type, string name) => $"{GroupId}/providers/{type}/{name}";

    public async Task<JsonObject> PutAsync(string id, string json)
    {
        var reply = await Arm.PutAsync(id, JsonNode.Parse(json)!, CancellationToken.None);
        return reply.Object!;
    }

    public async Task<JsonObject> GetAsync(string id) => (await Arm.GetAsync(id, CancellationToken.None)).Object!;

    public async Task<(string Id, string LoginServer)> RegistryAsync(bool abac = false)
    {
        string name = Unique("acr");
        var reg = await PutAsync(Id("Microsoft.ContainerRegistry/registries", name),
            $$$"""{"location":"westus","sku":{"name":"Premium"},"properties":{"roleAssignmentMode":"{{{(abac ? "AbacRepositoryPermissions" : "LegacyRegistryPermissions")}}}"}}""");
        return ((string)reg["id"]!, (string)reg["properties"]!["loginServer"]!);
    }

    public async Task<(string Id, string ClientId, string PrincipalId)> IdentityAsync(string? name = null)
    {
        var mi = await PutAsync(Id("Microsoft.ManagedIdentity/userAssignedIdentities", name ?? Unique("myACRId")), """{"location":"westus"}""");
        return ((string)mi["id"]!, (string)mi["properties"]!["clientId"]!, (string)mi["properties"]!["principalId"]!);
    }

    public async Task<string> WebAppAsync(string loginServer, bool windows = false, string? identityJson = null)
    {
        string kind = windows ? "app,container,windows" : "app,linux,container";
        string fx = windows ? "windowsFxVersion" : "linuxFxVersion";
        string identity = identityJson == null ? string.Empty : $",\"identity\":{identityJson}";
        var site = await PutAsync(Id("Microsoft.Web/sites", Unique(windows ? "myWindowsApp" : "myLinuxApp")),
            $$$$"""{"location":"westus","kind":"{{{{kind}}}}"{{{{identity}}}},"properties":{"siteConfig":{"{{{{fx}}}}":"DOCKER|{{{{loginServer}}}}/aci-helloworld:v1","appCommandLine":"keep-me"}}}""");
        return (string)site["id"]!;
    }

    public async Task<string> SlotAsync(string siteId, string slot)
    {
        var s = await PutAsync($"{siteId}/slots/{slot}", """{"location":"westus","kind":"app,linux,container"}""");
        return (string)s["id"]!;
    }

    public async Task<string> VmAsync(string? identityJson = null, bool scaleSet = false)
    {
        string identity = identityJson == null ? string.Empty : $",\"identity\":{identityJson}";
        string type = scaleSet ? "Microsoft.Compute/virtualMachineScaleSets" : "Microsoft.Compute/virtualMachines";
        var vm = await PutAsync(Id(type, Unique(scaleSet ? "myScaleSet" : "myDockerVM")),
            $$$$"""{"location":"westus"{{{{identity}}}},"properties":{"hardwareProfile":{"vmSize":"Standard_D2s_v3"}}}""");
        return (string)vm["id"]!;
    }

    public async Task<string> ContainerGroupAsync(string loginServer, string os = "Linux", string location = "westus", bool vnet = false, string? extraCredentials = null)
    {
        string subnets = vnet ? $",\"subnetIds\":[{{\"id\":\"{GroupId}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aci\"}}]" : string.Empty;
        string creds = extraCredentials == null ? string.Empty : $",\"imageRegistryCredentials\":[{extraCredentials}]";
        var g = await PutAsync(Id("Microsoft.ContainerInstance/containerGroups", Unique("myContainerGroup")),
            $$$$$$"""{"location":"{{{{{{location}}}}}}","properties":{"osType":"{{{{{{os}}}}}}","restartPolicy":"Always"{{{{{{subnets}}}}}}{{{{{{creds}}}}}},"containers":[{"name":"mycontainer","properties":{"image":"{{{{{{loginServer}}}}}}/hello-world:v1","ports":[{"port":80}],"resources":{"requests":{"cpu":1,"memoryInGB":1}}}}],"ipAddress":{"type":"Public","ports":[{"protocol":"TCP","port":80}]}}}""");
        return (string)g["id"]!;
    }

    public async Task<string> AksAsync()
    {
        var c = await PutAsync(Id("Microsoft.ContainerService/managedClusters", Unique("myAKSCluster")),
            """{"location":"westus","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"aks"}}""");
        return (string)c["id"]!;
    }

    public async Task<string> ContainerAppAsync(string loginServer)
    {
        var app = await PutAsync(Id("Microsoft.App/containerApps", Unique("mycontainerapp")),
            $$$$"""{"location":"westus","properties":{"configuration":{"registries":[{"server":"docker.io","username":"u","passwordSecretRef":"regpwd"}],"secrets":[{"name":"regpwd","value":"s3cret"}]},"template":{"containers":[{"name":"app","image":"{{{{loginServer}}}}/aci-helloworld:v1"}]}}}""");
        return (string)app["id"]!;
    }

    /// <summary>Every role assignment at or below the registry, as ARM lists them.</summary>
    public async Task<List<JsonObject>> AssignmentsAsync(string registryId)
    {
        var all = await Arm.ListAsync($"{registryId}/providers/Microsoft.Authorization/roleAssignments", CancellationToken.None);
        return all.Where(a => string.Equals((string?)a["properties"]!["scope"], registryId, StringComparison.OrdinalIgnoreCase)).ToList();
    }

    public async Task AssignAsync(string scope, string roleGuid, string principalId)
    {
        await Arm.PutAsync($"{scope}/providers/Microsoft.Authorization/roleAssignments/{Guid.NewGuid()}", new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["roleDefinitionId"] = $"/subscriptions/{SubscriptionId}/providers/Microsoft.Authorization/roleDefinitions/{roleGuid}",
                ["principalId"] = principalId,
                ["principalType"] = "ServicePrincipal",
            },
        }, CancellationToken.None);
    }

    public async Task<IReadOnlyList<EnableOutcome>> EnableAsync(EnableRequest request, RecordingHost? host = null)
    {
        request.PropagationRetryDelay = TimeSpan.FromMilliseconds(100);
        return await new PullEnabler(Context, host ?? new RecordingHost()).EnableAsync(request, CancellationToken.None);
    }

    public IReadOnlyList<AcrIdentity.Sandbox.Behaviour.RequestLogEntry> WritesSince(int mark) =>
        _host.Requests.Entries.Skip(mark).Where(e => e.Kind == AcrIdentity.Sandbox.Behaviour.RequestKind.Arm && e.IsWrite).ToList();

    public int Mark => _host.Requests.Count;
}
