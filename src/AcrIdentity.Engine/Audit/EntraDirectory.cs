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
        internal DirectoryUnavailableException(string message, Exception? inner = null, bool denied = false) : base(message, inner)
        {
            Denied = denied;
        }

        /// <summary>Graph refused the caller (401/403): reading the directory is a permission away.</summary>
        internal bool Denied { get; }
    }

    /// <summary>What a directory learned about tenants, kept across the inputs of one command.</summary>
    internal sealed class DirectoryState
    {
        internal string? DirectoryTenant { get; set; }
        internal Dictionary<string, string?> SubscriptionTenants { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
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
        private readonly ArmGateway _arm;
        private HttpPipeline? _pipeline;
        private readonly DirectoryState _state;

        /// <param name="arm">The caller's gateway, for the subscriptions' tenants.</param>
        internal EntraDirectory(ModuleContext context, ArmGateway arm, IEngineHost host, DirectoryState? state = null)
        {
            _context = context;
            _arm = arm;
            _host = host;
            _state = state ?? new DirectoryState();
        }

        /// <summary>The principals found, by ID (case-insensitive). Throws DirectoryUnavailableException when Graph cannot answer.</summary>
        internal async Task<IReadOnlyDictionary<string, DirectoryEntry>> LookUpAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
        {
            var found = new Dictionary<string, DirectoryEntry>(StringComparer.OrdinalIgnoreCase);
            if (ids.Count == 0) return found;
            var list = ids.ToList();
            for (int start = 0; start < list.Count; start += BatchSize)
            {
                var body = new JsonObject
                {
                    ["ids"] = new JsonArray(list.Skip(start).Take(BatchSize).Select(i => (JsonNode)JsonValue.Create(i)!).ToArray()),
                    ["types"] = new JsonArray("servicePrincipal", "user", "group"),
                };
                foreach (JsonObject o in await ValueAsync(RequestMethod.Post, "v1.0/directoryObjects/getByIds", body, ct).ConfigureAwait(false))
                {
                    DirectoryEntry? entry = Parse(o);
                    if (entry != null) found[entry.Id] = entry;
                }
            }
            _host.WriteVerbose($"Entra ID: {found.Count} of {list.Count} principals exist ({(list.Count + BatchSize - 1) / BatchSize} Graph call(s)).");
            return found;
        }

        /// <summary>
        /// Whether this directory holds the principals assigned roles in the subscription. Not for a subscription of
        /// another tenant delegated to the caller's (Azure Lighthouse): its principals are that tenant's, and Graph here
        /// would call every one of them deleted. Throws DirectoryUnavailableException when Graph cannot answer.
        /// </summary>
        internal async Task<bool> HoldsPrincipalsOfAsync(string subscriptionId, CancellationToken ct)
        {
            if (_state.DirectoryTenant == null)
            {
                var org = await ValueAsync(RequestMethod.Get, "v1.0/organization?$select=id", null, ct).ConfigureAwait(false);
                _state.DirectoryTenant = Json.Str(org.FirstOrDefault(), "id")
                    ?? throw new DirectoryUnavailableException("Microsoft Graph named no organization for the caller");
            }
            if (!_state.SubscriptionTenants.TryGetValue(subscriptionId, out string? tenant))
            {
                try
                {
                    tenant = ArmErrors.Text((await _arm.GetAsync("/subscriptions/" + subscriptionId, ct).ConfigureAwait(false)).Object, "tenantId");
                }
                catch (ArmRequestException ex)
                {
                    _host.WriteVerbose($"Subscription {subscriptionId}'s tenant is unknown ({ex.Status}): its principals are not looked up in Entra ID.");
                    tenant = null;
                }
                _state.SubscriptionTenants[subscriptionId] = tenant;
            }
            bool holds = string.Equals(tenant, _state.DirectoryTenant, StringComparison.OrdinalIgnoreCase);
            if (!holds && tenant != null)
            {
                _host.WriteVerbose($"Subscription {subscriptionId} belongs to tenant {tenant}, not {_state.DirectoryTenant}: its principals live in that tenant's directory.");
            }
            return holds;
        }

        private async Task<List<JsonObject>> ValueAsync(RequestMethod method, string path, JsonObject? body, CancellationToken ct)
        {
            Uri graph = _context.Cloud.MicrosoftGraphUrl
                ?? throw new DirectoryUnavailableException($"the cloud '{_context.Cloud.Name}' names no Microsoft Graph endpoint");
            _pipeline ??= CreatePipeline(_context.Cloud.GraphScope!);
            JsonObject reply = await SendAsync(_pipeline, method, new Uri(graph, path), body, ct).ConfigureAwait(false);
            // A 200 without the collection (a proxy's answer, say) must not read as "nobody exists".
            JsonArray value = Json.Arr(reply, "value")
                ?? throw new DirectoryUnavailableException($"Microsoft Graph answered {path.Split('?')[0]} without a value list");
            return value.OfType<JsonObject>().ToList();
        }

        private HttpPipeline CreatePipeline(string scope)
        {
            EngineOptions options = _context.Options.Clone();
            if (options.RetryBudget > MaxRetryBudget) options.RetryBudget = MaxRetryBudget;
            PlainClientOptions clientOptions = PlainClientOptions.Create(options);
            clientOptions.RetryPolicy = new BoundedRetryPolicy(options);
            return HttpPipelineBuilder.Build(clientOptions, new BearerTokenAuthenticationPolicy(_context.Credential, scope));
        }

        private async Task<JsonObject> SendAsync(HttpPipeline pipeline, RequestMethod method, Uri url, JsonObject? body, CancellationToken ct)
        {
            using HttpMessage message = pipeline.CreateMessage();
            message.SetProperty(BoundedRetryPolicy.HostProperty, _host);
            message.SetProperty(BoundedRetryPolicy.ServiceProperty, "Graph");
            message.Request.Method = method;
            message.Request.Uri.Reset(url);
            message.Request.Headers.SetValue("Accept", "application/json");
            if (body != null)
            {
                message.Request.Headers.SetValue("Content-Type", "application/json");
                message.Request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
            }
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
                _host.WriteVerbose($"Graph {method} {url.AbsolutePath} failed after {watch.ElapsedMilliseconds} ms: {ex.GetType().Name}");
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
                throw new DirectoryUnavailableException($"Microsoft Graph answered {response.Status}{(code == null ? string.Empty : " " + code)}{detail}",
                    denied: response.Status == 401 || response.Status == 403);
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
