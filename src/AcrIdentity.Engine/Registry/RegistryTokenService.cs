using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using Azure.Core;
using Azure.Identity;

namespace AcrIdentity.Engine.Registry
{
    /// <summary>
    /// ACR's token exchange (azure-facts §1): /v2/ challenge → Entra token for the registry's audience →
    /// POST /oauth2/exchange → refresh token; with a repository, POST /oauth2/token → scoped access token.
    /// Tokens are never written to the host; only URLs, statuses and the registry's error messages are.
    /// </summary>
    public static class RegistryTokenService
    {
        /// <summary>The audience registries accept when ARM-audience tokens are disabled (azureADAuthenticationAsArmPolicy).</summary>
        public const string ContainerRegistryScope = "https://containerregistry.azure.net/.default";

        // ACR repository names: lowercase path components (docker's grammar, ACR lowercases everything).
        private static readonly Regex RepositoryPattern = new Regex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant);

        public static async Task<RegistryCredential> GetAsync(RegistryTokenRequest request, IEngineHost host, CancellationToken ct)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            if (host == null) throw new ArgumentNullException(nameof(host));
            string? repository = string.IsNullOrWhiteSpace(request.Repository) ? null : request.Repository!.Trim();
            if (repository != null && !RepositoryPattern.IsMatch(repository))
            {
                throw new EngineException("InvalidRepository", EngineErrorCategory.InvalidArgument,
                    $"'{repository}' is not a repository name (lowercase letters, digits, '.', '_', '-' and '/', without a tag).",
                    "Pass the repository only, e.g. -Repository aci-helloworld (not aci-helloworld:v1 or the login server).", repository);
            }

            ModuleContext context = await DataPlaneContext.ResolveAsync(request.Resolve ?? new ResolveRequest(), host, ct).ConfigureAwait(false);
            RegistryTarget target = await RegistryTarget.ResolveAsync(context, request.Registry, host, ct).ConfigureAwait(false);
            var http = new RegistryHttp(context.Options, host);

            Uri authBase = await ChallengeAsync(http, target, host, ct).ConfigureAwait(false);
            RegistryCredential credential = await ExchangeAsync(http, context, target, authBase, host, ct).ConfigureAwait(false);
            if (repository != null)
            {
                await ScopeAsync(http, context, target, authBase, credential, repository, request.Action, host, ct).ConfigureAwait(false);
            }
            return credential;
        }

        /// <summary>GET /v2/ without credentials: a 401 Bearer challenge names the token service; 403 is the firewall.</summary>
        private static async Task<Uri> ChallengeAsync(RegistryHttp http, RegistryTarget target, IEngineHost host, CancellationToken ct)
        {
            Uri ping = new Uri("https://" + target.LoginServer + "/v2/");
            RegistryReply reply;
            try
            {
                reply = await http.GetAsync(ping, target.LoginServer, ct).ConfigureAwait(false);
            }
            catch (EngineException ex) when (ex.Reason == "RegistryUnreachable" && target.GuessedFrom != null)
            {
                throw new EngineException(ex.Reason, ex.Category,
                    ex.Message.TrimEnd('.') + $". That login server was built from '{target.GuessedFrom}' and the cloud's suffix, because ARM does not show this identity the registry (AcrPull alone grants no ARM read).",
                    "Pass the registry's login server (Get-AzContainerRegistry … | Select LoginServer), or give the identity Reader on the registry so its name can be looked up.", target.GuessedFrom, ex.InnerException);
            }
            if (reply.Status == 403) throw NetworkDenied(target, reply);
            var challenge = BearerChallenge.Parse(reply.Challenge);
            if (reply.Status == 401 && challenge?.Realm != null
                && Uri.TryCreate(challenge.Realm, UriKind.Absolute, out Uri? realm) && realm.Scheme == Uri.UriSchemeHttps)
            {
                if (challenge.Service != null && !string.Equals(challenge.Service, target.LoginServer, StringComparison.OrdinalIgnoreCase))
                {
                    host.WriteVerbose($"The registry names its service '{challenge.Service}', not '{target.LoginServer}'; using its login server as the service, as ACR expects.");
                }
                return new Uri(realm.GetLeftPart(UriPartial.Authority) + "/");
            }
            if (reply.Status == 401 || reply.Status == 200)
            {
                // Not the challenge ACR sends; its token service lives on the login server.
                host.WriteVerbose($"GET /v2/ answered {reply.Status} without a usable Bearer challenge; using https://{target.LoginServer}/oauth2/.");
                return new Uri("https://" + target.LoginServer + "/");
            }
            throw new EngineException("RegistryUnavailable", EngineErrorCategory.ResourceUnavailable,
                $"The registry '{target.LoginServer}' answered GET /v2/ with {reply.Status}: {reply.Quote()}",
                "Check that the login server is an Azure container registry and that it is running (status.azure.com).", target.Id ?? target.LoginServer);
        }

        private static async Task<RegistryCredential> ExchangeAsync(RegistryHttp http, ModuleContext context, RegistryTarget target, Uri authBase, IEngineHost host, CancellationToken ct)
        {
            string scope = target.ArmAudienceAllowed == false ? ContainerRegistryScope : context.Cloud.ArmScope;
            RegistryReply reply = await ExchangeOnceAsync(http, context, target, authBase, scope, host, ct).ConfigureAwait(false);
            if (reply.Status == 401 && target.ArmAudienceAllowed == null && scope != ContainerRegistryScope)
            {
                // ARM was not readable, so the policy is unknown: a registry that refuses ARM-audience tokens
                // (azureADAuthenticationAsArmPolicy disabled) accepts the registry audience.
                host.WriteVerbose($"The registry refused the ARM-audience token ({reply.Quote()}); trying the https://containerregistry.azure.net audience.");
                scope = ContainerRegistryScope;
                reply = await ExchangeOnceAsync(http, context, target, authBase, scope, host, ct).ConfigureAwait(false);
            }
            if (reply.Status == 200)
            {
                string? refresh = reply.Json()?["refresh_token"] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
                if (string.IsNullOrEmpty(refresh))
                {
                    throw new EngineException("RegistryExchangeFailed", EngineErrorCategory.InvalidData,
                        $"The registry '{target.LoginServer}' answered /oauth2/exchange without a refresh_token.", null, target.Id ?? target.LoginServer);
                }
                DateTimeOffset? expires = RegistryJwt.Expiry(refresh);
                host.WriteVerbose($"Registry refresh token for {target.LoginServer} obtained; it expires {(expires.HasValue ? expires.Value.ToString("u") : "at a time it does not state")}.");
                return new RegistryCredential(target.LoginServer, target.Id, refresh!, expires, scope.Substring(0, scope.Length - "/.default".Length), context.Account);
            }
            if (reply.Status == 403 && IsNetworkRefusal(reply)) throw NetworkDenied(target, reply);
            string hint = reply.Status == 401
                ? $"The registry did not accept {context.Account}'s Entra token. Check that the identity is in the registry's tenant; if the registry disables ARM-audience tokens, its policy must be readable or the identity needs Reader on it."
                : "Run the command again with -Verbose; if it persists, check the registry's health.";
            throw new EngineException("RegistryExchangeFailed", reply.Status == 401 || reply.Status == 403 ? EngineErrorCategory.AuthenticationError : EngineErrorCategory.InvalidData,
                $"The registry '{target.LoginServer}' refused the token exchange for {context.Account} ({reply.Status}): \"{reply.Quote()}\"", hint, target.Id ?? target.LoginServer);
        }

        private static async Task<RegistryReply> ExchangeOnceAsync(RegistryHttp http, ModuleContext context, RegistryTarget target, Uri authBase, string scope, IEngineHost host, CancellationToken ct)
        {
            string aad = await EntraTokenAsync(context, scope, host, ct).ConfigureAwait(false);
            var form = new List<KeyValuePair<string, string>>
            {
                new KeyValuePair<string, string>("grant_type", "access_token"),
                new KeyValuePair<string, string>("service", target.LoginServer),
                new KeyValuePair<string, string>("access_token", aad),
            };
            return await http.PostFormAsync(new Uri(authBase, "oauth2/exchange"), form, target.LoginServer, ct).ConfigureAwait(false);
        }

        private static async Task<string> EntraTokenAsync(ModuleContext context, string scope, IEngineHost host, CancellationToken ct)
        {
            host.WriteVerbose($"Getting an Entra token for {scope} as {context.Account}.");
            try
            {
                AccessToken token = await context.Credential.GetTokenAsync(new TokenRequestContext(new[] { scope }, tenantId: context.TenantId), ct).ConfigureAwait(false);
                return token.Token;
            }
            catch (CredentialUnavailableException ex)
            {
                if (context.Source == ContextSource.ManagedIdentity) throw DataPlaneContext.NoManagedIdentity(ex);
                throw new EngineException("CredentialUnavailable", EngineErrorCategory.AuthenticationError,
                    $"No Entra token for {scope}: {RegistryReply.Scrub(ex.Message)}", "Sign in again with Connect-AzAccount or Connect-AcrIdentity.", null, ex);
            }
            catch (AuthenticationFailedException ex)
            {
                throw new EngineException("AuthenticationFailed", EngineErrorCategory.AuthenticationError,
                    $"Entra refused a token for {scope} to {context.Account}: {RegistryReply.Scrub(ex.Message)}",
                    context.Source == ContextSource.ManagedIdentity
                        ? "Check that the managed identity (and any -ClientId/-ResourceId) is attached to this resource."
                        : "Sign in again with Connect-AzAccount or Connect-AcrIdentity.", null, ex);
            }
        }

        private static async Task ScopeAsync(RegistryHttp http, ModuleContext context, RegistryTarget target, Uri authBase, RegistryCredential credential,
            string repository, RegistryAction action, IEngineHost host, CancellationToken ct)
        {
            string[] wanted = action == RegistryAction.Push ? new[] { "pull", "push" } : new[] { "pull" };
            string scope = $"repository:{repository}:{string.Join(",", wanted)}";
            var form = new List<KeyValuePair<string, string>>
            {
                new KeyValuePair<string, string>("grant_type", "refresh_token"),
                new KeyValuePair<string, string>("service", target.LoginServer),
                new KeyValuePair<string, string>("scope", scope),
                new KeyValuePair<string, string>("refresh_token", credential.RefreshToken),
            };
            RegistryReply reply = await http.PostFormAsync(new Uri(authBase, "oauth2/token"), form, target.LoginServer, ct).ConfigureAwait(false);
            if (reply.Status == 403 && IsNetworkRefusal(reply)) throw NetworkDenied(target, reply);
            string? access = reply.Status == 200 && reply.Json()?["access_token"] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
            IReadOnlyList<string> granted = RegistryJwt.GrantedActions(access, repository);
            bool all = granted.Contains("*");
            string[] missing = wanted.Where(w => !all && !granted.Contains(w)).ToArray();
            host.WriteVerbose($"Scope {scope}: the registry granted {(granted.Count == 0 ? "nothing" : string.Join(",", granted))}.");
            if (access == null || missing.Length > 0)
            {
                string answer = reply.Status == 200
                    ? $"its token for {scope} grants {(granted.Count == 0 ? "no action" : string.Join(",", granted))}"
                    : $"it answered {reply.Status}: \"{reply.Quote()}\"";
                string role = target.Abac
                    ? (action == RegistryAction.Push ? "Container Registry Repository Writer" : "Container Registry Repository Reader") + $" (its condition covering '{repository}')"
                    : action == RegistryAction.Push ? "AcrPush" : "AcrPull";
                string where = target.Id ?? target.LoginServer;
                throw new EngineException(action == RegistryAction.Push ? "IdentityLacksPush" : "IdentityLacksPull", EngineErrorCategory.PermissionDenied,
                    $"{context.Account} may not {string.Join("/", missing.Length > 0 ? missing : wanted)} '{repository}' on {target.LoginServer}: {answer}.",
                    $"Grant {role} on {where} to the identity (Enable-AcrManagedIdentityPull does it for a resource's identity), wait a minute for the assignment to apply, then run this again.",
                    where);
            }
            credential.Repository = repository;
            credential.AccessToken = access;
            credential.GrantedActions = granted;
            DateTimeOffset? expires = RegistryJwt.Expiry(access);
            if (expires == null && reply.Json()?["expires_in"] is JsonValue e && e.TryGetValue(out long seconds)) expires = DateTimeOffset.UtcNow.AddSeconds(seconds);
            credential.AccessTokenExpiresOn = expires;
        }

        private static bool IsNetworkRefusal(RegistryReply reply)
        {
            string q = reply.Quote();
            return q.IndexOf("not allowed access", StringComparison.OrdinalIgnoreCase) >= 0
                || q.IndexOf("firewall", StringComparison.OrdinalIgnoreCase) >= 0
                || q.IndexOf("network", StringComparison.OrdinalIgnoreCase) >= 0;
        }

        private static EngineException NetworkDenied(RegistryTarget target, RegistryReply reply) =>
            new EngineException("RegistryNetworkDenied", EngineErrorCategory.PermissionDenied,
                $"The registry '{target.LoginServer}' refuses connections from this machine ({reply.Status}): \"{reply.Quote()}\"",
                "The registry's network rules (public network access disabled, or a default Deny without this machine's IP) keep this machine out: add its public IP to the registry's firewall, reach it through a private endpoint, or run where the rules allow.",
                target.Id ?? target.LoginServer);
    }
}
