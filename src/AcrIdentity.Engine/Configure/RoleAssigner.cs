using System;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;

namespace AcrIdentity.Engine.Configure
{
    /// <summary>
    /// Creates the pull role assignment the way that survives Azure: a deterministic name (a retried PUT hits the
    /// same assignment), principalType=ServicePrincipal (skips the directory lookup that fails during replication),
    /// RoleAssignmentExists taken as success, PrincipalNotFound retried with back-off until the propagation
    /// timeout (pain points 1 and 5).
    /// </summary>
    internal sealed class RoleAssigner
    {
        private static readonly Regex ExistingId = new Regex("existing role assignment is ([0-9a-fA-F]{32}|[0-9a-fA-F-]{36})", RegexOptions.CultureInvariant);
        private static int s_progressId = 7400;

        private readonly ArmGateway _arm;
        private readonly IEngineHost _host;

        internal RoleAssigner(ArmGateway arm, IEngineHost host)
        {
            _arm = arm;
            _host = host;
        }

        internal static string PathFor(RegistryInfo registry, string principalId, PullRole role) =>
            $"{registry.Id}/providers/Microsoft.Authorization/roleAssignments/{RoleAssignmentName.For(registry.Id.ToString(), principalId, role.DefinitionGuid, role.Condition)}";

        /// <param name="servicePrincipal">Known to be a managed identity: say so, which skips the directory lookup.
        /// Otherwise (a bare object ID may be a user or group) ARM must look the type up.</param>
        internal static JsonObject Body(RegistryInfo registry, string principalId, PullRole role, bool servicePrincipal = true)
        {
            var properties = new JsonObject
            {
                ["roleDefinitionId"] = role.DefinitionId(registry.Id.SubscriptionId!),
                ["principalId"] = principalId,
            };
            if (servicePrincipal) properties["principalType"] = "ServicePrincipal";
            if (role.Condition != null)
            {
                properties["condition"] = role.Condition;
                properties["conditionVersion"] = "2.0";
            }
            return new JsonObject { ["properties"] = properties };
        }

        /// <summary>Returns the assignment's ID and a note on how it came about.</summary>
        internal async Task<(string Id, string Detail)> AssignAsync(RegistryInfo registry, string principalId, PullRole role,
            TimeSpan propagationTimeout, TimeSpan firstDelay, CancellationToken ct, bool servicePrincipal = true)
        {
            string path = PathFor(registry, principalId, role);
            JsonObject body = Body(registry, principalId, role, servicePrincipal);
            var watch = Stopwatch.StartNew();
            TimeSpan delay = firstDelay <= TimeSpan.Zero ? TimeSpan.FromMilliseconds(100) : firstDelay;
            int progressId = Interlocked.Increment(ref s_progressId);
            string activity = $"Granting {role.Name} to {principalId}";
            int attempt = 0;
            try
            {
                while (true)
                {
                    attempt++;
                    try
                    {
                        ArmResponse reply = await _arm.PutAsync(path, body, ct).ConfigureAwait(false);
                        string id = Json(reply) ?? path;
                        return (id, reply.Status == 201 ? "created" : "in place (the PUT found it)");
                    }
                    catch (ArmRequestException ex) when (string.Equals(ex.ArmCode, "RoleAssignmentExists", StringComparison.OrdinalIgnoreCase))
                    {
                        // Same role for the same principal at the same scope under another name: that is success.
                        Match m = ExistingId.Match(ex.ArmMessage ?? string.Empty);
                        string id = m.Success ? $"{registry.Id}/providers/Microsoft.Authorization/roleAssignments/{Guid.Parse(m.Groups[1].Value)}" : path;
                        _host.WriteVerbose($"{role.Name} for {principalId} already exists on {registry.Name} (RoleAssignmentExists); nothing to create.");
                        return (id, "already existed (RoleAssignmentExists)");
                    }
                    catch (ArmRequestException ex) when (string.Equals(ex.ArmCode, "PrincipalNotFound", StringComparison.OrdinalIgnoreCase))
                    {
                        TimeSpan left = propagationTimeout - watch.Elapsed;
                        if (left <= TimeSpan.Zero)
                        {
                            throw new EngineException("PrincipalNotFound", EngineErrorCategory.OperationTimeout,
                                $"The principal {principalId} was still not found in the directory after {watch.Elapsed.TotalSeconds:0} s ({attempt} attempts): {ex.ArmMessage}",
                                "A new identity can take several minutes to replicate: run the command again (it continues where it stopped), or raise -PropagationTimeout. If the identity is old, check that the principal ID is right.",
                                registry.Id.ToString(), ex);
                        }
                        TimeSpan wait = delay < left ? delay : left;
                        _host.WriteVerbose($"Principal {principalId} not replicated yet (PrincipalNotFound); retrying in {wait.TotalSeconds:0.#} s.");
                        int percent = (int)Math.Min(99, 100 * watch.Elapsed.TotalSeconds / Math.Max(1, propagationTimeout.TotalSeconds));
                        _host.WriteProgress(new EngineProgress(progressId, activity, $"Waiting for the identity to replicate ({watch.Elapsed.TotalSeconds:0} s of {propagationTimeout.TotalSeconds:0} s)", percent));
                        await Task.Delay(wait, ct).ConfigureAwait(false);
                        delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                    }
                }
            }
            finally
            {
                if (attempt > 1) _host.WriteProgress(new EngineProgress(progressId, activity, "Done", 100, completed: true));
            }
        }

        private static string? Json(ArmResponse reply) => Targets.Json.Str(reply.Object, "id");
    }
}
