using AcrIdentity.Engine.Auth;
using Azure.Core;
using Azure.Identity;

namespace AcrIdentity.Engine.Tests.Support;

/// <summary>Real sandbox tokens for the Az-context tests, standing in for what Get-AzAccessToken returns.</summary>
public static class TokenSource
{
    public static Task<Func<string, CancellationToken, Task<AzAccessToken>>> ForOperatorAsync(SandboxFixture sbx, CloudEnvironment cloud)
    {
        var credential = new ClientSecretCredential(sbx.Host.Endpoints.TenantId, sbx.Host.Endpoints.Operator.ClientId,
            sbx.Host.Endpoints.Operator.ClientSecret, new ClientSecretCredentialOptions { AuthorityHost = cloud.AuthorityHost, DisableInstanceDiscovery = true });
        Func<string, CancellationToken, Task<AzAccessToken>> issue = async (resource, ct) =>
        {
            var token = await credential.GetTokenAsync(new TokenRequestContext(new[] { resource + "/.default" }), ct);
            return new AzAccessToken(token.Token, token.ExpiresOn);
        };
        return Task.FromResult(issue);
    }
}
