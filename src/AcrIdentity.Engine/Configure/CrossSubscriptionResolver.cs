using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Targets;
using Azure.Core;

namespace AcrIdentity.Engine.Configure
{
    /// <summary>
    /// A resource of one type that users name by resource ID or by something ARM cannot look up directly (a name, a
    /// login server, a client ID): that is found by listing the type in the current subscription first, then in every
    /// other subscription the caller sees. Answers are cached per subscription and input.
    /// </summary>
    internal abstract class CrossSubscriptionResolver<T> where T : class
    {
        private readonly string _resourceType;
        private readonly string _noun;
        private readonly ArmGateway _arm;
        private readonly string _subscriptionId;
        private readonly IDictionary<string, T> _cache;
        private IReadOnlyList<JsonObject>? _others;

        /// <param name="resourceType">The type listed, e.g. Microsoft.ContainerRegistry/registries.</param>
        /// <param name="noun">What messages call it: "Registry", "Identity".</param>
        protected CrossSubscriptionResolver(string resourceType, string noun, ArmGateway arm, IEngineHost host, string subscriptionId, IDictionary<string, T>? cache)
        {
            _resourceType = resourceType;
            _noun = noun;
            _arm = arm;
            Host = host;
            _subscriptionId = subscriptionId;
            _cache = cache ?? new Dictionary<string, T>(StringComparer.OrdinalIgnoreCase);
        }

        protected IEngineHost Host { get; }

        /// <summary>Anything but a resource ID (which the base resolves with one GET): a name, login server, client ID….</summary>
        protected abstract Task<T> ResolveOtherAsync(string text, CancellationToken ct);

        protected abstract T From(JsonObject resource);

        protected abstract EngineException InvalidId(string text);

        protected abstract EngineException WrongKind(string text, string actualType);

        /// <param name="what">How it was named: "resource ID", "name", "login server".</param>
        protected abstract EngineException NotFound(string text, string what);

        /// <summary>The resource <paramref name="text"/> (trimmed) names: a resource ID with one GET, anything else by ResolveOtherAsync.</summary>
        protected async Task<T> ResolveCachedAsync(string text, CancellationToken ct)
        {
            string key = _subscriptionId + "|" + text;
            if (_cache.TryGetValue(key, out T? cached)) return cached;
            T found = ArmIds.LooksLikeId(text)
                ? From(await GetByIdAsync(text, ct).ConfigureAwait(false))
                : await ResolveOtherAsync(text, ct).ConfigureAwait(false);
            _cache[key] = found;
            return found;
        }

        /// <summary>One GET by resource ID, after checking the ID is well formed and of this type.</summary>
        private async Task<JsonObject> GetByIdAsync(string text, CancellationToken ct)
        {
            ResourceIdentifier id = ArmIds.TryParseResource(text) ?? throw InvalidId(text);
            if (!string.Equals(id.ResourceType.ToString(), _resourceType, StringComparison.OrdinalIgnoreCase)) throw WrongKind(text, id.ResourceType.ToString());
            ArmResponse? reply = await _arm.TryGetAsync(id.ToString(), ct).ConfigureAwait(false);
            if (reply?.Object == null) throw NotFound(text, "resource ID");
            Host.WriteVerbose($"{_noun} '{text}' is a resource ID.");
            return reply.Object;
        }

        protected async Task<IReadOnlyList<JsonObject>> ListHereAsync(CancellationToken ct) =>
            await ListAsync(_subscriptionId, ct).ConfigureAwait(false);

        /// <summary>Every other subscription's resources of the type, listed once per resolver.</summary>
        protected async Task<IReadOnlyList<JsonObject>> ListOthersAsync(CancellationToken ct)
        {
            if (_others != null) return _others;
            var found = new List<JsonObject>();
            foreach (JsonObject sub in await _arm.ListAsync("/subscriptions", ct).ConfigureAwait(false))
            {
                string? id = Json.Str(sub, "subscriptionId");
                if (string.IsNullOrEmpty(id) || string.Equals(id, _subscriptionId, StringComparison.OrdinalIgnoreCase)) continue;
                try
                {
                    found.AddRange(await ListAsync(id!, ct).ConfigureAwait(false));
                }
                catch (ArmRequestException ex) when (ex.Status == 403 || ex.Status == 404)
                {
                    // Visible but not listable: it holds nothing the caller could use anyway.
                    Host.WriteVerbose($"Skipping subscription {id} in the {_noun.ToLowerInvariant()} search: {ex.ArmCode ?? "HTTP " + ex.Status}.");
                }
            }
            _others = found;
            return found;
        }

        /// <summary>
        /// The one match in the current subscription, else in the others; NotFound(text, what) when none matches,
        /// <paramref name="ambiguous"/> (given the matches' IDs) when several do.
        /// </summary>
        protected async Task<JsonObject> FindOneAsync(Func<JsonObject, bool> match, string text, string what, Func<string, EngineException> ambiguous, CancellationToken ct)
        {
            var hits = (await ListHereAsync(ct).ConfigureAwait(false)).Where(match).ToList();
            if (hits.Count == 0) hits = (await ListOthersAsync(ct).ConfigureAwait(false)).Where(match).ToList();
            if (hits.Count == 0) throw NotFound(text, what);
            if (hits.Count > 1) throw ambiguous(string.Join(", ", hits.Select(h => Json.Str(h, "id"))));
            return hits[0];
        }

        private async Task<IReadOnlyList<JsonObject>> ListAsync(string subscriptionId, CancellationToken ct) =>
            await _arm.ListAsync($"/subscriptions/{subscriptionId}/providers/{_resourceType}", ct).ConfigureAwait(false);
    }
}
