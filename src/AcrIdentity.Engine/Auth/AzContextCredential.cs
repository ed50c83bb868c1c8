using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Errors;
using Azure.Core;

namespace AcrIdentity.Engine.Auth
{
    /// <summary>
    /// A TokenCredential over the cmdlet's Get-AzAccessToken callback. Tokens are cached per resource until five
    /// minutes before expiry, so a cmdlet run costs one Get-AzAccessToken per audience.
    /// </summary>
    internal sealed class AzContextCredential : TokenCredential
    {
        private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);
        private readonly Func<string, CancellationToken, Task<AzAccessToken>> _getToken;
        private readonly Dictionary<string, AccessToken> _cache = new Dictionary<string, AccessToken>(StringComparer.OrdinalIgnoreCase);
        private readonly SemaphoreSlim _gate = new SemaphoreSlim(1, 1);

        internal AzContextCredential(Func<string, CancellationToken, Task<AzAccessToken>> getToken)
        {
            _getToken = getToken ?? throw new ArgumentNullException(nameof(getToken));
        }

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            // The engine sends asynchronously; this only serves a synchronous caller, off the pipeline thread.
            Task.Run(() => GetTokenAsync(requestContext, cancellationToken).AsTask(), cancellationToken).GetAwaiter().GetResult();

        public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            string resource = ResourceFromScopes(requestContext.Scopes);
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // A claims challenge (CAE) means ARM rejected the cached token: ask Az again.
                bool challenged = !string.IsNullOrEmpty(requestContext.Claims);
                if (!challenged && _cache.TryGetValue(resource, out var cached) && cached.ExpiresOn - RefreshMargin > DateTimeOffset.UtcNow)
                {
                    return cached;
                }
                AzAccessToken token;
                try
                {
                    token = await _getToken(resource, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!(ex is OperationCanceledException) && !(ex is EngineException))
                {
                    throw new EngineException("AzAccessTokenFailed", EngineErrorCategory.AuthenticationError,
                        $"Get-AzAccessToken failed for '{resource}': {ex.Message}",
                        "Run Connect-AzAccount again (or Connect-AcrIdentity), then retry.", inner: ex);
                }
                if (token == null)
                {
                    throw new EngineException("AzAccessTokenFailed", EngineErrorCategory.AuthenticationError,
                        $"Get-AzAccessToken returned nothing for '{resource}'.", "Run Connect-AzAccount again (or Connect-AcrIdentity), then retry.");
                }
                var result = new AccessToken(token.Token, token.ExpiresOn);
                _cache[resource] = result;
                return result;
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>Get-AzAccessToken takes a resource, not scopes: "https://x//.default" → "https://x/".</summary>
        internal static string ResourceFromScopes(string[] scopes)
        {
            if (scopes == null || scopes.Length == 0) throw new ArgumentException("A token request needs a scope.", nameof(scopes));
            string scope = scopes[0];
            const string suffix = "/.default";
            return scope.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) ? scope.Substring(0, scope.Length - suffix.Length) : scope;
        }
    }
}
