using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
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
    /// A registry from its resource ID, login server (any case, with or without scheme) or name; a name or login
    /// server is looked up in the current subscription first, then in every other subscription the caller sees.
    /// </summary>
    internal sealed class RegistryResolver : CrossSubscriptionResolver<RegistryInfo>
    {
        internal const string RegistryType = "Microsoft.ContainerRegistry/registries";
        private static readonly Regex NamePattern = new Regex("^[a-zA-Z0-9]{5,50}$", RegexOptions.CultureInvariant);

        internal RegistryResolver(ArmGateway arm, IEngineHost host, string subscriptionId, IDictionary<string, RegistryInfo>? cache = null)
            : base(RegistryType, "Registry", arm, host, subscriptionId, cache)
        {
        }

        internal async Task<RegistryInfo> ResolveAsync(string? input, CancellationToken ct)
        {
            if (string.IsNullOrWhiteSpace(input))
            {
                throw new EngineException("RegistryRequired", EngineErrorCategory.InvalidArgument, "No registry was given.",
                    "Pass -Registry with the registry's name, login server (name.azurecr.io) or resource ID.");
            }
            return await ResolveCachedAsync(input!.Trim(), ct).ConfigureAwait(false);
        }

        protected override async Task<RegistryInfo> ResolveOtherAsync(string text, CancellationToken ct)
        {
            bool loginServer = text.IndexOf('.') >= 0 || text.IndexOf(':') >= 0 || text.IndexOf('/') >= 0;
            if (loginServer)
            {
                string host = NormalizeLoginServer(text);
                Host.WriteVerbose($"Registry '{text}' is a login server ({host}).");
                return await SearchAsync(r => string.Equals(LoginServerOf(r), host, StringComparison.OrdinalIgnoreCase), text, "login server", ct).ConfigureAwait(false);
            }

            if (!NamePattern.IsMatch(text))
            {
                throw new EngineException("InvalidRegistryName", EngineErrorCategory.InvalidArgument,
                    $"'{text}' is not a registry name (5–50 letters and digits), a login server or a resource ID.",
                    "Pass the registry's name (e.g. contoso), login server (contoso.azurecr.io) or resource ID.", text);
            }
            Host.WriteVerbose($"Registry '{text}' is a name.");
            return await SearchAsync(r => string.Equals(Json.Str(r, "name"), text, StringComparison.OrdinalIgnoreCase), text, "name", ct).ConfigureAwait(false);
        }

        /// <summary>"https://Contoso.AzureCR.io/v2/" → "contoso.azurecr.io".</summary>
        internal static string NormalizeLoginServer(string text)
        {
            string t = text.Trim();
            int scheme = t.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0) t = t.Substring(scheme + 3);
            int slash = t.IndexOf('/');
            if (slash >= 0) t = t.Substring(0, slash);
            return t.TrimEnd('.').ToLowerInvariant();
        }

        private static string? LoginServerOf(JsonObject registry) => Json.Str(registry, "properties", "loginServer");

        private async Task<RegistryInfo> SearchAsync(Func<JsonObject, bool> match, string text, string what, CancellationToken ct)
        {
            JsonObject hit = await FindOneAsync(match, text, what, ids => new EngineException("AmbiguousRegistry", EngineErrorCategory.InvalidArgument,
                    $"More than one registry matches '{text}': {ids}.", "Pass the registry's resource ID instead.", text), ct).ConfigureAwait(false);
            RegistryInfo info = From(hit);
            Host.WriteVerbose($"Registry '{text}' found: {info.Id}.");
            return info;
        }

        protected override EngineException InvalidId(string text) =>
            new EngineException("InvalidRegistryId", EngineErrorCategory.InvalidArgument,
                $"'{text}' is not a valid registry resource ID.",
                "Pass /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>, the login server, or the name.", text);

        protected override EngineException WrongKind(string text, string actualType) =>
            new EngineException("RegistryIdWrongKind", EngineErrorCategory.InvalidArgument,
                $"'{text}' is the ID of a {actualType}, not of a container registry.",
                "Pass the registry's resource ID ((Get-AzContainerRegistry -Name <name>).Id), its login server, or its name to -Registry.", text);

        protected override RegistryInfo From(JsonObject registry)
        {
            string id = Json.Str(registry, "id") ?? throw new EngineException("InvalidArmReply", EngineErrorCategory.InvalidData, "A registry came back without an id.");
            string login = (LoginServerOf(registry) ?? string.Empty).ToLowerInvariant();
            bool abac = string.Equals(Json.Str(registry, "properties", "roleAssignmentMode"), "AbacRepositoryPermissions", StringComparison.OrdinalIgnoreCase);
            string? armPolicy = Json.Str(registry, "properties", "policies", "azureADAuthenticationAsArmPolicy", "status");
            bool? armAudience = armPolicy == null ? (bool?)null : !string.Equals(armPolicy, "disabled", StringComparison.OrdinalIgnoreCase);
            return new RegistryInfo(new ResourceIdentifier(id), login, abac, Json.Str(registry, "location"), armAudience);
        }

        protected override EngineException NotFound(string text, string what) =>
            new EngineException("RegistryNotFound", EngineErrorCategory.ObjectNotFound,
                $"No container registry with the {what} '{text}' was found in the subscriptions you can see.",
                "Check the spelling and that the signed-in identity can read the registry (Reader on it or above); pass its resource ID if it is in another tenant's subscription.", text);
    }
}
