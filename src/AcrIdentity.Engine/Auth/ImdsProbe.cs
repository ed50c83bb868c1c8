using System;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AcrIdentity.Engine.Auth
{
    /// <summary>
    /// A quick look for IMDS before asking MSAL for a token: off Azure, 169.254.169.254 does not answer and a
    /// managed-identity credential would wait out its network timeout and retries (minutes) before failing.
    /// </summary>
    internal static class ImdsProbe
    {
        internal const string DefaultAddress = "http://169.254.169.254";
        internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

        /// <summary>True when the managed identity would be reached over IMDS (no App Service / MSI variables).</summary>
        internal static bool UsesImds() =>
            Empty("IDENTITY_ENDPOINT") && Empty("MSI_ENDPOINT");

        internal static async Task EnsureReachableAsync(IEngineHost host, CancellationToken cancellationToken)
        {
            string address = Environment.GetEnvironmentVariable("AZURE_POD_IDENTITY_AUTHORITY_HOST") ?? DefaultAddress;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var baseUri))
            {
                throw Unavailable(address, "the address is not a URL");
            }
            // Like MSAL, keep only scheme, host and port of the override.
            var url = new Uri(baseUri.GetLeftPart(UriPartial.Authority) + "/metadata/identity/oauth2/token?api-version=2018-02-01");
            var options = new ProbeOptions();
            options.Retry.MaxRetries = 0;
            options.Retry.NetworkTimeout = Timeout;
            options.Diagnostics.IsLoggingContentEnabled = false;
            var pipeline = HttpPipelineBuilder.Build(options);
            using HttpMessage message = pipeline.CreateMessage();
            message.Request.Method = RequestMethod.Get;
            message.Request.Uri.Reset(url);
            try
            {
                // No Metadata header and no resource: a live IMDS answers 400, which is all this needs to know.
                await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
                host.WriteVerbose($"IMDS at {baseUri.GetLeftPart(UriPartial.Authority)} answered ({message.Response.Status}).");
            }
            catch (Exception ex) when (!(ex is OperationCanceledException) || !cancellationToken.IsCancellationRequested)
            {
                throw Unavailable(baseUri.GetLeftPart(UriPartial.Authority), ex.Message, ex);
            }
        }

        private static EngineException Unavailable(string address, string why, Exception? inner = null) =>
            new EngineException("ManagedIdentityUnavailable", EngineErrorCategory.ResourceUnavailable,
                $"No managed identity endpoint answers on this machine (IMDS at {address}: {why}).",
                "Run this on an Azure VM, scale set, App Service or Automation account that has a managed identity, or sign in with Connect-AzAccount / Connect-AcrIdentity -ApplicationId.",
                inner: inner);

        private static bool Empty(string name) => string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(name));

        private sealed class ProbeOptions : ClientOptions
        {
        }
    }
}
