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

namespace AcrIdentity.Engine.Audit
{
    /// <summary>Resource Graph cannot answer (not offered in this cloud, not permitted, or failing); callers fall back to ARM lists.</summary>
    internal sealed class ResourceGraphUnavailableException : Exception
    {
        internal ResourceGraphUnavailableException(string message, Exception inner) : base(message, inner)
        {
        }
    }

    /// <summary>
    /// Azure Resource Graph queries through the ARM pipeline (auth, retry on 429/5xx), every page followed with
    /// $skipToken at 1,000 rows. Queries must project an id column: without one ARG truncates instead of paging.
    /// Shared by the audit and anything else that must read many resources in a constant number of calls.
    /// </summary>
    internal sealed class ResourceGraphClient
    {
        internal const string Path = "/providers/Microsoft.ResourceGraph/resources";
        private const int PageSize = 1000;
        private readonly ArmGateway _arm;
        private readonly IEngineHost _host;

        internal ResourceGraphClient(ArmGateway arm, IEngineHost host)
        {
            _arm = arm;
            _host = host;
        }

        /// <summary>Pages answered so far (tests and -Verbose: the audit's cost is counted in pages).</summary>
        internal int Pages { get; private set; }

        /// <summary>Every row of the query. subscriptions/managementGroups limit it; null = everything the caller can read.</summary>
        internal async Task<IReadOnlyList<JsonObject>> QueryAsync(string query, IReadOnlyCollection<string>? subscriptions, IReadOnlyCollection<string>? managementGroups, CancellationToken ct)
        {
            var rows = new List<JsonObject>();
            string? skipToken = null;
            for (int page = 0; ; page++)
            {
                if (page >= 10000) throw new EngineException("TooManyPages", EngineErrorCategory.LimitsExceeded, "A Resource Graph query did not end after 10,000 pages.");
                var options = new JsonObject { ["$top"] = PageSize, ["resultFormat"] = "objectArray" };
                if (skipToken != null) options["$skipToken"] = skipToken;
                var body = new JsonObject { ["query"] = query, ["options"] = options };
                if (subscriptions != null && subscriptions.Count > 0) body["subscriptions"] = new JsonArray(subscriptions.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray());
                if (managementGroups != null && managementGroups.Count > 0) body["managementGroups"] = new JsonArray(managementGroups.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray());
                ArmResponse reply;
                try
                {
                    reply = await _arm.PostAsync(Path, body, ct, ApiVersions.ResourceGraph).ConfigureAwait(false);
                }
                catch (ArmRequestException ex) when (IsUnavailable(ex))
                {
                    throw new ResourceGraphUnavailableException($"Resource Graph is unavailable ({ex.Status} {ex.ArmCode}): {ex.ArmMessage}", ex);
                }
                Pages++;
                JsonObject? o = reply.Object;
                foreach (JsonObject row in (Json.Arr(o, "data") ?? new JsonArray()).OfType<JsonObject>()) rows.Add(row);
                if (string.Equals(Json.Str(o, "resultTruncated"), "true", StringComparison.OrdinalIgnoreCase))
                {
                    // A programming error (no id column), not a condition users can fix.
                    throw new InvalidOperationException("Resource Graph truncated the result: the query must project 'id'.");
                }
                await PaceAsync(reply, ct).ConfigureAwait(false);
                skipToken = Json.Str(o, "$skipToken");
                if (string.IsNullOrEmpty(skipToken)) break;
                _host.WriteVerbose($"Resource Graph: {rows.Count} rows so far, next page.");
            }
            return rows;
        }

        /// <summary>
        /// Resource Graph allows a few queries per user per window (15 per 5 s by default) and says how many are
        /// left; waiting for the window when none are left is cheaper than a 429 and its retry back-off.
        /// </summary>
        private async Task PaceAsync(ArmResponse reply, CancellationToken ct)
        {
            if (!TryHeader(reply, "x-ms-user-quota-remaining", out string? remaining) || !int.TryParse(remaining, out int left) || left > 0) return;
            TimeSpan wait = TryHeader(reply, "x-ms-user-quota-resets-after", out string? resets) && TimeSpan.TryParse(resets, System.Globalization.CultureInfo.InvariantCulture, out TimeSpan t)
                ? t + TimeSpan.FromSeconds(1) // the header has whole seconds, cut down
                : TimeSpan.FromSeconds(5);
            if (wait > TimeSpan.FromSeconds(60)) wait = TimeSpan.FromSeconds(60);
            _host.WriteVerbose($"Resource Graph quota used up; waiting {wait.TotalSeconds:0.#} s for the next window.");
            await Task.Delay(wait, ct).ConfigureAwait(false);
        }

        private static bool TryHeader(ArmResponse reply, string name, out string? value)
        {
            foreach (var kv in reply.Headers)
            {
                if (string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    value = kv.Value;
                    return true;
                }
            }
            value = null;
            return false;
        }

        // 400s other than a bad query mean the service or api-version is not there (sovereign clouds, Azure Stack, emulators);
        // 403/404 and retries used up on 429/5xx are also reasons to try ARM instead of failing the audit.
        private static bool IsUnavailable(ArmRequestException ex)
        {
            if (ex.Status == 400) return !ex.DetailCodes.Any(c => string.Equals(c, "InvalidQuery", StringComparison.OrdinalIgnoreCase) || string.Equals(c, "ParserFailure", StringComparison.OrdinalIgnoreCase));
            return ex.Status == 403 || ex.Status == 404 || ex.Status == 429 || ex.Status >= 500;
        }

        /// <summary>A KQL string literal.</summary>
        internal static string Literal(string value) => "'" + value.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
    }
}
