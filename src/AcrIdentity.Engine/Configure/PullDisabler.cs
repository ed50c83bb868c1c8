using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Targets;
using Azure.Core;

namespace AcrIdentity.Engine.Configure
{
    /// <summary>
    /// Disable-AcrManagedIdentityPull: the reverse of the pull switch. Identities stay (other things may use
    /// them); the pull role goes only with RemoveRoleAssignment, and only assignments made at the registry itself.
    /// </summary>
    public sealed class PullDisabler
    {
        private readonly ArmGateway _arm;
        private readonly IEngineHost _host;
        private readonly RegistryResolver _registries;

        public PullDisabler(ModuleContext context, IEngineHost host, EnableCache? cache = null)
        {
            if (context == null) throw new ArgumentNullException(nameof(context));
            _host = host ?? throw new ArgumentNullException(nameof(host));
            _arm = context.CreateGateway(host);
            _registries = new RegistryResolver(_arm, host, context.SubscriptionId, cache?.Registries);
        }

        public async Task<IReadOnlyList<EnableOutcome>> DisableAsync(DisableRequest request, CancellationToken ct)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            TargetSelection selection = TargetSelection.Parse(request.ResourceId, request.Slot, request.IncludeSlots, _host);
            RegistryInfo registry = await _registries.ResolveAsync(request.Registry, ct).ConfigureAwait(false);
            await selection.ExpandAsync(_arm, _host, ct).ConfigureAwait(false);
            if (!selection.Strategy.HasPullConfiguration && !request.RemoveRoleAssignment)
            {
                _host.WriteWarning($"A {selection.Strategy.Kind} has no pull setting to switch off; only its role grants pulls. Pass -RemoveRoleAssignment to revoke it.");
            }

            var outcomes = new List<EnableOutcome>();
            foreach (ResourceIdentifier target in selection.Targets)
            {
                ct.ThrowIfCancellationRequested();
                outcomes.Add(await DisableOneAsync(selection.Strategy, target, registry, request, ct).ConfigureAwait(false));
            }
            return outcomes;
        }

        private async Task<EnableOutcome> DisableOneAsync(TargetStrategy strategy, ResourceIdentifier id, RegistryInfo registry, DisableRequest request, CancellationToken ct)
        {
            var outcome = new EnableOutcome(id.ToString()) { TargetKind = strategy.Kind, Registry = registry };
            try
            {
                TargetState state = await strategy.ReadAsync(_arm, id, ct).ConfigureAwait(false);
                if (strategy is WebAppTarget) outcome.TargetKind = WebAppTarget.KindOf(state);
                outcome.Images = strategy.FindImages(state);
                // Read before the switch: afterwards the config no longer says which identity pulled.
                List<string> principals = strategy.PullPrincipals(state, registry).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

                if (strategy.HasPullConfiguration)
                {
                    PullConfigCheck off = strategy.CheckPullOff(state, registry);
                    string configId = strategy is WebAppTarget ? WebAppTarget.ConfigPath(id) : id.ToString();
                    outcome.Steps.Add(new PullStep(StepKind.PullConfiguration, off.Satisfied ? StepAction.None : StepAction.Update,
                        $"Set {off.Change} on {id.Name}", configId, off.Current));
                }
                if (request.RemoveRoleAssignment)
                {
                    foreach (string principal in principals)
                    {
                        string filter = Uri.EscapeDataString($"principalId eq '{principal}'");
                        var assignments = await _arm.ListAsync($"{registry.Id}/providers/Microsoft.Authorization/roleAssignments?$filter={filter}", ct).ConfigureAwait(false);
                        var pull = assignments.Where(a => string.Equals(Json.Str(a, "properties", "principalId"), principal, StringComparison.OrdinalIgnoreCase)
                                && Json.SameId(Json.Str(a, "properties", "scope"), registry.RegistryId)
                                && (string.Equals(PullRoles.RoleGuidOf(a), PullRoles.AcrPull, StringComparison.OrdinalIgnoreCase) || string.Equals(PullRoles.RoleGuidOf(a), PullRoles.RepositoryReader, StringComparison.OrdinalIgnoreCase)))
                            .ToList();
                        foreach (JsonObject a in pull)
                        {
                            outcome.Steps.Add(new PullStep(StepKind.RoleAssignment, StepAction.Remove,
                                $"Remove {PullRoles.NameOf(PullRoles.RoleGuidOf(a))} of {principal} on {registry.Name}", Json.Str(a, "id"), "other resources sharing this identity lose pull from the registry too"));
                        }
                        if (pull.Count == 0)
                        {
                            outcome.Steps.Add(new PullStep(StepKind.RoleAssignment, StepAction.None, $"Remove the pull role of {principal} on {registry.Name}", registry.RegistryId, "no pull role assigned at the registry"));
                        }
                    }
                }
                _host.WriteVerbose($"Plan for {id.Name}: " + (outcome.Steps.Count == 0 ? "nothing to do" :
                    string.Join("; ", outcome.Steps.Select(s => $"{s.Kind} {(s.Action == StepAction.None ? "already done" : s.Action.ToString().ToLowerInvariant())}"))));
                if (request.PlanOnly) return outcome;

                foreach (PullStep step in outcome.Steps)
                {
                    if (step.Action == StepAction.None) continue;
                    if (request.Approve != null && !await request.Approve(id.ToString(), step.Description, ct).ConfigureAwait(false))
                    {
                        step.Outcome = StepOutcome.Declined;
                        foreach (PullStep later in outcome.Steps.SkipWhile(s => s != step).Skip(1).Where(s => s.Outcome == StepOutcome.Planned)) later.Outcome = StepOutcome.NotRun;
                        outcome.Declined = true;
                        return outcome;
                    }
                    if (step.Kind == StepKind.PullConfiguration)
                    {
                        // The write's reply is the read-back; a GET only when the reply does not show the switch.
                        TargetState? replied = await strategy.WritePullOffAsync(_arm, state, registry, ct).ConfigureAwait(false);
                        bool shown = replied != null && strategy.CheckPullOff(replied, registry).Satisfied;
                        TargetState after = shown ? replied! : await strategy.ReadAsync(_arm, id, ct).ConfigureAwait(false);
                        PullConfigCheck check = strategy.CheckPullOff(after, registry);
                        if (!check.Satisfied)
                        {
                            throw new EngineException("PullConfigurationDrift", EngineErrorCategory.InvalidData,
                                $"Switching {id.Name} off identity pulls did not stick: read back {check.Current}.",
                                "Check for a deployment or policy that rewrites the settings, then run the command again.", step.ResourceId);
                        }
                        step.Detail = (shown ? "the write's reply shows: " : "read back: ") + check.Current;
                        state = after;
                    }
                    else
                    {
                        await _arm.DeleteAsync(step.ResourceId!, ct).ConfigureAwait(false);
                        step.Detail = "deleted";
                    }
                    step.Outcome = StepOutcome.Done;
                }
            }
            catch (EngineException ex)
            {
                outcome.Error = ex;
                PullStep? running = outcome.Steps.FirstOrDefault(s => s.Outcome == StepOutcome.Planned);
                if (running != null)
                {
                    running.Outcome = StepOutcome.Failed;
                    running.Error = ex;
                    foreach (PullStep later in outcome.Steps.SkipWhile(s => s != running).Skip(1).Where(s => s.Outcome == StepOutcome.Planned)) later.Outcome = StepOutcome.NotRun;
                }
            }
            return outcome;
        }
    }
}
