using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.World;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>One sandbox and one PowerShell session for the whole bad-input corpus.</summary>
public sealed class EnableBadInputFixture : IAsyncLifetime
{
    public EnableSandbox S { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        S = await EnableSandbox.StartAsync();
        string group = S.Group;
        void Put(string type, string name, string json)
        {
            var outcome = ResourceOps.Write(S.World, $"{group}/providers/{type}/{name}", JsonNode.Parse(json)!.AsObject(), false, new WriteContext());
            Assert.Null(outcome.Error);
        }
        const string containers = "\"containers\":[{\"name\":\"c\",\"properties\":{\"image\":\"mycontainerregistry.azurecr.io/hello-world:v1\",\"resources\":{\"requests\":{\"cpu\":1,\"memoryInGB\":1}}}}]";
        Put("Microsoft.ContainerInstance/containerGroups", "winGroup", "{\"location\":\"westus\",\"properties\":{\"osType\":\"Windows\"," + containers + "}}");
        Put("Microsoft.ContainerInstance/containerGroups", "vnetGroup", "{\"location\":\"westus\",\"properties\":{\"osType\":\"Linux\",\"subnetIds\":[{\"id\":\"" + group + "/providers/Microsoft.Network/virtualNetworks/v/subnets/s\"}]," + containers + "}}");
        Put("Microsoft.ContainerInstance/containerGroups", "canadaGroup", "{\"location\":\"canadacentral\",\"properties\":{\"osType\":\"Linux\"," + containers + "}}");
        Put("Microsoft.ContainerRegistry/registries", "abacRegistry", """{"location":"westus","sku":{"name":"Premium"},"properties":{"roleAssignmentMode":"AbacRepositoryPermissions"}}""");
        // myWindowsApp gets its system identity, so its principal ID exists to be misused.
        var enabled = S.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry", S.WindowsApp);
        Assert.Empty(enabled.Errors);
    }

    public async Task DisposeAsync() => await S.DisposeAsync();
}

/// <summary>
/// The bad-input corpus through the real cmdlet: each case gets its specific ErrorId
/// (Enable-AcrManagedIdentityPull.&lt;Reason&gt;) with a RecommendedAction, and the sandbox's log shows no write.
/// </summary>
public sealed class EnableBadInputTests : IClassFixture<EnableBadInputFixture>
{
    private readonly EnableSandbox _s;

    public EnableBadInputTests(EnableBadInputFixture fixture)
    {
        _s = fixture.S;
    }

    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { "-ResourceId ''", "ResourceIdRequired" },
        new object[] { "-ResourceId myLinuxApp", "InvalidResourceId" },
        new object[] { "-ResourceId /subscriptions/mysub/resourceGroups/rg/providers/Microsoft.Web/sites/app", "InvalidResourceId" },
        new object[] { "-ResourceId $g", "InvalidResourceId" },
        new object[] { "-ResourceId \"$g/providers/Microsoft.Web/sites//myLinuxApp\"", "InvalidResourceId" },
        new object[] { "-ResourceId \"$g/providers/Microsoft.Storage/storageAccounts/store1\"", "UnsupportedTargetKind" },
        new object[] { "-ResourceId \"$g/providers/Microsoft.ContainerRegistry/registries/myContainerRegistry\"", "UnsupportedTargetKind" },
        new object[] { "-ResourceId $uami", "UnsupportedTargetKind" },
        new object[] { "-ResourceId \"$g/providers/Microsoft.Web/sites/nosuchapp\"", "TargetNotFound" },
        new object[] { "-ResourceId $app -Registry acr", "InvalidRegistryName" },
        new object[] { "-ResourceId $app -Registry 'my_registry!'", "InvalidRegistryName" },
        new object[] { "-ResourceId $app -Registry nosuchregistry1", "RegistryNotFound" },
        new object[] { "-ResourceId $app -Registry nosuchregistry1.azurecr.io", "RegistryNotFound" },
        new object[] { "-ResourceId $app -Registry \"/subscriptions/$sub/resourceGroups/x\"", "InvalidRegistryId" },
        new object[] { "-ResourceId $app -Registry $app", "RegistryIdWrongKind" },
        new object[] { "-ResourceId $app -Registry \"$g/providers/Microsoft.ContainerRegistry/registries/nosuchregistry1\"", "RegistryNotFound" },
        new object[] { "-ResourceId $app -UserAssignedIdentity $vm", "IdentityIdWrongKind" },
        new object[] { "-ResourceId $app -UserAssignedIdentity $reg", "IdentityIdWrongKind" },
        new object[] { "-ResourceId $app -UserAssignedIdentity ([guid]::NewGuid())", "UserAssignedIdentityNotFound" },
        new object[] { "-ResourceId $app -UserAssignedIdentity nosuchidentity", "UserAssignedIdentityNotFound" },
        new object[] { "-ResourceId $app -UserAssignedIdentity 'my identity'", "InvalidIdentityName" },
        new object[] { "-ResourceId $app -UserAssignedIdentity \"/subscriptions/$sub/resourcegroups/rg/providers/Microsoft.ManagedIdentity\"", "InvalidIdentityResourceId" },
        new object[] { "-ResourceId $winApp -UserAssignedIdentity $winPrincipal", "SystemAssignedPrincipalGiven" },
        new object[] { "-ResourceId $app -IdentityType SystemAssigned -UserAssignedIdentity myACRId", "ConflictingIdentityType" },
        new object[] { "-ResourceId $app -IdentityType Kubelet", "ParameterArgumentValidationError" },
        new object[] { "-ResourceId $app -Slot staging -IncludeSlots", "ConflictingSlotParameters" },
        new object[] { "-ResourceId $vm -Slot staging", "SlotsNotApplicable" },
        new object[] { "-ResourceId $app -Slot a/b", "InvalidSlotName" },
        new object[] { "-ResourceId $app -Slot nosuchslot", "TargetNotFound" },
        new object[] { "-ResourceId $app -Repository aci-helloworld", "RepositoryNeedsAbacMode" },
        new object[] { "-ResourceId $app -Registry abacRegistry -Repository 'Bad Repo'", "InvalidRepositoryName" },
        new object[] { "-ResourceId \"$g/providers/Microsoft.ContainerInstance/containerGroups/myContainerGroup\"", "ContainerGroupNeedsUserAssignedIdentity" },
        new object[] { "-ResourceId \"$g/providers/Microsoft.ContainerInstance/containerGroups/winGroup\" -UserAssignedIdentity myACRId", "ContainerGroupWindowsUnsupported" },
        new object[] { "-ResourceId \"$g/providers/Microsoft.ContainerInstance/containerGroups/vnetGroup\" -UserAssignedIdentity myACRId", "ContainerGroupVNetUnsupported" },
        new object[] { "-ResourceId \"$g/providers/Microsoft.ContainerInstance/containerGroups/canadaGroup\" -UserAssignedIdentity myACRId", "ContainerGroupRegionUnsupported" },
        new object[] { "-ResourceId \"$g/providers/Microsoft.ContainerService/managedClusters/myAKSCluster\" -UserAssignedIdentity myACRId", "IdentityFixedByTarget" },
        new object[] { "-ResourceId $vm -IdentityType UserAssigned", "UserAssignedIdentityRequired" },
        new object[] { "-ResourceId $app -PropagationTimeout '-00:00:01'", "InvalidPropagationTimeout" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_gets_a_specific_ErrorId_and_no_write(string arguments, string reason)
    {
        string winPrincipal = (string)_s.Get(_s.WindowsApp)["identity"]!["principalId"]!;
        int mark = _s.Mark;
        // Cases that name no registry use the seed world's.
        string registry = arguments.Contains("-Registry ", StringComparison.Ordinal) ? string.Empty : "-Registry myContainerRegistry ";
        string script = "$g, $sub, $app, $vm, $uami, $reg, $winApp, $winPrincipal = $args\n" + "Enable-AcrManagedIdentityPull " + registry + arguments;
        var r = _s.Run(script, _s.Group, _s.SubscriptionId, _s.LinuxApp, _s.Vm, _s.Uami, _s.Registry, _s.WindowsApp, winPrincipal);

        Assert.Empty(r.Output);
        var error = Assert.Single(r.Errors);
        Assert.True(error.FullyQualifiedErrorId.StartsWith(reason == "ParameterArgumentValidationError" ? reason : "Enable-AcrManagedIdentityPull.", StringComparison.Ordinal), ScriptResult.Describe(error));
        string expectedId = reason == "ParameterArgumentValidationError" ? reason : "Enable-AcrManagedIdentityPull." + reason;
        Assert.StartsWith(expectedId + ",", error.FullyQualifiedErrorId);
        if (reason != "ParameterArgumentValidationError")
        {
            Assert.False(string.IsNullOrWhiteSpace(error.ErrorDetails?.RecommendedAction), "every bad input says what to do");
        }
        Assert.Empty(_s.WritesSince(mark));
    }

    [Fact]
    public void The_corpus_has_at_least_30_cases() => Assert.True(Cases().Count() >= 30);
}
