using System;
using System.Security;

namespace AcrIdentity
{
    /// <summary>
    /// A registry credential from Get-AcrAccessToken: log in as Username with RefreshToken as the password.
    /// Tokens are SecureStrings so they do not show up in transcripts or formatted output.
    /// </summary>
    public sealed class AcrAccessToken
    {
        public string LoginServer { get; set; } = string.Empty;

        /// <summary>00000000-0000-0000-0000-000000000000: tells ACR the password is a refresh token.</summary>
        public string Username { get; set; } = string.Empty;

        /// <summary>The ACR refresh token (what `az acr login --expose-token` prints as accessToken).</summary>
        public SecureString? RefreshToken { get; set; }

        /// <summary>When the refresh token expires (about 3 hours after issue); null if the token does not say.</summary>
        public DateTimeOffset? ExpiresOn { get; set; }

        /// <summary>With -Repository: an access token for repository:&lt;Repository&gt;:&lt;actions&gt;.</summary>
        public SecureString? AccessToken { get; set; }

        public DateTimeOffset? AccessTokenExpiresOn { get; set; }

        public string? Repository { get; set; }

        /// <summary>What the registry granted on Repository (pull, push, …).</summary>
        public string[] Actions { get; set; } = Array.Empty<string>();

        /// <summary>The registry's resource ID, when ARM could be read.</summary>
        public string? RegistryId { get; set; }

        /// <summary>Who the token stands for.</summary>
        public string? Identity { get; set; }
    }

    /// <summary>Get-AcrAccessToken -AsPlainText: the same, with the tokens as strings (handle with care).</summary>
    public sealed class AcrAccessTokenPlainText
    {
        public string LoginServer { get; set; } = string.Empty;
        public string Username { get; set; } = string.Empty;
        public string? RefreshToken { get; set; }
        public DateTimeOffset? ExpiresOn { get; set; }
        public string? AccessToken { get; set; }
        public DateTimeOffset? AccessTokenExpiresOn { get; set; }
        public string? Repository { get; set; }
        public string[] Actions { get; set; } = Array.Empty<string>();
        public string? RegistryId { get; set; }
        public string? Identity { get; set; }

        /// <summary>Never the token: this object may end up in a log by accident.</summary>
        public override string ToString() => $"{LoginServer} ({Username})";
    }

    /// <summary>What Connect-AcrRegistry wrote for one tool (no secret).</summary>
    public sealed class AcrRegistryLogin
    {
        public string LoginServer { get; set; } = string.Empty;
        public string Username { get; set; } = string.Empty;
        public DateTimeOffset? ExpiresOn { get; set; }

        /// <summary>Docker or Containers (podman, skopeo, buildah).</summary>
        public string Target { get; set; } = string.Empty;

        /// <summary>The file written (or that names the credential helper).</summary>
        public string Path { get; set; } = string.Empty;

        /// <summary>AuthFile (an auths entry holds the credential) or CredentialHelper.</summary>
        public string Method { get; set; } = string.Empty;

        /// <summary>The docker-credential-* program that stores the secret, when the file names one.</summary>
        public string? CredentialHelper { get; set; }

        /// <summary>An entry for this registry existed and was replaced.</summary>
        public bool Replaced { get; set; }

        public string? RegistryId { get; set; }
        public string? Identity { get; set; }
    }
}
