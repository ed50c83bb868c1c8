using System;
using System.Collections.Generic;
using AcrIdentity.Engine.Auth;

namespace AcrIdentity.Engine.Registry
{
    public enum RegistryAction
    {
        Pull,
        Push,
    }

    /// <summary>What Get-AcrAccessToken and Connect-AcrRegistry ask for.</summary>
    public sealed class RegistryTokenRequest
    {
        /// <summary>Name, login server or resource ID.</summary>
        public string Registry { get; set; } = string.Empty;

        /// <summary>With a repository, a scoped access token is fetched too, which proves the identity may pull (or push) there.</summary>
        public string? Repository { get; set; }

        public RegistryAction Action { get; set; } = RegistryAction.Pull;

        /// <summary>How to sign in (design §3); -Identity and its selectors live here.</summary>
        public ResolveRequest Resolve { get; set; } = new ResolveRequest();
    }

    /// <summary>
    /// An ACR credential: the refresh token from /oauth2/exchange (what docker/podman/skopeo log in with, as the
    /// password of the all-zero user) and, when a repository was asked, a scoped access token.
    /// ToString never shows a token.
    /// </summary>
    public sealed class RegistryCredential
    {
        /// <summary>ACR's marker user: the password is an ACR refresh token.</summary>
        public const string TokenUsername = "00000000-0000-0000-0000-000000000000";

        internal RegistryCredential(string loginServer, string? registryId, string refreshToken, DateTimeOffset? expiresOn, string audience, string account)
        {
            LoginServer = loginServer;
            RegistryId = registryId;
            RefreshToken = refreshToken;
            ExpiresOn = expiresOn;
            Audience = audience;
            Account = account;
        }

        public string LoginServer { get; }
        /// <summary>Null when ARM could not be read (the identity holds only data-plane roles).</summary>
        public string? RegistryId { get; }
        public string Username => TokenUsername;
        public string RefreshToken { get; }
        /// <summary>The refresh token's exp; null when the token carries none.</summary>
        public DateTimeOffset? ExpiresOn { get; }
        /// <summary>The Entra audience exchanged (the cloud's ARM audience, or https://containerregistry.azure.net).</summary>
        public string Audience { get; }
        /// <summary>Who the credential stands for (the resolved context's account).</summary>
        public string Account { get; }

        public string? Repository { get; internal set; }
        public string? AccessToken { get; internal set; }
        public DateTimeOffset? AccessTokenExpiresOn { get; internal set; }
        /// <summary>The actions the registry granted on Repository.</summary>
        public IReadOnlyList<string> GrantedActions { get; internal set; } = Array.Empty<string>();

        public override string ToString() => $"{LoginServer} as {Account}, expires {ExpiresOn:u}";
    }
}
