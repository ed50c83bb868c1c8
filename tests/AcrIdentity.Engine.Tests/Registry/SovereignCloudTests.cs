using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Registry;
using AcrIdentity.Engine.Tests.Support;
using Azure.Core;

namespace AcrIdentity.Engine.Tests.Registry;

/// <summary>A registry name without ARM becomes name + the cloud's own suffix, never azurecr.io by assumption.</summary>
public sealed class SovereignCloudTests
{
    private sealed class NoCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw new InvalidOperationException("no token expected");
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw new InvalidOperationException("no token expected");
    }

    [Theory]
    [InlineData("AzureCloud", "contoso.azurecr.io")]
    [InlineData("AzureChinaCloud", "contoso.azurecr.cn")]
    [InlineData("AzureUSGovernment", "contoso.azurecr.us")]
    public async Task Name_without_a_subscription_uses_the_clouds_suffix(string cloudName, string expected)
    {
        Assert.True(CloudEnvironment.TryGetKnown(cloudName, out var cloud));
        var context = new ModuleContext(ContextSource.ManagedIdentity, cloud, new NoCredential(), null, string.Empty, null, "mi", "ManagedIdentity", Fast.Options());
        var host = new RecordingHost();

        var target = await RegistryTarget.ResolveAsync(context, "Contoso", host, CancellationToken.None);

        Assert.Equal(expected, target.LoginServer);
        Assert.Equal("Contoso", target.GuessedFrom);
        Assert.Null(target.ArmAudienceAllowed);
        Assert.Contains("no subscription is visible", host.AllText());
    }

    [Theory]
    [InlineData("my_registry")]
    [InlineData("abc")]
    public async Task A_bad_name_is_refused_before_any_call(string name)
    {
        var context = new ModuleContext(ContextSource.ManagedIdentity, CloudEnvironment.AzureCloud, new NoCredential(), null, string.Empty, null, "mi", "ManagedIdentity", Fast.Options());
        var ex = await Assert.ThrowsAsync<AcrIdentity.Engine.Errors.EngineException>(() => RegistryTarget.ResolveAsync(context, name, new RecordingHost(), CancellationToken.None));
        Assert.Equal("InvalidRegistryName", ex.Reason);
    }

    [Fact]
    public async Task A_custom_cloud_without_a_suffix_asks_for_the_login_server()
    {
        var cloud = new CloudEnvironment("Custom", new Uri("https://arm.example/"), new Uri("https://login.example/"), "https://arm.example/", null, isCustom: true);
        var context = new ModuleContext(ContextSource.ManagedIdentity, cloud, new NoCredential(), null, string.Empty, null, "mi", "ManagedIdentity", Fast.Options());

        var ex = await Assert.ThrowsAsync<AcrIdentity.Engine.Errors.EngineException>(() => RegistryTarget.ResolveAsync(context, "contoso", new RecordingHost(), CancellationToken.None));

        Assert.Equal("RegistrySuffixUnknown", ex.Reason);
        var byServer = await RegistryTarget.ResolveAsync(context, "https://Contoso.Example:5000/v2/", new RecordingHost(), CancellationToken.None);
        Assert.Equal("contoso.example:5000", byServer.LoginServer);
    }
}
