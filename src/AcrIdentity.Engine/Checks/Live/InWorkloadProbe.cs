using System;
using System.Collections.Generic;
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
    /// -InWorkload: the pull probe run inside a VM (or one scale set instance) through Run Command, as the
    /// machine's own identity — IMDS token → /oauth2/exchange → /oauth2/token for repository:&lt;repo&gt;:pull → HEAD
    /// the manifest. Linux runs a bash+curl script (RunShellScript), Windows a PowerShell one (RunPowerShellScript,
    /// InWorkloadProbe.ps1); both print one "ACRPROBE step status text" line per step and never a token, so one
    /// parser reads both; the last line says where it stopped.
    /// </summary>
    internal static class InWorkloadProbe
    {
        internal const string Id = "InWorkloadProbe";
        internal const string Name = "Pull probe inside the workload, as its own identity";
        internal const string RegistryAudience = "https://containerregistry.azure.net";

        private static PullCheck Skip(string why, string? fix = null) => new PullCheck(Id, Name, CheckResult.Skipped, "Skipped: " + why, fix);
        private static PullCheck Fail(string message, string? fix) => new PullCheck(Id, Name, CheckResult.Fail, message, fix);

        internal static PullCheck NotAsked() => Skip("the in-workload probe runs only with -InWorkload (VMs and scale sets).");

        // Values are pasted into the scripts between single quotes: allow only what registries and IDs use.
        private static readonly Regex Safe = new Regex(@"^[A-Za-z0-9._:/@+\-_]*$", RegexOptions.CultureInvariant);

        /// <summary>Where Run Command runs: a VM, or one instance of a scale set.</summary>
        private sealed class Machine
        {
            internal Machine(string path, string display, string? os, string startCommand) => (Path, Display, Os, StartCommand) = (path, display, os, startCommand);
            internal string Path { get; }
            internal string Display { get; }
            internal string? Os { get; }
            /// <summary>The az command that starts it (the fix when Run Command finds it stopped).</summary>
            internal string StartCommand { get; }
            internal bool Windows => string.Equals(Os, "Windows", StringComparison.OrdinalIgnoreCase);
        }

        internal static async Task<PullCheck> RunAsync(CheckContext ctx, ArmGateway arm, string armAudience, IEngineHost host, CancellationToken ct)
        {
            if (ctx.TargetMissing != null) return Skip("the target could not be read.");
            bool scaleSet = ctx.Kind == "VirtualMachineScaleSet";
            if (!scaleSet && ctx.Kind != "VirtualMachine") return Skip($"a {ctx.Kind} has no Run Command; only VMs and scale sets do.");
            if (ctx.Registry == null) return Skip("no registry.");
            if (ctx.Image == null) return Skip("no image to pull; pass -Image.");
            if (!string.Equals(ctx.Image.Host, ctx.Registry.LoginServer, StringComparison.OrdinalIgnoreCase)) return Skip($"the image is not in {ctx.Registry.LoginServer} (ImageRegistry).");

            string resource = ctx.Registry.ArmAudienceTokensAllowed == false ? RegistryAudience : armAudience;
            string? clientId = ctx.Identity?.Type == PullIdentityType.UserAssigned ? ctx.Identity.ClientId : null;
            string[] values = { ctx.Registry.LoginServer, ctx.Image.Repository, ctx.Image.Reference, resource, clientId ?? string.Empty };
            if (values.Any(v => !Safe.IsMatch(v))) return Skip("the image or registry name has characters the probe script does not accept.");

            Machine machine;
            if (scaleSet)
            {
                var (picked, skipped) = await PickInstanceAsync(ctx, arm, host, ct).ConfigureAwait(false);
                if (picked == null) return skipped!;
                machine = picked;
            }
            else
            {
                machine = new Machine(ctx.TargetId!.ToString(), ctx.TargetId.Name, Json.Str(ctx.State?.Resource, "properties", "storageProfile", "osDisk", "osType"),
                    $"az vm start --resource-group {ctx.TargetId.ResourceGroupName} --name {ctx.TargetId.Name}");
            }

            string script = (machine.Windows ? PowerShellScript.Value : Script)
                .Replace("__LOGIN__", values[0]).Replace("__REPO__", values[1]).Replace("__TAG__", values[2])
                .Replace("__RESOURCE__", values[3]).Replace("__CLIENT_ID__", values[4]);
            string commandId = machine.Windows ? "RunPowerShellScript" : "RunShellScript";
            var body = new JsonObject
            {
                ["commandId"] = commandId,
                ["script"] = new JsonArray(script.Split('\n').Select(l => (JsonNode?)JsonValue.Create(l.TrimEnd('\r'))).ToArray()),
            };
            host.WriteVerbose($"In-workload probe: Run Command {commandId} on {machine.Display} (resource {resource}{(clientId != null ? ", client_id " + clientId : string.Empty)}).");
            ArmResponse reply;
            try
            {
                reply = await arm.PostAsync(machine.Path + "/runCommand", body, ct).ConfigureAwait(false);
            }
            catch (ArmRequestException ex) when (NotRunning(ex))
            {
                // Stopped or deallocated after the instance list was read, or a VM (whose power state is not read first).
                return Skip($"{machine.Display} is not running, so Run Command cannot run the probe in it (Azure: {RegistryReply.Scrub(ex.ArmMessage)}).",
                    $"Start it ({machine.StartCommand}), then run again.");
            }
            catch (EngineException ex)
            {
                string action = scaleSet ? "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action on the scale set" : "Microsoft.Compute/virtualMachines/runCommand/action on the VM";
                return Fail($"Run Command on {machine.Display} failed: {RegistryReply.Scrub(ex.Message)}",
                    ex.RecommendedAction ?? $"The caller needs {action}, and the VM agent must be running.");
            }
            return Judge(ctx, machine.Display, machine.Windows, reply.Object);
        }

        /// <summary>Compute's refusal of an operation on a machine that is stopped or deallocated.</summary>
        private static bool NotRunning(ArmRequestException ex) =>
            string.Equals(ex.ArmCode, "OperationNotAllowed", StringComparison.OrdinalIgnoreCase)
            && ex.ArmMessage.IndexOf("to be running", StringComparison.OrdinalIgnoreCase) >= 0;

        /// <summary>
        /// A scale set runs the probe on one instance: the one asked for (-InstanceId), else the first that is running
        /// and provisioned. Instances share the scale set's identities, so any of them answers for all.
        /// </summary>
        private static async Task<(Machine? Picked, PullCheck? Skipped)> PickInstanceAsync(CheckContext ctx, ArmGateway arm, IEngineHost host, CancellationToken ct)
        {
            string name = ctx.TargetId!.Name;
            JsonNode? set = ctx.State?.Resource;
            if (string.Equals(Json.Str(set, "properties", "orchestrationMode"), "Flexible", StringComparison.OrdinalIgnoreCase))
            {
                return (null, Skip($"{name} uses Flexible orchestration, where each instance is a VM of its own.",
                    "Run -InWorkload against one of its VMs (Microsoft.Compute/virtualMachines resource ID)."));
            }
            IReadOnlyList<JsonObject> instances = await arm.ListAsync(ctx.TargetId + "/virtualMachines?$expand=instanceView", ct).ConfigureAwait(false);
            string Of(JsonObject i) => Json.Str(i, "instanceId") ?? Json.Str(i, "id")?.Split('/').Last() ?? "?";
            string? wanted = ctx.Request.InstanceId?.Trim();
            string start = $"az vmss start --resource-group {ctx.TargetId.ResourceGroupName} --name {name} --instance-ids ";
            JsonObject? chosen;
            if (wanted != null)
            {
                chosen = instances.FirstOrDefault(i => string.Equals(Of(i), wanted, StringComparison.OrdinalIgnoreCase));
                if (chosen == null)
                {
                    throw new EngineException("InstanceNotFound", EngineErrorCategory.ObjectNotFound,
                        $"Scale set {name} has no instance '{wanted}'" + (instances.Count == 0 ? " (it has no instances)." : $"; its instances are {string.Join(", ", instances.Select(Of))}."),
                        instances.Count == 0 ? "Scale the set out to at least one instance, then run again." : "Pass one of those instance IDs, or leave out -InstanceId to probe the first running instance.",
                        ctx.TargetId.ToString());
                }
                if (!Running(chosen, out string state))
                {
                    // Skipped, not Fail: a stopped machine says nothing about whether the identity can pull.
                    JsonObject? other = instances.FirstOrDefault(i => Running(i, out _));
                    return (null, Skip($"instance {wanted} of scale set {name} is not running ({state}), so Run Command cannot run the probe in it.",
                        $"Start it ({start}{wanted}), then run again" + (other == null ? "." : $"; or pass -InstanceId {Of(other)} (running), or leave -InstanceId out.")));
                }
            }
            else
            {
                if (instances.Count == 0)
                {
                    return (null, Skip($"scale set {name} has no instances to run the probe in.",
                        $"Scale it out to at least one instance (az vmss scale --name {name} --new-capacity 1), then run again."));
                }
                chosen = instances.FirstOrDefault(i => Running(i, out _));
                if (chosen == null)
                {
                    string states = string.Join(", ", instances.Take(5).Select(i => { Running(i, out string st); return $"{Of(i)}: {st}"; }))
                        + (instances.Count > 5 ? ", …" : string.Empty);
                    return (null, Skip($"none of the {instances.Count} instance(s) of scale set {name} is running ({states}), so Run Command has nowhere to run the probe.",
                        $"Start an instance ({start}{Of(instances[0])}), then run again."));
                }
                host.WriteVerbose($"In-workload probe: instance {Of(chosen)} is the first running instance of {name}.");
            }
            string instanceId = Of(chosen);
            host.WriteVerbose($"In-workload probe: scale set {name} has {instances.Count} instance(s); probing instance {instanceId}.");
            string? os = Json.Str(chosen, "properties", "storageProfile", "osDisk", "osType")
                ?? Json.Str(set, "properties", "virtualMachineProfile", "storageProfile", "osDisk", "osType");
            return (new Machine($"{ctx.TargetId}/virtualMachines/{Uri.EscapeDataString(instanceId)}", $"{name} instance {instanceId}", os, start + instanceId), null);
        }

        /// <summary>Provisioned and, when ARM gave the instance view, powered on.</summary>
        private static bool Running(JsonObject instance, out string state)
        {
            string provisioning = Json.Str(instance, "properties", "provisioningState") ?? "Succeeded";
            var codes = (Json.Arr(instance, "properties", "instanceView", "statuses") ?? new JsonArray())
                .OfType<JsonObject>().Select(s => Json.Str(s, "code") ?? string.Empty).ToList();
            string? power = codes.FirstOrDefault(c => c.StartsWith("PowerState/", StringComparison.OrdinalIgnoreCase))?.Substring("PowerState/".Length);
            bool provisioned = string.Equals(provisioning, "Succeeded", StringComparison.OrdinalIgnoreCase);
            state = !provisioned ? "provisioning " + provisioning : power ?? "running";
            return provisioned && (power == null || string.Equals(power, "running", StringComparison.OrdinalIgnoreCase));
        }

        /// <summary>
        /// Turns Run Command's result into the check: the step the probe stopped at and the registry's answer. Linux
        /// answers one status ("Enable succeeded: [stdout] … [stderr] …"), Windows a StdOut and a StdErr status.
        /// </summary>
        internal static PullCheck Judge(CheckContext ctx, string machine, bool windows, JsonObject? result)
        {
            var statuses = (result?["value"] as JsonArray)?.OfType<JsonObject>().ToList() ?? new List<JsonObject>();
            string code = statuses.Count > 0 ? Json.Str(statuses[0], "code") ?? "(no code)" : "(no result)";
            string message = string.Join("\n", statuses.Select(s => Json.Str(s, "message") ?? string.Empty));
            var lines = message.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("ACRPROBE ", StringComparison.Ordinal)).ToList();
            if (!code.EndsWith("succeeded", StringComparison.OrdinalIgnoreCase) || lines.Count == 0)
            {
                return Fail($"Run Command on {machine} ended {code} without the probe's answer: {RegistryReply.Scrub(Tail(message))}",
                    windows ? "Check that the VM agent runs and that Windows PowerShell may run scripts on the VM."
                            : "Check that the VM agent runs and that bash and curl are on the VM.");
            }
            string[] last = lines[lines.Count - 1].Split(new[] { ' ' }, 4);
            string step = last.Length > 1 ? last[1] : "?";
            string http = last.Length > 2 ? last[2] : "?";
            string text = RegistryReply.Scrub(last.Length > 3 ? last[3] : string.Empty);
            string repo = ctx.Image!.Repository, tag = ctx.Image.Reference, login = ctx.Registry!.LoginServer;
            string who = ctx.Identity?.ToString() ?? $"{ctx.TargetId!.Name} (no identity)";
            string done = string.Join(" → ", lines.Take(lines.Count - 1).Select(l => l.Split(' ')[1]));
            string prefix = $"Inside {machine} as {who}: " + (done.Length > 0 ? done + " ok, then " : string.Empty);
            switch (step)
            {
                case "manifest" when http == "200":
                    return new PullCheck(Id, Name, CheckResult.Pass, $"Inside {machine} as {who}: IMDS token → /oauth2/exchange → /oauth2/token (repository:{repo}:pull) → HEAD manifest {repo}:{tag} 200.");
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

        /// <summary>The Windows probe (InWorkloadProbe.ps1, embedded): the same steps and lines as <see cref="Script"/>.</summary>
        internal static readonly Lazy<string> PowerShellScript = new Lazy<string>(() =>
        {
            using var stream = typeof(InWorkloadProbe).Assembly.GetManifestResourceStream("AcrIdentity.Engine.InWorkloadProbe.ps1")
                ?? throw new InvalidOperationException("The engine was built without InWorkloadProbe.ps1.");
            using var reader = new System.IO.StreamReader(stream);
            return reader.ReadToEnd().Replace("\r\n", "\n");
        });

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
