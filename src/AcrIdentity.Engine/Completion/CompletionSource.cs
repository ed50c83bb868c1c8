using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Hosting;

namespace AcrIdentity.Engine.Completion
{
    public enum CompletionKind { Registry, ResourceGroup, UserAssignedIdentity }

    /// <summary>A name Tab can offer, with the resource it stands for (tooltip, disambiguation).</summary>
    public sealed class CompletionCandidate
    {
        public CompletionCandidate(string name, string resourceId, string? resourceGroup)
        {
            Name = name;
            ResourceId = resourceId;
            ResourceGroup = resourceGroup;
        }

        public string Name { get; }
        public string ResourceId { get; }
        public string? ResourceGroup { get; }
    }

    /// <summary>
    /// Registries, resource groups and user-assigned identities of the current context's subscription, for argument
    /// completers. Tab must never hang or print: every call is bounded by <see cref="CallBudget"/>, any failure is an
    /// empty list, and answers (failures too) are cached for <see cref="CacheDuration"/> per context and kind.
    /// </summary>
    public static class CompletionSource
    {
        private static readonly object Gate = new object();
        private static readonly Dictionary<string, (DateTimeOffset Listed, IReadOnlyList<CompletionCandidate> Items)> Cache =
            new Dictionary<string, (DateTimeOffset, IReadOnlyList<CompletionCandidate>)>(StringComparer.OrdinalIgnoreCase);

        public static TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(2);

        public static TimeSpan CallBudget { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>Test hook and Disconnect-friendly: forget every cached answer.</summary>
        public static void ClearCache()
        {
            lock (Gate) Cache.Clear();
        }

        public static IReadOnlyList<CompletionCandidate> Get(CompletionKind kind) => Get(kind, null, null);

        /// <summary>
        /// <paramref name="azContextKey"/> names the caller's Az context (account, subscription, cloud) when
        /// <paramref name="azContext"/> can supply one; it is called only on a cache miss and on the caller's thread,
        /// because reading the Az token must happen on the pipeline thread.
        /// </summary>
        public static IReadOnlyList<CompletionCandidate> Get(CompletionKind kind, string? azContextKey, Func<AzContextSnapshot?>? azContext)
        {
            ModuleContext? session = Session.Current;
            // Contexts differ by account/subscription; Connect-AcrIdentity's wins, as it does for the cmdlets.
            string key = kind + "|" + (session != null
                ? session.Cloud.ResourceManagerUrl + "|" + session.SubscriptionId + "|" + session.Account
                : azContextKey != null ? "az|" + azContextKey : "ambient");
            DateTimeOffset now = DateTimeOffset.UtcNow;
            lock (Gate)
            {
                if (Cache.TryGetValue(key, out var hit) && now - hit.Listed < CacheDuration) return hit.Items;
            }

            IReadOnlyList<CompletionCandidate> items;
            try
            {
                AzContextSnapshot? az = session == null && azContextKey != null ? azContext?.Invoke() : null;
                using (var budget = new CancellationTokenSource(CallBudget))
                {
                    // A thread-pool run so a synchronous caller (the completer, on the pipeline thread) cannot deadlock.
                    items = Task.Run(() => ListAsync(kind, session, az, budget.Token), budget.Token).GetAwaiter().GetResult();
                }
            }
            catch (Exception)
            {
                // Silent by design: Tab shows nothing rather than an error or a stack trace.
                items = Array.Empty<CompletionCandidate>();
            }

            lock (Gate) Cache[key] = (DateTimeOffset.UtcNow, items);
            return items;
        }

        private static async Task<IReadOnlyList<CompletionCandidate>> ListAsync(CompletionKind kind, ModuleContext? session, AzContextSnapshot? az, CancellationToken ct)
        {
            var host = SilentHost.Instance;
            var options = new EngineOptions { MaxRetries = 0, NetworkTimeout = TimeSpan.FromSeconds(4) };
            ModuleContext context = session ?? await CredentialResolver.ResolveAsync(new ResolveRequest { AzContext = az, Options = options }, host, ct).ConfigureAwait(false);
            if (string.IsNullOrEmpty(context.SubscriptionId)) return Array.Empty<CompletionCandidate>();
            string sub = "/subscriptions/" + context.SubscriptionId;
            string path;
            switch (kind)
            {
                case CompletionKind.Registry: path = sub + "/providers/Microsoft.ContainerRegistry/registries"; break;
                case CompletionKind.UserAssignedIdentity: path = sub + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities"; break;
                default: path = sub + "/resourcegroups"; break;
            }

            IReadOnlyList<JsonObject> items = await context.CreateGateway(host).ListAsync(path, ct).ConfigureAwait(false);
            return items
                .Select(i => new CompletionCandidate(
                    i["name"]?.GetValue<string>() ?? string.Empty,
                    i["id"]?.GetValue<string>() ?? string.Empty,
                    ResourceGroupOf(i["id"]?.GetValue<string>())))
                .Where(c => c.Name.Length > 0)
                .OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase)
                .ToList();
        }

        private static string? ResourceGroupOf(string? id)
        {
            if (id == null) return null;
            string[] parts = id.Split('/');
            for (int i = 0; i + 1 < parts.Length; i++)
            {
                if (string.Equals(parts[i], "resourceGroups", StringComparison.OrdinalIgnoreCase)) return parts[i + 1];
            }

            return null;
        }

        private sealed class SilentHost : IEngineHost
        {
            public static readonly SilentHost Instance = new SilentHost();

            public void WriteVerbose(string message) { }

            public void WriteDebug(string message) { }

            public void WriteWarning(string message) { }

            public void WriteProgress(EngineProgress progress) { }
        }
    }
}
