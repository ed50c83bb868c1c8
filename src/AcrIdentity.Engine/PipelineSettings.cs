using System;
using System.Linq;
using Azure.Core;

namespace AcrIdentity.Engine
{
    /// <summary>Settings every Azure.Core pipeline of the engine gets: retries from EngineOptions, and logging that cannot leak a token.</summary>
    internal static class PipelineSettings
    {
        internal const string ApplicationId = "AcrIdentity";

        internal static void Apply(ClientOptions target, EngineOptions options)
        {
            target.Retry.Mode = RetryMode.Exponential;
            target.Retry.MaxRetries = Math.Max(0, options.MaxRetries);
            target.Retry.Delay = options.RetryDelay;
            target.Retry.MaxDelay = options.MaxRetryDelay;
            target.Retry.NetworkTimeout = options.NetworkTimeout;

            // Azure.Core's EventSource logging must never carry a token: no bodies (token replies are bodies), and
            // the Authorization header stays out of the allow-list so it is always written as REDACTED.
            target.Diagnostics.IsLoggingContentEnabled = false;
            foreach (var name in target.Diagnostics.LoggedHeaderNames.Where(IsSecretHeader).ToList())
            {
                target.Diagnostics.LoggedHeaderNames.Remove(name);
            }
            foreach (var name in target.Diagnostics.LoggedQueryParameters.Where(IsSecretQuery).ToList())
            {
                target.Diagnostics.LoggedQueryParameters.Remove(name);
            }
            target.Diagnostics.ApplicationId = ApplicationId;
        }

        private static bool IsSecretHeader(string name) =>
            name.Equals("Authorization", StringComparison.OrdinalIgnoreCase)
            || name.Equals("X-IDENTITY-HEADER", StringComparison.OrdinalIgnoreCase)
            || name.Equals("secret", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Cookie", StringComparison.OrdinalIgnoreCase);

        private static bool IsSecretQuery(string name) =>
            name.IndexOf("token", StringComparison.OrdinalIgnoreCase) >= 0
            || name.IndexOf("secret", StringComparison.OrdinalIgnoreCase) >= 0
            || name.Equals("sig", StringComparison.OrdinalIgnoreCase);
    }
}
