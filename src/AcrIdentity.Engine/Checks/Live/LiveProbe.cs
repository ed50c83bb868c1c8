using System;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Registry;
using AcrIdentity.Engine.Targets;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace AcrIdentity.Engine.Checks.Live
{
    /// <summary>
    /// -Live: the pull itself, as the managed identity of this environment — Entra token → /oauth2/exchange →
    /// /oauth2/token for repository:&lt;repo&gt;:pull → HEAD the manifest — reporting the step that failed and
    /// the registry's answer. Only judged when this environment's identity is the one that pulls; otherwise
    /// Skipped with the reason. No token is ever written anywhere.
    /// </summary>
    internal static class LiveProbe
    {
        internal const string Id = "LivePull";
        internal const string Name = "Live pull through the registry as the identity";

        private static PullCheck Skip(string why) => new PullCheck(Id, Name, CheckResult.Skipped, "Skipped: " + why);
        private static PullCheck Fail(string message, string? fix) => new PullCheck(Id, Name, CheckResult.Fail, message, fix);

        internal static PullCheck NotAsked() =>
            Skip("the live proof runs only with -Live, on a machine whose managed identity is the one that pulls.");

        internal static async Task<PullCheck> RunAsync(CheckContext ctx, IEngineHost host, CancellationToken ct)
        {
            if (ctx.Registry == null) return Skip("no registry.");
            if (ctx.Identity?.PrincipalId == null) return Skip("no identity to pull as.");
            if (ctx.Image == null) return Skip("no image to pull; pass -Image.");
            if (!string.Equals(ctx.Image.Host, ctx.Registry.LoginServer, StringComparison.OrdinalIgnoreCase)) return Skip($"the image is not in {ctx.Registry.LoginServer} (ImageRegistry).");

            ResolveRequest basis = ctx.Request.LiveResolve ?? new ResolveRequest();
            var resolve = new ResolveRequest
            {
                Identity = true,
                ClientId = ctx.Identity.Type == PullIdentityType.SystemAssigned ? null : ctx.Identity.ClientId,
                Environment = basis.Environment,
                Options = basis.Options,
            };
            ModuleContext mi;
            string oid;
            try
            {
                mi = await DataPlaneContext.ResolveAsync(resolve, host, ct).ConfigureAwait(false);
                AccessToken aad = await mi.Credential.GetTokenAsync(new TokenRequestContext(new[] { mi.Cloud.ArmScope }), ct).ConfigureAwait(false);
                oid = (RegistryJwt.Claims(aad.Token)?["oid"] as JsonValue)?.GetValue<string>() ?? string.Empty;
            }
            catch (Exception ex) when (ex is EngineException || ex is CredentialUnavailableException || ex is AuthenticationFailedException)
            {
                return Skip($"this environment cannot act as {ctx.Identity} — {RegistryReply.Scrub(ex.Message)} Run it on the target itself (or where that identity is attached) with -Live.");
            }
            if (!string.Equals(oid, ctx.Identity.PrincipalId, StringComparison.OrdinalIgnoreCase))
            {
                return Skip($"this environment's managed identity is principal {oid}, not {ctx.Identity} (principal {ctx.Identity.PrincipalId}); a pull as another identity proves nothing about this one.");
            }
            host.WriteVerbose($"Live pull: this environment's managed identity is {ctx.Identity} (principal {oid}).");

            RegistryCredential credential;
            try
            {
                credential = await RegistryTokenService.GetAsync(new RegistryTokenRequest
                {
                    // The login server the caller read in ARM: the identity itself usually may not read the registry there.
                    Registry = ctx.Registry.LoginServer,
                    Repository = ctx.Image.Repository,
                    Action = RegistryAction.Pull,
                    Resolve = new ResolveRequest { Context = mi },
                }, host, ct).ConfigureAwait(false);
            }
            catch (EngineException ex)
            {
                return Fail($"Live pull as {ctx.Identity} failed at {StepOf(ex.Reason, ctx.Image.Repository)}: {ex.Message}", ex.RecommendedAction);
            }
            return await HeadManifestAsync(ctx, mi, credential, host, ct).ConfigureAwait(false);
        }

        private static string StepOf(string reason, string repository)
        {
            switch (reason)
            {
                case "RegistryUnreachable":
                case "RegistryUnavailable":
                    return "the challenge (GET /v2/)";
                case "RegistryNetworkDenied":
                    return "the registry's network rules";
                case "RegistryExchangeFailed":
                    return "/oauth2/exchange (Entra token for a registry refresh token)";
                case "IdentityLacksPull":
                    return $"/oauth2/token (scope repository:{repository}:pull)";
                default:
                    return "the Entra token";
            }
        }

        private static async Task<PullCheck> HeadManifestAsync(CheckContext ctx, ModuleContext mi, RegistryCredential credential, IEngineHost host, CancellationToken ct)
        {
            ImageReference image = ctx.Image!;
            HttpPipeline pipeline = HttpPipelineBuilder.Build(PlainClientOptions.Create(mi.Options));
            using HttpMessage message = pipeline.CreateMessage();
            message.Request.Method = RequestMethod.Head;
            var url = new Uri($"https://{ctx.Registry!.LoginServer}/v2/{image.Repository}/manifests/{image.Reference}");
            message.Request.Uri.Reset(url);
            message.Request.Headers.SetValue("Authorization", "Bearer " + credential.AccessToken);
            message.Request.Headers.SetValue("Accept", string.Join(", ",
                "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json"));
            var watch = Stopwatch.StartNew();
            try
            {
                await pipeline.SendAsync(message, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is RequestFailedException || ex is System.Net.Http.HttpRequestException || ex is OperationCanceledException)
            {
                return Fail($"Live pull as {ctx.Identity} failed at HEAD {url.AbsolutePath}: {RegistryReply.Scrub(ex.Message)}", "Check the registry's network path from here.");
            }
            int status = message.Response.Status;
            host.WriteVerbose($"Registry HEAD {url.GetLeftPart(UriPartial.Path)} -> {status} ({watch.ElapsedMilliseconds} ms)");
            string steps = $"Entra token → /oauth2/exchange → /oauth2/token (repository:{image.Repository}:pull granted {string.Join(",", credential.GrantedActions)})";
            if (status == 200)
            {
                message.Response.Headers.TryGetValue("Docker-Content-Digest", out string? digest);
                return new PullCheck(Id, Name, CheckResult.Pass, $"As {ctx.Identity}: {steps} → HEAD manifest {image.Repository}:{image.Reference} 200{(digest != null ? " (" + digest + ")" : string.Empty)}.");
            }
            if (status == 404)
            {
                return Fail($"As {ctx.Identity}: {steps} worked, but HEAD manifest {image.Repository}:{image.Reference} answered 404 (MANIFEST_UNKNOWN): the image is not in {ctx.Registry.LoginServer}.",
                    $"Push {image.Repository}:{image.Reference} to {ctx.Registry.LoginServer} or correct the tag (Get-AzContainerRegistryTag / az acr repository show-tags -n {ctx.Registry.Name} --repository {image.Repository}).");
            }
            return Fail($"As {ctx.Identity}: {steps} worked, but HEAD manifest {image.Repository}:{image.Reference} answered {status}.",
                "Run again with -Verbose; a 401/403 here means the registry refused the scoped token.");
        }
    }
}
