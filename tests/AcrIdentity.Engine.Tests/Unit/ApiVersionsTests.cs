using AcrIdentity.Engine.Arm;

namespace AcrIdentity.Engine.Tests.Unit;

public class ApiVersionsTests
{
    private const string Rg = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg";

    [Theory]
    [InlineData(Rg + "/providers/Microsoft.ContainerRegistry/registries/reg", "2025-11-01")]
    [InlineData(Rg + "/providers/microsoft.containerregistry/REGISTRIES/reg", "2025-11-01")]
    [InlineData(Rg + "/providers/Microsoft.Web/sites/app", "2024-11-01")]
    [InlineData(Rg + "/providers/Microsoft.Web/sites/app/config/web", "2024-11-01")]
    [InlineData(Rg + "/providers/Microsoft.Web/sites/app/slots/staging", "2024-11-01")]
    [InlineData(Rg + "/providers/Microsoft.ContainerInstance/containerGroups/cg", "2023-05-01")]
    [InlineData(Rg + "/providers/Microsoft.Compute/virtualMachines/vm", "2024-11-01")]
    [InlineData(Rg + "/providers/Microsoft.Compute/virtualMachineScaleSets/ss", "2024-11-01")]
    [InlineData("/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id", "2023-01-31")]
    [InlineData(Rg + "/providers/Microsoft.ContainerService/managedClusters/aks", "2025-05-01")]
    [InlineData(Rg + "/providers/Microsoft.App/containerApps/app", "2025-07-01")]
    [InlineData(Rg + "/providers/Microsoft.ContainerRegistry/registries/reg/providers/Microsoft.Authorization/roleAssignments/11111111-1111-1111-1111-111111111111", "2022-04-01")]
    [InlineData(Rg + "/providers/Microsoft.ContainerRegistry/registries/reg/providers/Microsoft.Authorization/roleAssignments", "2022-04-01")]
    [InlineData(Rg + "/providers/Microsoft.ContainerRegistry/registries/reg/providers/Microsoft.Authorization/roleAssignments?$filter=atScope()", "2022-04-01")]
    [InlineData("/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d", "2022-04-01")]
    [InlineData("/subscriptions/00000000-0000-0000-0000-000000000001", "2022-12-01")]
    [InlineData("/subscriptions", "2022-12-01")]
    [InlineData(Rg, "2021-04-01")]
    [InlineData("/providers/Microsoft.ResourceGraph/resources", "2022-10-01")]
    [InlineData(Rg + "/providers/Microsoft.ContainerRegistry/registries/reg/replications/westus", "2025-11-01")]
    public void Pins_one_version_per_type(string path, string expected)
    {
        Assert.Equal(expected, ApiVersions.For(path));
    }

    [Fact]
    public void Unknown_provider_is_a_programming_error_not_a_guess()
    {
        Assert.Throws<ArgumentException>(() => ApiVersions.For(Rg + "/providers/Contoso.Widgets/widgets/w"));
    }
}
