using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Registry;
using AcrIdentity.Engine.Targets;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AcrIdentity.Engine.Audit
{
    /// <summary>Entra ID could not be asked (no Graph in this cloud, no token, no Directory.Read.All, network, 5xx); Message says why.</summary>
    internal sealed class DirectoryUnavailableException : Exception
    {
        internal DirectoryUnavailableException(string message, Exception? inner = null) : base(message, inner)
        {
        }
    }

    /// <summary>A principal as Entra ID knows it.</summary>
    internal sealed class DirectoryEntry
    {
        internal DirectoryEntry(string id, string? displayName, string kind, string? managedIdentityResourceId, string? identityType)
        {
            Id = id;
            DisplayName = displayName;
            Kind = kind;
            ManagedIdentityResourceId = managedIdentityResourceId;
            IdentityType = identityType;
        }

        internal string Id { get; }
        internal string? DisplayName { get; }
        /// <summary>ManagedIdentity or Application (a service principal's servicePrincipalType), User, Group.</summary>
        internal string Kind { get; }
        /// <summary>For a managed identity: the user-assigned identity, or the resource a system-assigned one belongs to.</summary>
        internal string? ManagedIdentityResourceId { get; }
        /// <summary>For a managed identity: UserAssigned or SystemAssigned (Graph's isExplicit).</summary>
        internal string? IdentityType { get; }
    }

    /// <summary>
    /// Looks principals up in Entra ID with Microsoft Graph's POST /v1.0/directoryObjects/getByIds, 1,000 IDs a call
    /// (Graph's limit), so the cost is one call per 1,000 principals. An ID missing from the answer does not exist.
    /// </summary>
    internal sealed class EntraDirectory
    {
        internal const int BatchSize = 1000;
        // Graph only refines the audit's flags: past this much retrying, the audit goes on without it.
        private static readonly TimeSpan MaxRetryBudget = TimeSpan.FromSeconds(30);

        private readonly ModuleContext _context;
        private readonly IEngineHost _host;

        internal EntraDirectory(ModuleContext context, IEngineHost host)
        {
            _context = context;
            _host = host;
        }

        /// <summary>The principals found, by ID (case-insensitive). Throws DirectoryUnavailableException when Graph cannot answer.</summary>
        internal async Task<IReadOnlyDictionary<string, DirectoryEntry>> LookUpAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
        {
            var found = new Dictionary<string, DirectoryEntry>(StringComparer.OrdinalIgnoreCase);
            if (ids.Count == 0) return found;
            Uri? graph = _context.Cloud.MicrosoftGraphUrl;
            if (graph == null)
            {
                throw new DirectoryUnavailableException($"the cloud '{_context.Cloud.Name}' names no Microsoft Graph endpoint");
            }
            HttpPipeline pipeline = CreatePipeline(_context.Cloud.GraphScope!);
            var url = new Uri(graph, "v1.0/directoryObjects/getByIds");
            var list = ids.ToList();
            for (int start = 0; start < list.Count; start += BatchSize)
            {
                var batch = list.Skip(start).Take(BatchSize).ToList();
                JsonObject reply = await PostAsync(pipeline, url, batch, ct).ConfigureAwait(false);
                foreach (JsonObject o in Json.Arr(reply, "value")?.OfType<JsonObject>() ?? Enumerable.Empty<JsonObject>())
                {
                    DirectoryEntry? entry = Parse(o);
                    if (entry != null) found[entry.Id] = entry;
                }
            }
            _host.WriteVerbose($"Entra ID: {found.Count} of {list.Count} principals exist ({(list.Count + BatchSize - 1) / BatchSize} Graph call(s)).");
            return found;
        }

        private HttpPipeline CreatePipeline(string scope)
        {
            EngineOptions options = _context.Options.Clone();
            if (options.RetryBudget > MaxRetryBudget) options.RetryBudget = MaxRetryBudget;
            PlainClientOptions clientOptions = PlainClientOptions.Create(options);
            clientOptions.RetryPolicy = new BoundedRetryPolicy(options);
            return HttpPipelineBuilder.Build(clientOptions, new BearerTokenAuthenticationPolicy(_context.Credential, scope));
        }

        private async Task<JsonObject> PostAsync(HttpPipeline pipeline, Uri url, IReadOnlyList<string> ids, CancellationToken ct)
        {
            var body = new JsonObject
            {
                ["ids"] = new JsonArray(ids.Select(i => (JsonNode)JsonValue.Create(i)!).ToArray()),
                ["types"] = new JsonArray("servicePrincipal", "user", "group"),
            };
            using HttpMessage message = pipeline.CreateMessage();
            message.SetProperty(BoundedRetryPolicy.HostProperty, _host);
            message.SetProperty(BoundedRetryPolicy.ServiceProperty, "Graph");
            message.Request.Method = RequestMethod.Post;
            message.Request.Uri.Reset(url);
            message.Request.Headers.SetValue("Accept", "application/json");
            message.Request.Headers.SetValue("Content-Type", "application/json");
            message.Request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
            var watch = Stopwatch.StartNew();
            try
            {
                await pipeline.SendAsync(message, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                // No token (Az context without Graph, credential refused), TLS, DNS, timeouts: all mean "not now".
                _host.WriteVerbose($"Graph POST {url.AbsolutePath} failed after {watch.ElapsedMilliseconds} ms: {ex.GetType().Name}");
                throw new DirectoryUnavailableException(RegistryReply.Scrub(Innermost(ex).Message), ex);
            }
            Response response = message.Response;
            string text = response.Content?.ToString() ?? string.Empty;
            JsonObject? json = null;
            try
            {
                json = string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text) as JsonObject;
            }
            catch (JsonException)
            {
                // A proxy's page, say: judged by the status below.
            }
            if (response.Status >= 400 || json == null)
            {
                string? code = Json.Str(json, "error", "code");
                string? said = Json.Str(json, "error", "message");
                string detail = said == null ? string.Empty : ": " + RegistryReply.Scrub(said);
                throw new DirectoryUnavailableException($"Microsoft Graph answered {response.Status}{(code == null ? string.Empty : " " + code)}{detail}");
            }
            return json;
        }

        private static DirectoryEntry? Parse(JsonObject o)
        {
            string? id = Json.Str(o, "id");
            if (id == null) return null;
            string type = Json.Str(o, "@odata.type") ?? string.Empty;
            string kind;
            string? resourceId = null;
            string? identityType = null;
            if (type.EndsWith(".user", StringComparison.OrdinalIgnoreCase)) kind = "User";
            else if (type.EndsWith(".group", StringComparison.OrdinalIgnoreCase)) kind = "Group";
            else
            {
                kind = Json.Str(o, "servicePrincipalType") ?? "ServicePrincipal";
                // A managed identity's alternativeNames: "isExplicit=True|False" (user- or system-assigned) and its resource ID.
                var names = Json.Arr(o, "alternativeNames")?.Select(n => n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null)
                    .Where(n => n != null).Select(n => n!).ToList() ?? new List<string>();
                resourceId = names.FirstOrDefault(n => n.StartsWith("/subscriptions/", StringComparison.OrdinalIgnoreCase));
                string? isExplicit = names.FirstOrDefault(n => n.StartsWith("isExplicit=", StringComparison.OrdinalIgnoreCase));
                if (isExplicit != null) identityType = isExplicit.EndsWith("True", StringComparison.OrdinalIgnoreCase) ? "UserAssigned" : "SystemAssigned";
            }
            return new DirectoryEntry(id, Json.Str(o, "displayName"), kind, resourceId, identityType);
        }

        private static Exception Innermost(Exception ex)
        {
            while (ex.InnerException != null) ex = ex.InnerException;
            return ex;
        }
    }
}
