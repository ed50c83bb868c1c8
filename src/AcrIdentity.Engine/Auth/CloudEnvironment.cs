using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AcrIdentity.Engine.Auth
{
    /// <summary>
    /// One Azure cloud: where ARM and Entra live, the token audience for ARM, and the registry login-server
    /// suffix. Never assume public-cloud values: sovereign and custom clouds (the sandbox) differ in all of them.
    /// </summary>
    public sealed class CloudEnvironment
    {
        public const string MetadataApiVersion = "2022-09-01";

        public CloudEnvironment(string name, Uri resourceManagerUrl, Uri authorityHost, string armAudience, string? acrLoginServerSuffix, bool isCustom, string? defaultTenantId = null,
            Uri? microsoftGraphUrl = null)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A cloud needs a name.", nameof(name));
            if (string.IsNullOrWhiteSpace(armAudience)) throw new ArgumentException("A cloud needs an ARM audience.", nameof(armAudience));
            Name = name;
            ResourceManagerUrl = WithTrailingSlash(resourceManagerUrl ?? throw new ArgumentNullException(nameof(resourceManagerUrl)));
            AuthorityHost = WithTrailingSlash(authorityHost ?? throw new ArgumentNullException(nameof(authorityHost)));
            ArmAudience = armAudience;
            AcrLoginServerSuffix = string.IsNullOrWhiteSpace(acrLoginServerSuffix) ? null : acrLoginServerSuffix!.Trim().TrimStart('.');
            IsCustom = isCustom;
            DefaultTenantId = string.IsNullOrWhiteSpace(defaultTenantId) ? null : defaultTenantId;
            MicrosoftGraphUrl = microsoftGraphUrl == null ? null : WithTrailingSlash(microsoftGraphUrl);
        }

        public string Name { get; }
        public Uri ResourceManagerUrl { get; }
        /// <summary>The Entra (AAD) authority host, e.g. https://login.microsoftonline.com/.</summary>
        public Uri AuthorityHost { get; }
        /// <summary>Resource the ARM token is issued for, e.g. https://management.core.windows.net/.</summary>
        public string ArmAudience { get; }
        /// <summary>Registry login-server suffix without the leading dot (azurecr.io, azurecr.cn, azurecr.us); null when the cloud does not say.</summary>
        public string? AcrLoginServerSuffix { get; }
        public bool IsCustom { get; }
        /// <summary>The tenant a custom cloud's description names (the sandbox's endpoints.json does).</summary>
        public string? DefaultTenantId { get; }

        /// <summary>
        /// Microsoft Graph's base URL, which is also its token audience (https://graph.microsoft.com/); null when the
        /// cloud does not say, and then nothing is looked up in Entra ID.
        /// </summary>
        public Uri? MicrosoftGraphUrl { get; }

        /// <summary>The scope a Graph token is requested for ("https://graph.microsoft.com/.default"); null without Graph.</summary>
        public string? GraphScope => MicrosoftGraphUrl == null ? null : MicrosoftGraphUrl.AbsoluteUri.TrimEnd('/') + "/.default";

        /// <summary>The scope an ARM token is requested for: the audience plus "/.default" (so "…windows.net//.default", as az asks).</summary>
        public string ArmScope => ArmAudience + "/.default";

        public static CloudEnvironment AzureCloud { get; } = new CloudEnvironment("AzureCloud",
            new Uri("https://management.azure.com/"), new Uri("https://login.microsoftonline.com/"),
            "https://management.core.windows.net/", "azurecr.io", isCustom: false, microsoftGraphUrl: new Uri("https://graph.microsoft.com/"));

        public static CloudEnvironment AzureChinaCloud { get; } = new CloudEnvironment("AzureChinaCloud",
            new Uri("https://management.chinacloudapi.cn/"), new Uri("https://login.chinacloudapi.cn/"),
            "https://management.core.chinacloudapi.cn/", "azurecr.cn", isCustom: false, microsoftGraphUrl: new Uri("https://microsoftgraph.chinacloudapi.cn/"));

        public static CloudEnvironment AzureUSGovernment { get; } = new CloudEnvironment("AzureUSGovernment",
            new Uri("https://management.usgovcloudapi.net/"), new Uri("https://login.microsoftonline.us/"),
            "https://management.core.usgovcloudapi.net/", "azurecr.us", isCustom: false, microsoftGraphUrl: new Uri("https://graph.microsoft.us/"));

        public static IReadOnlyList<CloudEnvironment> KnownClouds { get; } = new[] { AzureCloud, AzureChinaCloud, AzureUSGovernment };

        public static bool TryGetKnown(string? name, out CloudEnvironment cloud)
        {
            cloud = KnownClouds.FirstOrDefault(c => string.Equals(c.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))!;
            return cloud != null;
        }

        /// <summary>A registry's login server in this cloud: lower-cased name + "." + suffix.</summary>
        public string GetLoginServer(string registryName)
        {
            if (string.IsNullOrWhiteSpace(registryName)) throw new ArgumentException("A registry name is required.", nameof(registryName));
            if (AcrLoginServerSuffix == null)
            {
                throw new EngineException("RegistrySuffixUnknown", EngineErrorCategory.InvalidData,
                    $"The cloud '{Name}' does not say which login-server suffix its registries use.",
                    "Pass the registry's resource ID or full login server instead of its name.");
            }
            return registryName.Trim().ToLowerInvariant() + "." + AcrLoginServerSuffix;
        }

        public override string ToString() => Name;

        /// <summary>
        /// A cloud from what the user typed: a known name; an https ARM URL (read through its
        /// /metadata/endpoints); or a path to a sandbox endpoints.json (or the folder holding it). Relative paths
        /// are resolved against the process directory, so the cmdlet passes a provider-resolved absolute path.
        /// Null or empty means AzureCloud.
        /// </summary>
        public static async Task<CloudEnvironment> ResolveAsync(string? nameOrPathOrUrl, IEngineHost host, CancellationToken cancellationToken, EngineOptions? options = null)
        {
            if (host == null) throw new ArgumentNullException(nameof(host));
            string spec = (nameOrPathOrUrl ?? string.Empty).Trim();
            if (spec.Length == 0) return AzureCloud;
            if (TryGetKnown(spec, out var known)) return known;

            if (spec.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                if (!Uri.TryCreate(spec, UriKind.Absolute, out var arm))
                {
                    throw BadEnvironment(spec, $"'{spec}' is not a valid URL.");
                }
                return await FromArmMetadataAsync(arm, host, cancellationToken, options).ConfigureAwait(false);
            }
            if (spec.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            {
                throw BadEnvironment(spec, $"'{spec}' is plain http; Azure clients send bearer tokens only over https.");
            }

            string path = spec;
            if (Directory.Exists(path)) path = Path.Combine(path, "endpoints.json");
            if (File.Exists(path))
            {
                return await FromEndpointsFileAsync(path, host, cancellationToken, options).ConfigureAwait(false);
            }
            throw BadEnvironment(spec, $"'{spec}' is neither a known cloud ({string.Join(", ", KnownClouds.Select(c => c.Name))}), an https ARM URL, nor an existing endpoints.json file.");
        }

        /// <summary>
        /// A custom cloud from the sandbox's endpoints.json: armEndpoint and tenantId from the file; the authority,
        /// audience and registry suffix from the file when present, otherwise from the ARM endpoint's metadata.
        /// </summary>
        public static async Task<CloudEnvironment> FromEndpointsFileAsync(string path, IEngineHost host, CancellationToken cancellationToken, EngineOptions? options = null)
        {
            JsonObject doc;
            try
            {
                doc = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                      ?? throw new JsonException("The file is not a JSON object.");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is JsonException)
            {
                throw new EngineException("EnvironmentFileInvalid", EngineErrorCategory.InvalidData,
                    $"Cannot read the environment file '{path}': {ex.Message}",
                    "Pass the endpoints.json that the sandbox wrote into its state directory.", inner: ex);
            }

            string? armText = Str(doc, "armEndpoint") ?? Str(doc, "resourceManager") ?? Str(doc, "resourceManagerUrl");
            if (armText == null || !Uri.TryCreate(armText, UriKind.Absolute, out var arm) || arm.Scheme != Uri.UriSchemeHttps)
            {
                throw new EngineException("EnvironmentFileInvalid", EngineErrorCategory.InvalidData,
                    $"The environment file '{path}' has no https 'armEndpoint'.",
                    "Pass the endpoints.json that the sandbox wrote into its state directory.");
            }
            string? tenant = Str(doc, "tenantId");
            string? authority = Str(doc, "activeDirectoryAuthority") ?? Str(doc, "authorityHost") ?? Str(doc, "loginEndpoint");
            string? audience = Str(doc, "armAudience") ?? Str(doc, "activeDirectoryServiceEndpointResourceId");
            string? suffix = Str(doc, "acrLoginServerSuffix") ?? Str(doc, "containerRegistryEndpointSuffix");
            string name = Str(doc, "name") ?? Str(doc, "environmentName") ?? "AcrIdentitySandbox";
            Uri? graph = HttpsUri(Str(doc, "microsoftGraphEndpoint") ?? Str(doc, "microsoftGraphUrl") ?? Str(doc, "microsoftGraphResourceId"));

            if (authority == null || audience == null || suffix == null)
            {
                host.WriteVerbose($"Reading the rest of the cloud description from {arm.GetLeftPart(UriPartial.Authority)}/metadata/endpoints.");
                CloudEnvironment fromArm;
                try
                {
                    fromArm = await FromArmMetadataAsync(arm, host, cancellationToken, options).ConfigureAwait(false);
                }
                catch (EngineException ex) when (ex.Reason == "EnvironmentMetadataUnavailable" && Str(doc, "caBundle") != null)
                {
                    // The usual cause with the sandbox: this process does not trust its CA (OpenSSL reads SSL_CERT_FILE at start).
                    throw new EngineException(ex.Reason, ex.Category, ex.Message,
                        $"Check that the sandbox is running, and start PowerShell with SSL_CERT_FILE={Str(doc, "caBundle")} so its certificate is trusted.",
                        path, ex);
                }
                authority ??= fromArm.AuthorityHost.AbsoluteUri;
                audience ??= fromArm.ArmAudience;
                suffix ??= fromArm.AcrLoginServerSuffix;
                graph ??= fromArm.MicrosoftGraphUrl;
                if (Str(doc, "name") == null && Str(doc, "environmentName") == null) name = fromArm.Name;
            }
            return new CloudEnvironment(name, arm, ParseAuthority(authority, path), audience, suffix, isCustom: true, defaultTenantId: tenant, microsoftGraphUrl: graph);
        }

        /// <summary>A cloud from GET &lt;arm&gt;/metadata/endpoints?api-version=2022-09-01 (an object, or an array of clouds).</summary>
        public static async Task<CloudEnvironment> FromArmMetadataAsync(Uri resourceManagerUrl, IEngineHost host, CancellationToken cancellationToken, EngineOptions? options = null)
        {
            if (resourceManagerUrl == null) throw new ArgumentNullException(nameof(resourceManagerUrl));
            var url = new Uri(resourceManagerUrl.AbsoluteUri.TrimEnd('/') + "/metadata/endpoints?api-version=" + MetadataApiVersion);
            var pipeline = HttpPipelineBuilder.Build(PlainClientOptions.Create(options ?? new EngineOptions()));
            using HttpMessage message = pipeline.CreateMessage();
            message.Request.Method = RequestMethod.Get;
            message.Request.Uri.Reset(url);
            var started = DateTimeOffset.UtcNow;
            try
            {
                await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                throw new EngineException("EnvironmentMetadataUnavailable", EngineErrorCategory.ConnectionError,
                    $"Cannot read the cloud description at {url}: {ex.Message}",
                    "Check the ARM URL and that this machine trusts its certificate (SSL_CERT_FILE for the sandbox).", inner: ex);
            }
            host.WriteVerbose($"GET {url.GetLeftPart(UriPartial.Path)} -> {message.Response.Status} ({(int)(DateTimeOffset.UtcNow - started).TotalMilliseconds} ms)");
            if (message.Response.Status != 200)
            {
                throw new EngineException("EnvironmentMetadataUnavailable", EngineErrorCategory.ConnectionError,
                    $"The cloud description at {url} answered {message.Response.Status}.",
                    "Pass the cloud's ARM URL (the one that serves /metadata/endpoints) or its name.");
            }
            JsonNode? parsed;
            try
            {
                parsed = JsonNode.Parse(message.Response.Content.ToString());
            }
            catch (JsonException ex)
            {
                throw new EngineException("EnvironmentMetadataInvalid", EngineErrorCategory.InvalidData,
                    $"The cloud description at {url} is not JSON: {ex.Message}", inner: ex);
            }
            return ParseMetadata(parsed, resourceManagerUrl, url.AbsoluteUri);
        }

        internal static CloudEnvironment ParseMetadata(JsonNode? parsed, Uri requestedArm, string source)
        {
            JsonObject? doc = parsed as JsonObject;
            if (parsed is JsonArray array)
            {
                // Some servers list every cloud; take the one whose ARM endpoint is the one asked.
                var objects = array.OfType<JsonObject>().ToList();
                doc = objects.FirstOrDefault(o => SameEndpoint(Str(o, "resourceManager"), requestedArm)) ?? objects.FirstOrDefault();
            }
            if (doc == null)
            {
                throw new EngineException("EnvironmentMetadataInvalid", EngineErrorCategory.InvalidData, $"The cloud description at {source} holds no cloud.");
            }
            var auth = doc["authentication"] as JsonObject;
            string? login = auth == null ? null : Str(auth, "loginEndpoint");
            string? audience = (auth?["audiences"] as JsonArray)?.Select(a => a?.GetValueKind() == JsonValueKind.String ? a.GetValue<string>() : null).FirstOrDefault(a => !string.IsNullOrWhiteSpace(a));
            string? rm = Str(doc, "resourceManager");
            string? suffix = doc["suffixes"] is JsonObject suffixes ? Str(suffixes, "acrLoginServer") : null;
            string name = Str(doc, "name") ?? requestedArm.Host;
            if (login == null || audience == null)
            {
                throw new EngineException("EnvironmentMetadataInvalid", EngineErrorCategory.InvalidData,
                    $"The cloud description at {source} lacks authentication.loginEndpoint or authentication.audiences.");
            }
            Uri arm = rm != null && Uri.TryCreate(rm, UriKind.Absolute, out var parsedRm) ? parsedRm : requestedArm;
            bool isKnown = TryGetKnown(name, out var known) && SameEndpoint(known.ResourceManagerUrl.AbsoluteUri, arm);
            Uri? graph = HttpsUri(Str(doc, "microsoftGraphResourceId")) ?? (isKnown ? known.MicrosoftGraphUrl : null);
            return new CloudEnvironment(name, arm, ParseAuthority(login, source), audience, suffix, isCustom: !isKnown, microsoftGraphUrl: graph);
        }

        /// <summary>The cloud of an Az context: its own endpoint values, with a known cloud's values filling gaps.</summary>
        internal static CloudEnvironment FromAzContext(AzContextSnapshot snapshot)
        {
            TryGetKnown(snapshot.EnvironmentName, out var known);
            string name = string.IsNullOrWhiteSpace(snapshot.EnvironmentName) ? (known?.Name ?? "AzureCloud") : snapshot.EnvironmentName!;
            Uri? arm = TryUri(snapshot.ResourceManagerUrl) ?? known?.ResourceManagerUrl;
            Uri? authority = TryUri(snapshot.ActiveDirectoryAuthority) ?? known?.AuthorityHost;
            string? audience = NullIfEmpty(snapshot.ActiveDirectoryServiceEndpointResourceId) ?? known?.ArmAudience;
            string? suffix = NullIfEmpty(snapshot.ContainerRegistryEndpointSuffix) ?? known?.AcrLoginServerSuffix;
            if (arm == null || authority == null || audience == null)
            {
                throw new EngineException("AzContextIncomplete", EngineErrorCategory.InvalidData,
                    $"The Az context's environment '{name}' lacks ResourceManagerUrl, ActiveDirectoryAuthority or ActiveDirectoryServiceEndpointResourceId.",
                    "Check the environment with Get-AzEnvironment, or run Connect-AcrIdentity with -Environment.");
            }
            bool isKnown = known != null && SameEndpoint(known.ResourceManagerUrl.AbsoluteUri, arm);
            // A known cloud's Graph only when ARM is that cloud's too: a custom ARM's tokens must not go to the public Graph.
            Uri? graph = HttpsUri(snapshot.MicrosoftGraphUrl) ?? (isKnown ? known!.MicrosoftGraphUrl : null);
            return new CloudEnvironment(name, arm, authority, audience, suffix, isCustom: !isKnown, microsoftGraphUrl: graph);
        }

        private static Uri ParseAuthority(string text, string source)
        {
            string t = text.Trim();
            if (!t.Contains("://")) t = "https://" + t;
            if (!Uri.TryCreate(t, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            {
                throw new EngineException("EnvironmentMetadataInvalid", EngineErrorCategory.InvalidData,
                    $"The login endpoint '{text}' in {source} is not an https URL (Entra clients require TLS).");
            }
            return uri;
        }

        private static bool SameEndpoint(string? a, Uri b) =>
            a != null && Uri.TryCreate(a, UriKind.Absolute, out var ua)
            && Uri.Compare(ua, b, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

        private static Uri WithTrailingSlash(Uri uri) => uri.AbsoluteUri.EndsWith("/", StringComparison.Ordinal) ? uri : new Uri(uri.AbsoluteUri + "/");

        private static Uri? TryUri(string? text) => !string.IsNullOrWhiteSpace(text) && Uri.TryCreate(text!.Trim(), UriKind.Absolute, out var u) ? u : null;

        private static Uri? HttpsUri(string? text) => TryUri(text) is { } u && u.Scheme == Uri.UriSchemeHttps ? u : null;

        private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s!.Trim();

        internal static string? Str(JsonObject o, string property)
        {
            // Property names are matched case-insensitively: hand-written files vary.
            foreach (var kv in o)
            {
                if (string.Equals(kv.Key, property, StringComparison.OrdinalIgnoreCase) && kv.Value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                {
                    return NullIfEmpty(v.GetValue<string>());
                }
            }
            return null;
        }

        private static EngineException BadEnvironment(string spec, string message) =>
            new EngineException("EnvironmentNotFound", EngineErrorCategory.InvalidArgument, message,
                "Pass AzureCloud, AzureChinaCloud, AzureUSGovernment, an https ARM URL, or the path of the sandbox's endpoints.json.", spec);
    }

    /// <summary>Pipeline options for unauthenticated calls (cloud metadata), with the engine's retry settings.</summary>
    internal sealed class PlainClientOptions : ClientOptions
    {
        internal static PlainClientOptions Create(EngineOptions options)
        {
            var o = new PlainClientOptions();
            PipelineSettings.Apply(o, options);
            return o;
        }
    }
}
