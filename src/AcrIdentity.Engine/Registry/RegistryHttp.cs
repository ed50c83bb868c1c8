using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AcrIdentity.Engine.Registry
{
    /// <summary>One reply from a registry endpoint. Body is kept only to read fields and quote error messages.</summary>
    internal sealed class RegistryReply
    {
        internal RegistryReply(int status, string? challenge, string body)
        {
            Status = status;
            Challenge = challenge;
            Body = body;
        }

        internal int Status { get; }
        internal string? Challenge { get; }
        internal string Body { get; }

        internal JsonObject? Json()
        {
            try
            {
                return JsonNode.Parse(Body) as JsonObject;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>The registry's own words ("CODE: message"), with anything token-shaped removed.</summary>
        internal string Quote()
        {
            JsonObject? doc = Json();
            string? text = null;
            if (doc?["errors"] is JsonArray errors && errors.OfType<JsonObject>().FirstOrDefault() is JsonObject first)
            {
                string? code = Str(first["code"]);
                string? message = Str(first["message"]);
                text = code == null ? message : message == null ? code : code + ": " + message;
            }
            else if (doc != null && (Str(doc["error"]) != null || Str(doc["message"]) != null))
            {
                text = Str(doc["error_description"]) ?? Str(doc["message"]) ?? Str(doc["error"]);
            }
            text ??= Body.Length > 300 ? Body.Substring(0, 300) + "…" : Body;
            text = Scrub(text.Trim());
            return text.Length == 0 ? $"HTTP {Status} with no message" : text;
        }

        internal string? Code() =>
            Json()?["errors"] is JsonArray errors && errors.OfType<JsonObject>().FirstOrDefault() is JsonObject first ? Str(first["code"]) : null;

        private static readonly Regex TokenShape = new Regex(@"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]*)?", RegexOptions.CultureInvariant);

        internal static string Scrub(string text) => TokenShape.Replace(text, "<token removed>");

        private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue(out string? s) ? s : null;
    }

    /// <summary>
    /// HTTP to a registry's auth endpoints through an Azure.Core pipeline (the engine's retries, and logging that
    /// never includes bodies). Verbose gets one line per call: method, URL without query, status, time.
    /// </summary>
    internal sealed class RegistryHttp
    {
        private readonly HttpPipeline _pipeline;
        private readonly IEngineHost _host;

        internal RegistryHttp(EngineOptions options, IEngineHost host)
        {
            _pipeline = HttpPipelineBuilder.Build(PlainClientOptions.Create(options));
            _host = host;
        }

        internal Task<RegistryReply> GetAsync(Uri url, string loginServer, CancellationToken ct) => SendAsync(RequestMethod.Get, url, null, loginServer, ct);

        internal Task<RegistryReply> PostFormAsync(Uri url, IEnumerable<KeyValuePair<string, string>> form, string loginServer, CancellationToken ct) =>
            SendAsync(RequestMethod.Post, url, form, loginServer, ct);

        private async Task<RegistryReply> SendAsync(RequestMethod method, Uri url, IEnumerable<KeyValuePair<string, string>>? form, string loginServer, CancellationToken ct)
        {
            using HttpMessage message = _pipeline.CreateMessage();
            message.Request.Method = method;
            message.Request.Uri.Reset(url);
            if (form != null)
            {
                string body = string.Join("&", form.Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value)));
                message.Request.Headers.SetValue("Content-Type", "application/x-www-form-urlencoded");
                message.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(body));
            }
            var watch = Stopwatch.StartNew();
            try
            {
                await _pipeline.SendAsync(message, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is RequestFailedException || ex is OperationCanceledException || ex is System.Net.Http.HttpRequestException || ex is AggregateException)
            {
                _host.WriteVerbose($"Registry {method} {url.GetLeftPart(UriPartial.Path)} failed after {watch.ElapsedMilliseconds} ms: {RegistryReply.Scrub(Innermost(ex).Message)}");
                throw Unreachable(loginServer, ex);
            }
            Response response = message.Response;
            _host.WriteVerbose($"Registry {method} {url.GetLeftPart(UriPartial.Path)} -> {response.Status} ({watch.ElapsedMilliseconds} ms)");
            response.Headers.TryGetValue("WWW-Authenticate", out string? challenge);
            string text = response.ContentStream == null ? string.Empty : response.Content.ToString();
            return new RegistryReply(response.Status, challenge, text);
        }

        private static Exception Innermost(Exception ex)
        {
            while (ex.InnerException != null) ex = ex.InnerException;
            return ex;
        }

        internal static EngineException Unreachable(string loginServer, Exception ex)
        {
            string detail = RegistryReply.Scrub(Innermost(ex).Message);
            bool tls = ex.ToString().IndexOf("SSL", StringComparison.OrdinalIgnoreCase) >= 0 || detail.IndexOf("certificate", StringComparison.OrdinalIgnoreCase) >= 0;
            return new EngineException("RegistryUnreachable", EngineErrorCategory.ConnectionError,
                $"The registry '{loginServer}' could not be reached: {detail}",
                tls
                    ? "This machine does not trust the registry's certificate: add its CA to the trust store (SSL_CERT_FILE for the sandbox)."
                    : "Check the login server's spelling, DNS (a private endpoint needs its private DNS zone), and that a proxy or firewall lets HTTPS through to it.",
                loginServer, ex);
        }
    }

    /// <summary>A Bearer challenge's parameters (realm, service, scope, error), from WWW-Authenticate.</summary>
    internal sealed class BearerChallenge
    {
        private BearerChallenge(Dictionary<string, string> values) => Values = values;

        internal Dictionary<string, string> Values { get; }
        internal string? Realm => Values.TryGetValue("realm", out string? v) ? v : null;
        internal string? Service => Values.TryGetValue("service", out string? v) ? v : null;

        /// <summary>Parses `Bearer k="v",k2=v2`; quoted values may hold commas and escaped quotes. Null when not a Bearer challenge.</summary>
        internal static BearerChallenge? Parse(string? header)
        {
            if (string.IsNullOrWhiteSpace(header)) return null;
            string h = header!.Trim();
            if (!h.StartsWith("Bearer", StringComparison.OrdinalIgnoreCase) || (h.Length > 6 && !char.IsWhiteSpace(h[6]))) return null;
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            int i = 6;
            while (i < h.Length)
            {
                while (i < h.Length && (char.IsWhiteSpace(h[i]) || h[i] == ',')) i++;
                int keyStart = i;
                while (i < h.Length && h[i] != '=' && h[i] != ',' && !char.IsWhiteSpace(h[i])) i++;
                string key = h.Substring(keyStart, i - keyStart);
                while (i < h.Length && char.IsWhiteSpace(h[i])) i++;
                if (i >= h.Length || h[i] != '=')
                {
                    continue;
                }
                i++;
                while (i < h.Length && char.IsWhiteSpace(h[i])) i++;
                var value = new StringBuilder();
                if (i < h.Length && h[i] == '"')
                {
                    i++;
                    while (i < h.Length && h[i] != '"')
                    {
                        if (h[i] == '\\' && i + 1 < h.Length) i++;
                        value.Append(h[i]);
                        i++;
                    }
                    i++;
                }
                else
                {
                    while (i < h.Length && h[i] != ',') value.Append(h[i++]);
                }
                if (key.Length > 0) values[key] = value.ToString().Trim();
            }
            return new BearerChallenge(values);
        }
    }
}
