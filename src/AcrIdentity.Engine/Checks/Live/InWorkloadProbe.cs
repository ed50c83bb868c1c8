using System;
using System.Linq;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Registry;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Checks.Live
{
    /// <summary>
    /// -InWorkload: the pull probe run inside a VM through Run Command, as the VM's own identity — IMDS token →
    /// /oauth2/exchange → /oauth2/token for repository:&lt;repo&gt;:pull → HEAD the manifest. The script prints
    /// one "ACRPROBE step status text" line per step and never a token; the last line says where it stopped.
    /// </summary>
    internal static class InWorkloadProbe
    {
        internal const string Id = "InWorkloadProbe";
        internal const string Name = "Pull probe inside the workload, as its own identity";
        internal const string RegistryAudience = "https://containerregistry.azure.net";

        private static PullCheck Skip(string why) => new PullCheck(Id, Name, CheckResult.Skipped, "Skipped: " + why);
        private static PullCheck Fail(string message, string? fix) => new PullCheck(Id, Name, CheckResult.Fail, message, fix);

        internal static PullCheck NotAsked() => Skip("the in-workload probe runs only with -InWorkload (VMs).");

        // Values are pasted into the script between single quotes: allow only what registries and IDs use.
        private static readonly Regex Safe = new Regex(@"^[A-Za-z0-9._:/@+\-]*$", RegexOptions.CultureInvariant);

        internal static async Task<PullCheck> RunAsync(CheckContext ctx, ArmGateway arm, string armAudience, IEngineHost host, CancellationToken ct)
        {
            if (ctx.TargetMissing != null) return Skip("the target could not be read.");
            if (ctx.Kind == "VirtualMachineScaleSet") return Skip("a scale set has no single machine to run in; run -InWorkload against a VM.");
            if (ctx.Kind != "VirtualMachine") return Skip($"a {ctx.Kind} has no Run Command; only VMs do.");
            string? os = Json.Str(ctx.State?.Resource, "properties", "storageProfile", "osDisk", "osType");
            if (string.Equals(os, "Windows", StringComparison.OrdinalIgnoreCase)) return Skip("only the Linux probe (RunShellScript) exists; this VM runs Windows.");
            if (ctx.Registry == null) return Skip("no registry.");
            if (ctx.Image == null) return Skip("no image to pull; pass -Image.");
            if (!string.Equals(ctx.Image.Host, ctx.Registry.LoginServer, StringComparison.OrdinalIgnoreCase)) return Skip($"the image is not in {ctx.Registry.LoginServer} (ImageRegistry).");

            string resource = ctx.Registry.ArmAudienceTokensAllowed == false ? RegistryAudience : armAudience;
            string? clientId = ctx.Identity?.Type == PullIdentityType.UserAssigned ? ctx.Identity.ClientId : null;
            string[] values = { ctx.Registry.LoginServer, ctx.Image.Repository, ctx.Image.Reference, resource, clientId ?? string.Empty };
            if (values.Any(v => !Safe.IsMatch(v))) return Skip("the image or registry name has characters the probe script does not accept.");

            string script = Script.Replace("__LOGIN__", values[0]).Replace("__REPO__", values[1]).Replace("__TAG__", values[2])
                .Replace("__RESOURCE__", values[3]).Replace("__CLIENT_ID__", values[4]);
            var body = new JsonObject
            {
                ["commandId"] = "RunShellScript",
                ["script"] = new JsonArray(script.Split('\n').Select(l => (JsonNode?)JsonValue.Create(l)).ToArray()),
            };
            host.WriteVerbose($"In-workload probe: Run Command on {ctx.TargetId!.Name} (resource {resource}{(clientId != null ? ", client_id " + clientId : string.Empty)}).");
            ArmResponse reply;
            try
            {
                reply = await arm.PostAsync(ctx.TargetId + "/runCommand", body, ct).ConfigureAwait(false);
            }
            catch (EngineException ex)
            {
                return Fail($"Run Command on {ctx.TargetId.Name} failed: {RegistryReply.Scrub(ex.Message)}",
                    ex.RecommendedAction ?? "The caller needs Microsoft.Compute/virtualMachines/runCommand/action on the VM, and the VM agent must be running.");
            }
            return Judge(ctx, reply.Object);
        }

        /// <summary>Turns Run Command's result into the check: the step the probe stopped at and the registry's answer.</summary>
        internal static PullCheck Judge(CheckContext ctx, JsonObject? result)
        {
            var status = (result?["value"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault();
            string code = Json.Str(status, "code") ?? "(no result)";
            string message = Json.Str(status, "message") ?? string.Empty;
            var lines = message.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("ACRPROBE ", StringComparison.Ordinal)).ToList();
            if (!code.EndsWith("succeeded", StringComparison.OrdinalIgnoreCase) || lines.Count == 0)
            {
                return Fail($"Run Command on {ctx.TargetId!.Name} ended {code} without the probe's answer: {RegistryReply.Scrub(Tail(message))}",
                    "Check that the VM agent runs and that bash and curl are on the VM.");
            }
            string[] last = lines[lines.Count - 1].Split(new[] { ' ' }, 4);
            string step = last.Length > 1 ? last[1] : "?";
            string http = last.Length > 2 ? last[2] : "?";
            string text = RegistryReply.Scrub(last.Length > 3 ? last[3] : string.Empty);
            string repo = ctx.Image!.Repository, tag = ctx.Image.Reference, login = ctx.Registry!.LoginServer;
            string who = ctx.Identity?.ToString() ?? $"{ctx.TargetId!.Name} (no identity)";
            string done = string.Join(" → ", lines.Take(lines.Count - 1).Select(l => l.Split(' ')[1]));
            string prefix = $"Inside {ctx.TargetId!.Name} as {who}: " + (done.Length > 0 ? done + " ok, then " : string.Empty);
            switch (step)
            {
                case "manifest" when http == "200":
                    return new PullCheck(Id, Name, CheckResult.Pass, $"Inside {ctx.TargetId.Name} as {who}: IMDS token → /oauth2/exchange → /oauth2/token (repository:{repo}:pull) → HEAD manifest {repo}:{tag} 200.");
                case "imds":
                    return Fail(prefix + $"the IMDS token failed ({http}): {text}",
                        $"Give the VM a managed identity: {ctx.EnableCommand}");
                case "exchange":
                    return Fail(prefix + $"POST https://{login}/oauth2/exchange answered {http}: {text}",
                        "The registry refused the identity's Entra token; see the NetworkAccess and ArmAudienceTokens checks.");
                case "token":
                    return Fail(prefix + $"/oauth2/token (scope repository:{repo}:pull) answered {http}: {text}",
                        ctx.Abac
                            ? $"{login} is in ABAC mode, where AcrPull grants nothing: give the identity Container Registry Repository Reader with a condition covering {repo}: {ctx.EnableCommand}"
                            : $"Give the identity AcrPull on the registry (or a role that grants pull on {repo}): {ctx.EnableCommand}");
                case "manifest" when http == "404":
                    return Fail(prefix + $"HEAD manifest {repo}:{tag} answered 404: the image is not in {login}.", $"Push {repo}:{tag} to {login} or correct the tag.");
                default:
                    return Fail(prefix + $"{step} answered {http}: {text}", "Run again with -Verbose; a 401/403 at the manifest means the registry refused the scoped token.");
            }
        }

        private static string Tail(string text) => text.Length <= 400 ? text : "…" + text.Substring(text.Length - 400);

        // Bash + curl. The sandbox sets ACRIDENTITY_IMDS to the VM's own IMDS; on Azure it is unset.
        // Tokens go to curl on stdin (never in argv) and are never printed.
        internal const string Script = """
            # Test-AcrPullAccess -InWorkload: can this machine's identity pull? One line per step, never a token:
            # ACRPROBE <step> <http status> <ok | the registry's error text>
            L='__LOGIN__'; REPO='__REPO__'; TAG='__TAG__'; RES='__RESOURCE__'; CID='__CLIENT_ID__'
            IMDS="${ACRIDENTITY_IMDS:-http://169.254.169.254}"
            say() { printf 'ACRPROBE %s %s %s\n' "$1" "$2" "$(printf '%s' "$3" | tr -d '\r\n' | sed -E 's/eyJ[A-Za-z0-9._-]+/<jwt>/g' | cut -c1-400)"; }
            val() { sed -n -E "s/.*\"$1\" *: *\"([^\"]*)\".*/\1/p" | head -n1; }
            call() { local out; out=$(curl -sS -m 20 -w '\n%{http_code}' "$@" 2>&1); CODE=${out##*$'\n'}; BODY=${out%$'\n'*}; }
            why() { local m; m=$(printf '%s' "$BODY" | val message); [ -n "$m" ] || m=$(printf '%s' "$BODY" | val error_description); printf '%s' "${m:-$BODY}"; }

            call -G -H 'Metadata: true' "$IMDS/metadata/identity/oauth2/token" --data-urlencode api-version=2018-02-01 --data-urlencode "resource=$RES" ${CID:+--data-urlencode "client_id=$CID"}
            AAD=$(printf '%s' "$BODY" | val access_token)
            [ -n "$AAD" ] || { say imds "$CODE" "$(why)"; exit 0; }; say imds "$CODE" ok

            call -X POST "https://$L/oauth2/exchange" --data @- <<<"grant_type=access_token&service=$L&access_token=$AAD"
            RT=$(printf '%s' "$BODY" | val refresh_token)
            [ -n "$RT" ] || { say exchange "$CODE" "$(why)"; exit 0; }; say exchange "$CODE" ok

            call -X POST "https://$L/oauth2/token" --data @- <<<"grant_type=refresh_token&service=$L&scope=repository:$REPO:pull&refresh_token=$RT"
            AT=$(printf '%s' "$BODY" | val access_token)
            [ -n "$AT" ] || { say token "$CODE" "$(why)"; exit 0; }
            P=$(printf '%s' "$AT" | cut -d. -f2 | tr '_-' '/+'); while [ $(( ${#P} % 4 )) -ne 0 ]; do P="$P="; done
            printf '%s' "$P" | base64 -d 2>/dev/null | grep -q '"pull"' || { say token "$CODE" "the registry granted no pull on repository:$REPO"; exit 0; }
            say token "$CODE" ok

            call -I -H @- -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json' "https://$L/v2/$REPO/manifests/$TAG" <<<"Authorization: Bearer $AT"
            say manifest "$CODE" "$([ "$CODE" = 200 ] && echo ok || echo "HEAD answered $CODE")"
            """;
    }
}
