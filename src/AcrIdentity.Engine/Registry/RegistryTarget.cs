using System;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Registry
{
    /// <summary>
    /// Which login server to talk to, and what ARM says about it. ARM is asked through the enable side's
    /// RegistryResolver; when the identity cannot read the registry there (AcrPull grants no ARM read), a name
    /// becomes name + the cloud's suffix and a login server is used as given, as az acr login does.
    /// </summary>
    internal sealed class RegistryTarget
    {
        private RegistryTarget(string loginServer, string? id, bool? armAudienceAllowed, bool abac, string? guessedFrom = null)
        {
            GuessedFrom = guessedFrom;
            LoginServer = loginServer;
            Id = id;
            ArmAudienceAllowed = armAudienceAllowed;
            Abac = abac;
        }

        internal string LoginServer { get; }
        internal string? Id { get; }
        /// <summary>policies.azureADAuthenticationAsArmPolicy: false = disabled; null = not known (ARM not readable).</summary>
        internal bool? ArmAudienceAllowed { get; }
        internal bool Abac { get; }
        /// <summary>The name the login server was built from (name + the cloud's suffix), when ARM could not say.</summary>
        internal string? GuessedFrom { get; }

        internal static async Task<RegistryTarget> ResolveAsync(ModuleContext context, string input, IEngineHost host, CancellationToken ct)
        {
            string text = (input ?? string.Empty).Trim();
            if (text.Length == 0)
            {
                throw new EngineException("RegistryRequired", EngineErrorCategory.InvalidArgument, "No registry was given.",
                    "Pass -Registry with the registry's name, login server or resource ID.");
            }
            ArmGateway arm = context.CreateGateway(host);
            var resolver = new RegistryResolver(arm, host, context.SubscriptionId);
            bool isId = ArmIds.LooksLikeId(text);
            bool isLoginServer = !isId && (text.IndexOf('.') >= 0 || text.IndexOf(':') >= 0 || text.IndexOf('/') >= 0);

            if (!isId && context.SubscriptionId.Length == 0)
            {
                return Unread(AsGiven(context, text, isLoginServer), host, "no subscription is visible to " + context.Account, isLoginServer ? null : text);
            }
            RegistryInfo info;
            try
            {
                info = await resolver.ResolveAsync(text, ct).ConfigureAwait(false);
            }
            catch (EngineException ex) when (!isId && (ex.Reason == "RegistryNotFound" || (ex is ArmRequestException arm403 && arm403.Status == 403)))
            {
                return Unread(AsGiven(context, text, isLoginServer), host, $"ARM shows {context.Account} no registry '{text}' ({ex.Reason})", isLoginServer ? null : text);
            }
            catch (ArmRequestException ex) when (isId && ex.Status == 403)
            {
                var id = ArmIds.TryParseResource(text)!;
                return Unread(context.Cloud.GetLoginServer(id.Name), host, $"{context.Account} may not read {text} in ARM", text);
            }

            bool? armAudience = await ReadArmAudiencePolicyAsync(arm, info.Id.ToString(), host, ct).ConfigureAwait(false);
            return new RegistryTarget(info.LoginServer, info.Id.ToString(), armAudience, info.AbacMode);
        }

        private static string AsGiven(ModuleContext context, string text, bool isLoginServer)
        {
            if (isLoginServer)
            {
                string server = RegistryResolver.NormalizeLoginServer(text);
                if (server.Length == 0 || Uri.CheckHostName(server.Split(':')[0]) == UriHostNameType.Unknown)
                {
                    throw new EngineException("InvalidRegistryName", EngineErrorCategory.InvalidArgument,
                        $"'{text}' is not a login server.", "Pass the registry's login server (name.azurecr.io), name or resource ID.", text);
                }
                return server;
            }
            if (!NamePattern.IsMatch(text))
            {
                throw new EngineException("InvalidRegistryName", EngineErrorCategory.InvalidArgument,
                    $"'{text}' is not a registry name (5–50 letters and digits), a login server or a resource ID.",
                    "Pass the registry's name (e.g. contoso), login server (contoso.azurecr.io) or resource ID.", text);
            }
            return context.Cloud.GetLoginServer(text);
        }

        private static readonly System.Text.RegularExpressions.Regex NamePattern =
            new System.Text.RegularExpressions.Regex("^[a-zA-Z0-9]{5,50}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        private static RegistryTarget Unread(string loginServer, IEngineHost host, string why, string? guessedFrom)
        {
            host.WriteVerbose($"Using the login server {loginServer} without reading the registry in ARM: {why}. Its audience policy is unknown; the ARM audience is tried first.");
            return new RegistryTarget(loginServer, null, null, false, guessedFrom);
        }

        /// <summary>The registry's azureADAuthenticationAsArmPolicy (az reads it the same way before exchanging).</summary>
        private static async Task<bool?> ReadArmAudiencePolicyAsync(ArmGateway arm, string id, IEngineHost host, CancellationToken ct)
        {
            ArmResponse? reply;
            try
            {
                reply = await arm.TryGetAsync(id, ct).ConfigureAwait(false);
            }
            catch (ArmRequestException ex) when (ex.Status == 403)
            {
                return null;
            }
            string? status = reply?.Object == null ? null : Json.Str(reply.Object, "properties", "policies", "azureADAuthenticationAsArmPolicy", "status");
            if (status == null) return null;
            bool allowed = !string.Equals(status, "disabled", StringComparison.OrdinalIgnoreCase);
            if (!allowed) host.WriteVerbose("The registry's azureADAuthenticationAsArmPolicy is disabled: exchanging a token for https://containerregistry.azure.net.");
            return allowed;
        }
    }
}
