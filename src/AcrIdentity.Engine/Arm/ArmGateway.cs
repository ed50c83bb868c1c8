using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.ResourceManager;

namespace AcrIdentity.Engine.Arm
{
    /// <summary>
    /// Raw ARM requests through ArmClient's own pipeline (auth, retry, user agent). In Azure.ResourceManager 1.7.0
    /// that pipeline is reachable only from an ArmResource subclass. Adds: the pinned api-version table,
    /// long-running-operation polling, ARM error envelopes as ArmRequestException, and a verbose line per call.
    /// </summary>
    public sealed class ArmGateway : ArmResource
    {
        private static int s_progressId = 7300;
        private readonly IEngineHost _host;
        private readonly EngineOptions _options;

        internal ArmGateway(ArmClient client, IEngineHost host, EngineOptions options)
            : base(client, ResourceIdentifier.Root)
        {
            _host = host ?? throw new ArgumentNullException(nameof(host));
            _options = options ?? throw new ArgumentNullException(nameof(options));
        }

        /// <summary>The ARM endpoint requests go to.</summary>
        public Uri ResourceManagerUrl => Endpoint;

        public Task<ArmResponse> GetAsync(string resourceIdOrPath, CancellationToken cancellationToken, string? apiVersion = null) =>
            SendAsync("GET", resourceIdOrPath, apiVersion, null, cancellationToken);

        /// <summary>GET that answers null for 404 instead of throwing (reads before a plan).</summary>
        public async Task<ArmResponse?> TryGetAsync(string resourceIdOrPath, CancellationToken cancellationToken, string? apiVersion = null)
        {
            try
            {
                return await SendAsync("GET", resourceIdOrPath, apiVersion, null, cancellationToken).ConfigureAwait(false);
            }
            catch (ArmRequestException ex) when (ex.Status == 404)
            {
                return null;
            }
        }

        public Task<ArmResponse> PutAsync(string resourceIdOrPath, JsonNode body, CancellationToken cancellationToken, string? apiVersion = null) =>
            SendAsync("PUT", resourceIdOrPath, apiVersion, body ?? throw new ArgumentNullException(nameof(body)), cancellationToken);

        public Task<ArmResponse> PatchAsync(string resourceIdOrPath, JsonNode body, CancellationToken cancellationToken, string? apiVersion = null) =>
            SendAsync("PATCH", resourceIdOrPath, apiVersion, body ?? throw new ArgumentNullException(nameof(body)), cancellationToken);

        public Task<ArmResponse> DeleteAsync(string resourceIdOrPath, CancellationToken cancellationToken, string? apiVersion = null) =>
            SendAsync("DELETE", resourceIdOrPath, apiVersion, null, cancellationToken);

        public Task<ArmResponse> PostAsync(string resourceIdOrPath, JsonNode? body, CancellationToken cancellationToken, string? apiVersion = null) =>
            SendAsync("POST", resourceIdOrPath, apiVersion, body, cancellationToken);

        /// <summary>GET a collection and follow nextLink; returns the items of every page's "value".</summary>
        public async Task<IReadOnlyList<JsonObject>> ListAsync(string collectionPath, CancellationToken cancellationToken, string? apiVersion = null)
        {
            var items = new List<JsonObject>();
            var first = await SendAsync("GET", collectionPath, apiVersion, null, cancellationToken).ConfigureAwait(false);
            string? next = Collect(first, items);
            for (int page = 1; next != null; page++)
            {
                if (page > 1000) throw new EngineException("TooManyPages", EngineErrorCategory.LimitsExceeded, $"Listing '{collectionPath}' did not end after 1000 pages.", targetId: collectionPath);
                var reply = await SendUriAsync("GET", new Uri(next), collectionPath, null, cancellationToken).ConfigureAwait(false);
                next = Collect(reply, items);
            }
            return items;
        }

        /// <summary>
        /// Any ARM call. resourceIdOrPath is a resource ID or a path under the ARM endpoint, optionally with a query
        /// (without api-version), or an absolute https URL that ARM returned (nextLink); apiVersion null means the
        /// pinned version for its type. With waitForCompletion a 201/202 that names an operation is polled to its
        /// end and the final resource (or result) is returned.
        /// </summary>
        public async Task<ArmResponse> SendAsync(string method, string resourceIdOrPath, string? apiVersion, JsonNode? body, CancellationToken cancellationToken, bool waitForCompletion = true)
        {
            if (string.IsNullOrWhiteSpace(method)) throw new ArgumentException("A method is required.", nameof(method));
            if (string.IsNullOrWhiteSpace(resourceIdOrPath)) throw new ArgumentException("A resource ID or path is required.", nameof(resourceIdOrPath));
            method = method.ToUpperInvariant();
            string path = resourceIdOrPath.Trim();
            Uri uri;
            string version;
            if (Uri.TryCreate(path, UriKind.Absolute, out var absolute) && absolute.Scheme == Uri.UriSchemeHttps)
            {
                // A URL ARM handed out (nextLink, operation URL): it already carries its api-version.
                uri = absolute;
                path = absolute.AbsolutePath;
                version = apiVersion ?? ApiVersions.For(path);
            }
            else
            {
                if (!path.StartsWith("/", StringComparison.Ordinal)) path = "/" + path;
                version = apiVersion ?? ApiVersions.For(path);
                uri = BuildUri(path, version);
            }
            var first = await SendUriAsync(method, uri, path, body, cancellationToken).ConfigureAwait(false);
            if (!waitForCompletion || method == "GET") return first;
            return await CompleteAsync(method, path, version, first, cancellationToken).ConfigureAwait(false);
        }

        private Uri BuildUri(string path, string apiVersion)
        {
            string query = string.Empty;
            int q = path.IndexOf('?');
            if (q >= 0)
            {
                query = path.Substring(q + 1);
                path = path.Substring(0, q);
            }
            string baseText = Endpoint.AbsoluteUri.TrimEnd('/');
            string tail = (query.Length > 0 ? "?" + query + "&" : "?") + "api-version=" + Uri.EscapeDataString(apiVersion);
            return new Uri(baseText + path + tail);
        }

        private async Task<ArmResponse> SendUriAsync(string method, Uri uri, string targetPath, JsonNode? body, CancellationToken cancellationToken)
        {
            using HttpMessage message = Pipeline.CreateMessage();
            message.SetProperty(BoundedRetryPolicy.HostProperty, _host);
            Request request = message.Request;
            request.Method = RequestMethod.Parse(method);
            request.Uri.Reset(uri);
            request.Headers.SetValue("Accept", "application/json");
            if (body != null)
            {
                request.Headers.SetValue("Content-Type", "application/json");
                request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
            }

            try
            {
                await Pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException) || !cancellationToken.IsCancellationRequested)
            {
                throw Translate(ex, method, targetPath);
            }

            Response response = message.Response;
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var h in response.Headers) headers[h.Name] = h.Value;
            string text = response.Content?.ToString() ?? string.Empty;
            if (response.Status >= 400)
            {
                throw ArmErrors.FromReply(method, ResourceIdOf(targetPath), response.Status, text);
            }
            JsonNode? json = null;
            if (!string.IsNullOrWhiteSpace(text))
            {
                try
                {
                    json = JsonNode.Parse(text);
                }
                catch (JsonException ex)
                {
                    throw new EngineException("InvalidArmReply", EngineErrorCategory.InvalidData,
                        $"{method} {targetPath} answered {response.Status} with a body that is not JSON: {ex.Message}", targetId: ResourceIdOf(targetPath), inner: ex);
                }
            }
            return new ArmResponse(method, targetPath, response.Status, headers, json);
        }

        /// <summary>Polls a long-running operation (Azure-AsyncOperation, else Location, else provisioningState).</summary>
        private async Task<ArmResponse> CompleteAsync(string method, string path, string apiVersion, ArmResponse first, CancellationToken cancellationToken)
        {
            string? asyncOp = first.Header("Azure-AsyncOperation");
            string? location = first.Header("Location");
            bool running = (method == "PUT" || method == "PATCH") && IsRunning(ProvisioningState(first.Body));
            // Azure-AsyncOperation wins; Location means "poll me" only on 202 (on 201 it is just the new resource's URL).
            bool pollOperation = asyncOp != null && (first.Status == 201 || first.Status == 202 || running);
            bool pollLocation = !pollOperation && location != null && first.Status == 202;
            if (!pollOperation && !pollLocation && !running) return first;

            int progressId = Interlocked.Increment(ref s_progressId);
            string activity = $"Waiting for {method} {ShortName(path)}";
            var watch = Stopwatch.StartNew();
            ArmResponse last = first;
            try
            {
                if (pollOperation)
                {
                    while (true)
                    {
                        await WaitAsync(last, watch, path, progressId, activity, "InProgress", cancellationToken).ConfigureAwait(false);
                        last = await SendUriAsync("GET", new Uri(asyncOp!), path, null, cancellationToken).ConfigureAwait(false);
                        string? status = ArmErrors.Text(last.Object, "status");
                        if (IsSucceeded(status)) break;
                        if (IsFailed(status))
                        {
                            var error = ArmErrors.Property(last.Object, "error") as JsonObject;
                            throw ArmErrors.FromError(method, ResourceIdOf(path), last.Status, error ?? new JsonObject { ["code"] = status, ["message"] = $"The operation ended {status}." });
                        }
                    }
                    return await FinalAsync(method, path, apiVersion, location, last, cancellationToken).ConfigureAwait(false);
                }
                if (pollLocation)
                {
                    while (true)
                    {
                        await WaitAsync(last, watch, path, progressId, activity, "Accepted", cancellationToken).ConfigureAwait(false);
                        try
                        {
                            last = await SendUriAsync("GET", new Uri(location!), path, null, cancellationToken).ConfigureAwait(false);
                        }
                        catch (ArmRequestException gone) when (method == "DELETE" && gone.Status == 404)
                        {
                            // A deleted resource's operation URL may vanish with it: that is success.
                            return new ArmResponse(method, path, 204, last.Headers, null);
                        }
                        if (last.Status != 202) break;
                    }
                    if ((method == "PUT" || method == "PATCH") && last.Body == null)
                    {
                        return await SendUriAsync("GET", BuildUri(path, apiVersion), path, null, cancellationToken).ConfigureAwait(false);
                    }
                    return new ArmResponse(method, path, last.Status, last.Headers, last.Body);
                }
                // A 200/201 whose provisioningState is still running: poll the resource itself.
                while (true)
                {
                    await WaitAsync(last, watch, path, progressId, activity, ProvisioningState(last.Body) ?? "Running", cancellationToken).ConfigureAwait(false);
                    last = await SendUriAsync("GET", BuildUri(path, apiVersion), path, null, cancellationToken).ConfigureAwait(false);
                    string? state = ProvisioningState(last.Body);
                    if (!IsRunning(state))
                    {
                        if (IsFailed(state))
                        {
                            throw ArmErrors.FromError(method, ResourceIdOf(path), last.Status, new JsonObject { ["code"] = "Provisioning" + state, ["message"] = $"The resource's provisioningState is {state}." });
                        }
                        return new ArmResponse(method, path, last.Status, last.Headers, last.Body);
                    }
                }
            }
            finally
            {
                _host.WriteProgress(new EngineProgress(progressId, activity, "Done", 100, completed: true));
            }
        }

        private async Task<ArmResponse> FinalAsync(string method, string path, string apiVersion, string? location, ArmResponse operation, CancellationToken cancellationToken)
        {
            switch (method)
            {
                case "PUT":
                case "PATCH":
                    return await SendUriAsync("GET", BuildUri(path, apiVersion), path, null, cancellationToken).ConfigureAwait(false);
                case "POST":
                    if (location != null)
                    {
                        var result = await SendUriAsync("GET", new Uri(location), path, null, cancellationToken).ConfigureAwait(false);
                        return new ArmResponse(method, path, result.Status, result.Headers, result.Body);
                    }
                    return new ArmResponse(method, path, operation.Status, operation.Headers, operation.Body);
                default:
                    return new ArmResponse(method, path, operation.Status, operation.Headers, null);
            }
        }

        private async Task WaitAsync(ArmResponse last, Stopwatch watch, string path, int progressId, string activity, string status, CancellationToken cancellationToken)
        {
            TimeSpan delay = RetryAfter(last) ?? _options.LroPollInterval;
            if (watch.Elapsed + delay > _options.LroTimeout)
            {
                throw new EngineException("OperationTimedOut", EngineErrorCategory.OperationTimeout,
                    $"The operation on '{path}' was still {status} after {watch.Elapsed.TotalSeconds:0} s.",
                    "The change may still finish in Azure: check the resource, then run the command again (completed steps are skipped).",
                    ResourceIdOf(path));
            }
            _host.WriteProgress(new EngineProgress(progressId, activity, $"{status} after {watch.Elapsed.TotalSeconds:0} s"));
            _host.WriteVerbose($"ARM waiting {delay.TotalSeconds:0.#} s for the operation on {path} ({status}).");
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }

        private static TimeSpan? RetryAfter(ArmResponse reply) => RetryAfterHeader.Parse(reply.Header("Retry-After"));

        private static string? ProvisioningState(JsonNode? body) =>
            ArmErrors.Text(ArmErrors.Property(body as JsonObject, "properties") as JsonObject, "provisioningState");

        private static bool IsSucceeded(string? s) => string.Equals(s, "Succeeded", StringComparison.OrdinalIgnoreCase);

        private static bool IsFailed(string? s) => string.Equals(s, "Failed", StringComparison.OrdinalIgnoreCase) || string.Equals(s, "Canceled", StringComparison.OrdinalIgnoreCase) || string.Equals(s, "Cancelled", StringComparison.OrdinalIgnoreCase);

        private static bool IsRunning(string? s) => s != null && !IsSucceeded(s) && !IsFailed(s);

        private static string? Collect(ArmResponse reply, List<JsonObject> items)
        {
            if (ArmErrors.Property(reply.Object, "value") is JsonArray values)
            {
                items.AddRange(values.OfType<JsonObject>());
            }
            string? next = ArmErrors.Text(reply.Object, "nextLink");
            return string.IsNullOrWhiteSpace(next) ? null : next;
        }

        private static string ShortName(string path)
        {
            string id = ResourceIdOf(path);
            try
            {
                if (ResourceIdentifier.TryParse(id, out ResourceIdentifier? parsed) && parsed is not null && !string.IsNullOrEmpty(parsed.Name))
                {
                    return $"{parsed.ResourceType.GetLastType()} {parsed.Name}";
                }
            }
            catch (FormatException)
            {
                // Not a resource ID (a collection path): show it whole.
            }
            return id;
        }

        /// <summary>The resource ID an error is about: the path without its query.</summary>
        private static string ResourceIdOf(string path) => path.Split('?')[0];

        private static Exception Translate(Exception ex, string method, string path)
        {
            if (ex is AggregateException agg && agg.InnerExceptions.Count > 0)
            {
                ex = agg.InnerExceptions[agg.InnerExceptions.Count - 1];
            }
            switch (ex)
            {
                case EngineException engine:
                    return engine;
                case CredentialUnavailableException unavailable:
                    return new EngineException("CredentialUnavailable", EngineErrorCategory.AuthenticationError,
                        $"No token for {method} {path}: {unavailable.Message}",
                        "Check that the managed identity or service principal exists here, or sign in with Connect-AzAccount / Connect-AcrIdentity.", ResourceIdOf(path), unavailable);
                case AuthenticationFailedException failed:
                    return new EngineException("AuthenticationFailed", EngineErrorCategory.AuthenticationError,
                        $"Signing in failed for {method} {path}: {failed.Message}",
                        "Check the tenant, the application or identity ID and its secret, then connect again.", ResourceIdOf(path), failed);
                case OperationCanceledException timeout:
                    return new EngineException("Timeout", EngineErrorCategory.OperationTimeout,
                        $"{method} {path} timed out.", "Check the network path to ARM and run the command again.", ResourceIdOf(path), timeout);
                case RequestFailedException transport:
                    return new EngineException("ConnectionFailed", EngineErrorCategory.ConnectionError,
                        $"{method} {path} could not reach ARM: {transport.Message}",
                        "Check the network path to the ARM endpoint (and, for the sandbox, that it runs and SSL_CERT_FILE trusts its CA).", ResourceIdOf(path), transport);
                default:
                    return ex;
            }
        }
    }
}
