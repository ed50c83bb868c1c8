using System.Linq;
using System.Management.Automation;
using AcrIdentity.Engine.Registry;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// An ACR refresh token (and, with -Repository, a scoped access token) for the current identity, from the
    /// registry's own token exchange: what `az acr login --expose-token` gives, as SecureStrings unless -AsPlainText.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "AcrAccessToken")]
    [OutputType(typeof(AcrAccessToken), typeof(AcrAccessTokenPlainText))]
    public sealed class GetAcrAccessTokenCommand : RegistryTokenCmdlet
    {
        /// <summary>Return the tokens as plain strings (for `docker login --password-stdin`, or an HTTP client).</summary>
        [Parameter]
        public SwitchParameter AsPlainText { get; set; }

        protected override void ProcessRecord()
        {
            var bridge = new PipelineBridge();
            RegistryTokenRequest request = BuildRequest(bridge);
            RegistryCredential? credential = RunEngine(bridge, (host, ct) => RegistryTokenService.GetAsync(request, host, ct), terminating: false);
            if (credential is null) return;

            if (AsPlainText.IsPresent)
            {
                WriteObject(new AcrAccessTokenPlainText
                {
                    LoginServer = credential.LoginServer,
                    Username = credential.Username,
                    RefreshToken = credential.RefreshToken,
                    ExpiresOn = credential.ExpiresOn,
                    AccessToken = credential.AccessToken,
                    AccessTokenExpiresOn = credential.AccessTokenExpiresOn,
                    Repository = credential.Repository,
                    Actions = credential.GrantedActions.ToArray(),
                    RegistryId = credential.RegistryId,
                    Identity = credential.Account,
                });
                return;
            }

            WriteObject(new AcrAccessToken
            {
                LoginServer = credential.LoginServer,
                Username = credential.Username,
                RefreshToken = Secure(credential.RefreshToken),
                ExpiresOn = credential.ExpiresOn,
                AccessToken = Secure(credential.AccessToken),
                AccessTokenExpiresOn = credential.AccessTokenExpiresOn,
                Repository = credential.Repository,
                Actions = credential.GrantedActions.ToArray(),
                RegistryId = credential.RegistryId,
                Identity = credential.Account,
            });
        }
    }
}
