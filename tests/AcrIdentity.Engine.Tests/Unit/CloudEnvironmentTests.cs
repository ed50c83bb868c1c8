using System.Text.Json.Nodes;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Tests.Support;

namespace AcrIdentity.Engine.Tests.Unit;

public class CloudEnvironmentTests
{
    [Theory]
    [InlineData("AzureCloud", "https://management.azure.com/", "https://login.microsoftonline.com/", "https://management.core.windows.net/", "azurecr.io")]
    [InlineData("azurechinacloud", "https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn/", "https://management.core.chinacloudapi.cn/", "azurecr.cn")]
    [InlineData("AzureUSGovernment", "https://management.usgovcloudapi.net/", "https://login.microsoftonline.us/", "https://management.core.usgovcloudapi.net/", "azurecr.us")]
    public async Task Known_clouds_by_name(string name, string arm, string authority, string audience, string suffix)
    {
        var cloud = await CloudEnvironment.ResolveAsync(name, new RecordingHost(), CancellationToken.None);
        Assert.Equal(arm, cloud.ResourceManagerUrl.AbsoluteUri);
        Assert.Equal(authority, cloud.AuthorityHost.AbsoluteUri);
        Assert.Equal(audience, cloud.ArmAudience);
        Assert.Equal(suffix, cloud.AcrLoginServerSuffix);
        Assert.False(cloud.IsCustom);
        Assert.Equal("contoso." + suffix, cloud.GetLoginServer("Contoso"));
    }

    [Fact]
    public async Task Empty_means_public_cloud()
    {
        Assert.Same(CloudEnvironment.AzureCloud, await CloudEnvironment.ResolveAsync(null, new RecordingHost(), CancellationToken.None));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("NoSuchCloud")]
    [InlineData("/no/such/dir/endpoints.json")]
    public async Task Unknown_environment_is_an_invalid_argument(string spec)
    {
        var ex = await Assert.ThrowsAsync<EngineException>(() => CloudEnvironment.ResolveAsync(spec, new RecordingHost(), CancellationToken.None));
        Assert.Equal("EnvironmentNotFound", ex.Reason);
        Assert.Equal(EngineErrorCategory.InvalidArgument, ex.Category);
        Assert.NotNull(ex.RecommendedAction);
    }

    [Fact]
    public void Metadata_object_gives_a_custom_cloud()
    {
        var doc = JsonNode.Parse("""
            {"name":"Stack","resourceManager":"https://arm.local:4443/","authentication":{"loginEndpoint":"https://login.local/","audiences":["https://management.local/","https://other/"]},
             "suffixes":{"acrLoginServer":"azurecr.local"}}
            """);
        var cloud = CloudEnvironment.ParseMetadata(doc, new Uri("https://arm.local:4443"), "test");
        Assert.Equal("Stack", cloud.Name);
        Assert.Equal("https://login.local/", cloud.AuthorityHost.AbsoluteUri);
        Assert.Equal("https://management.local/", cloud.ArmAudience);
        Assert.Equal("https://management.local//.default", cloud.ArmScope);
        Assert.Equal("azurecr.local", cloud.AcrLoginServerSuffix);
        Assert.True(cloud.IsCustom);
    }

    [Fact]
    public void Metadata_array_picks_the_cloud_of_the_asked_endpoint()
    {
        var doc = JsonNode.Parse("""
            [{"name":"A","resourceManager":"https://a/","authentication":{"loginEndpoint":"https://login.a/","audiences":["https://a/"]}},
             {"name":"B","resourceManager":"https://b:8443/","authentication":{"loginEndpoint":"https://login.b/","audiences":["https://b/"]},"suffixes":{"acrLoginServer":"cr.b"}}]
            """);
        var cloud = CloudEnvironment.ParseMetadata(doc, new Uri("https://b:8443/"), "test");
        Assert.Equal("B", cloud.Name);
        Assert.Equal("cr.b", cloud.AcrLoginServerSuffix);
    }

    [Fact]
    public void Metadata_of_the_public_cloud_is_not_custom()
    {
        var doc = JsonNode.Parse("""
            {"name":"AzureCloud","resourceManager":"https://management.azure.com/","authentication":{"loginEndpoint":"https://login.microsoftonline.com","audiences":["https://management.core.windows.net/"]},"suffixes":{"acrLoginServer":"azurecr.io"}}
            """);
        var cloud = CloudEnvironment.ParseMetadata(doc, new Uri("https://management.azure.com"), "test");
        Assert.False(cloud.IsCustom);
        Assert.Equal("https://login.microsoftonline.com/", cloud.AuthorityHost.AbsoluteUri);
    }

    [Fact]
    public void Metadata_without_authentication_is_rejected()
    {
        var ex = Assert.Throws<EngineException>(() => CloudEnvironment.ParseMetadata(JsonNode.Parse("""{"name":"X"}"""), new Uri("https://x/"), "test"));
        Assert.Equal("EnvironmentMetadataInvalid", ex.Reason);
    }

    [Fact]
    public void Sovereign_endpoints_come_from_the_az_context()
    {
        var cloud = CloudEnvironment.FromAzContext(new AzContextSnapshot
        {
            EnvironmentName = "AzureUSGovernment",
            ResourceManagerUrl = "https://management.usgovcloudapi.net/",
            ActiveDirectoryAuthority = "https://login.microsoftonline.us/",
            ActiveDirectoryServiceEndpointResourceId = "https://management.core.usgovcloudapi.net/",
            ContainerRegistryEndpointSuffix = "azurecr.us",
        });
        Assert.Equal("AzureUSGovernment", cloud.Name);
        Assert.Equal("https://management.usgovcloudapi.net/", cloud.ResourceManagerUrl.AbsoluteUri);
        Assert.Equal("reg.azurecr.us", cloud.GetLoginServer("REG"));
        Assert.False(cloud.IsCustom);
    }

    [Fact]
    public void A_custom_az_environment_without_registry_suffix_never_assumes_azurecr_io()
    {
        var cloud = CloudEnvironment.FromAzContext(new AzContextSnapshot
        {
            EnvironmentName = "Lab",
            ResourceManagerUrl = "https://arm.lab/",
            ActiveDirectoryAuthority = "https://login.lab/",
            ActiveDirectoryServiceEndpointResourceId = "https://management.lab/",
        });
        Assert.True(cloud.IsCustom);
        Assert.Null(cloud.AcrLoginServerSuffix);
        var ex = Assert.Throws<EngineException>(() => cloud.GetLoginServer("reg"));
        Assert.Equal("RegistrySuffixUnknown", ex.Reason);
    }

    [Theory]
    [InlineData("AzureCloud", "https://graph.microsoft.com/")]
    [InlineData("AzureChinaCloud", "https://microsoftgraph.chinacloudapi.cn/")]
    [InlineData("AzureUSGovernment", "https://graph.microsoft.us/")]
    public void Known_clouds_know_their_microsoft_graph(string name, string graph)
    {
        Assert.True(CloudEnvironment.TryGetKnown(name, out var cloud));
        Assert.Equal(graph, cloud.MicrosoftGraphUrl!.AbsoluteUri);
        Assert.Equal(graph.TrimEnd('/') + "/.default", cloud.GraphScope);
    }

    [Fact]
    public void Microsoft_graph_comes_from_the_az_context_and_a_known_name_alone_never_points_a_custom_arm_at_public_graph()
    {
        var custom = new AzContextSnapshot
        {
            EnvironmentName = "AzureCloud",
            ResourceManagerUrl = "https://arm.lab/",
            ActiveDirectoryAuthority = "https://login.lab/",
            ActiveDirectoryServiceEndpointResourceId = "https://management.lab/",
        };
        Assert.Null(CloudEnvironment.FromAzContext(custom).MicrosoftGraphUrl);

        custom.MicrosoftGraphUrl = "https://arm.lab/graph/";
        Assert.Equal("https://arm.lab/graph/", CloudEnvironment.FromAzContext(custom).MicrosoftGraphUrl!.AbsoluteUri);

        var pub = CloudEnvironment.FromAzContext(new AzContextSnapshot { EnvironmentName = "AzureCloud", ResourceManagerUrl = "https://management.azure.com/" });
        Assert.Equal("https://graph.microsoft.com/", pub.MicrosoftGraphUrl!.AbsoluteUri);
    }

    [Fact]
    public void Metadata_gives_microsoft_graph()
    {
        var doc = JsonNode.Parse("""
            {"name":"Lab","resourceManager":"https://arm.lab/","microsoftGraphResourceId":"https://graph.lab/",
             "authentication":{"loginEndpoint":"https://login.lab/","audiences":["https://management.lab/"]}}
            """);
        var cloud = CloudEnvironment.ParseMetadata(doc, new Uri("https://arm.lab/"), "test");
        Assert.Equal("https://graph.lab/", cloud.MicrosoftGraphUrl!.AbsoluteUri);
    }

    [Fact]
    public void Az_context_missing_endpoints_of_an_unknown_cloud_is_reported()
    {
        var ex = Assert.Throws<EngineException>(() => CloudEnvironment.FromAzContext(new AzContextSnapshot { EnvironmentName = "Lab" }));
        Assert.Equal("AzContextIncomplete", ex.Reason);
    }

    [Fact]
    public async Task Endpoints_file_with_all_values_needs_no_network()
    {
        string dir = Directory.CreateTempSubdirectory("acrid-env").FullName;
        File.WriteAllText(Path.Combine(dir, "endpoints.json"), """
            {"armEndpoint":"https://127.0.0.1:1/","tenantId":"t1","activeDirectoryAuthority":"https://127.0.0.1:1/","armAudience":"https://management.core.windows.net/","acrLoginServerSuffix":"azurecr.sandbox"}
            """);
        var cloud = await CloudEnvironment.ResolveAsync(dir, new RecordingHost(), CancellationToken.None);
        Assert.True(cloud.IsCustom);
        Assert.Equal("t1", cloud.DefaultTenantId);
        Assert.Equal("azurecr.sandbox", cloud.AcrLoginServerSuffix);
        Assert.Null(cloud.MicrosoftGraphUrl);

        File.WriteAllText(Path.Combine(dir, "endpoints.json"), """
            {"armEndpoint":"https://127.0.0.1:1/","tenantId":"t1","activeDirectoryAuthority":"https://127.0.0.1:1/","armAudience":"https://management.core.windows.net/","acrLoginServerSuffix":"azurecr.sandbox",
             "microsoftGraphEndpoint":"https://127.0.0.1:1/graph/"}
            """);
        cloud = await CloudEnvironment.ResolveAsync(dir, new RecordingHost(), CancellationToken.None);
        Assert.Equal("https://127.0.0.1:1/graph/", cloud.MicrosoftGraphUrl!.AbsoluteUri);
    }

    [Fact]
    public async Task Unreachable_sandbox_names_its_ca_bundle_in_the_fix()
    {
        string dir = Directory.CreateTempSubdirectory("acrid-env").FullName;
        string file = Path.Combine(dir, "endpoints.json");
        File.WriteAllText(file, """{"armEndpoint":"https://127.0.0.1:1/","tenantId":"t1","caBundle":"/state/ca-bundle.pem"}""");
        var options = new EngineOptions { MaxRetries = 0, NetworkTimeout = TimeSpan.FromSeconds(5) };
        var ex = await Assert.ThrowsAsync<EngineException>(() => CloudEnvironment.ResolveAsync(file, new RecordingHost(), CancellationToken.None, options));
        Assert.Equal("EnvironmentMetadataUnavailable", ex.Reason);
        Assert.Equal(EngineErrorCategory.ConnectionError, ex.Category);
        Assert.Contains("SSL_CERT_FILE=/state/ca-bundle.pem", ex.RecommendedAction);
        Assert.Equal(file, ex.TargetId);
    }
}
