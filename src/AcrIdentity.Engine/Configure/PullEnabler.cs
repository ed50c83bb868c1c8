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
    /// Enable-AcrManagedIdentityPull: read everything, plan (identity → role → pull configuration, each create /
    /// update / already done), then write, checking each write's result in its reply (a GET only when the reply
    /// does not show it). A rerun after any failure finishes the job, and a run on a configured target writes nothing.
    /// </summary>
    public sealed class PullEnabler
    {
        private readonly ArmGateway _arm;
        private readonly IEngineHost _host;
        private readonly RegistryResolver _registries;
        private readonly IdentityResolver _identities;
        private readonly RoleAssigner _roles;

        /// <param name="cache">Shared by the inputs of one command; null for none.</param>
        public PullEnabler(ModuleContext context, IEngineHost host, EnableCache? cache = null)
        {
            if (context == null) throw new ArgumentNullException(nameof(context));
            _host = host ?? throw new ArgumentNullException(nameof(host));
            _arm = context.CreateGateway(host);
            _registries = new RegistryResolver(_arm, host, context.SubscriptionId, cache?.Registries);
            _identities = new IdentityResolver(_arm, host, context.SubscriptionId, cache?.Identities);
            _roles = new RoleAssigner(_arm, host);
        }

        /// <summary>
        /// One outcome per target (the site and each slot with IncludeSlots). Problems with the request itself
        /// (bad IDs, unknown registry or identity) throw before anything is written; problems with one target
        /// are in its outcome's Error.
        /// </summary>
        public async Task<IReadOnlyList<EnableOutcome>> EnableAsync(EnableRequest request, CancellationToken ct)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            CheckRequest(request);
            TargetSelection selection = TargetSelection.Parse(request.ResourceId, request.Slot, request.IncludeSlots, _host);
            TargetStrategy strategy = selection.Strategy;

            RegistryInfo registry = await _registries.ResolveAsync(request.Registry, ct).ConfigureAwait(false);
            PullRole role = PullRoles.Choose(registry, request.Repository);
            _host.WriteVerbose(registry.AbacMode
                ? $"Registry {registry.Name} is in ABAC mode: granting {role.Name}{(role.Repository != null ? " for repository " + role.Repository : " (every repository)")}."
                : $"Registry {registry.Name} is in legacy (RBAC) mode: granting {role.Name}.");

            PullIdentity? userAssigned = null;
            EngineException? unresolvedGuid = null;
            if (!string.IsNullOrWhiteSpace(request.UserAssignedIdentity) && !strategy.FixedIdentity)
            {
                try
                {
                    userAssigned = await _identities.ResolveAsync(request.UserAssignedIdentity!, ct).ConfigureAwait(false);
                }
                catch (EngineException ex) when (ex.Reason == "UserAssignedIdentityNotFound" && Guid.TryParse(request.UserAssignedIdentity, out _))
                {
                    // Maybe the target's own system-assigned principal ID: the target's read tells, with a better error.
                    unresolvedGuid = ex;
                }
            }

            await selection.ExpandAsync(_arm, _host, ct).ConfigureAwait(false);

            var outcomes = new List<EnableOutcome>();
            foreach (ResourceIdentifier target in selection.Targets)
            {
                ct.ThrowIfCancellationRequested();
                // Each target is its own decision and its own failure: one declined or failed slot does not stop the rest.
                outcomes.Add(await EnableOneAsync(strategy, target, registry, role, userAssigned, unresolvedGuid, request, ct).ConfigureAwait(false));
            }
            return outcomes;
        }

        private static void CheckRequest(EnableRequest request)
        {
            if (request.IdentityType == PullIdentityType.SystemAssigned && !string.IsNullOrWhiteSpace(request.UserAssignedIdentity))
            {
                throw new EngineException("ConflictingIdentityType", EngineErrorCategory.InvalidArgument,
                    "-IdentityType SystemAssigned and -UserAssignedIdentity contradict each other.",
                    "Leave out -UserAssignedIdentity for the system-assigned identity, or use -IdentityType UserAssigned with it.");
            }
            if (request.IdentityType == PullIdentityType.Kubelet)
            {
                throw new EngineException("InvalidIdentityType", EngineErrorCategory.InvalidArgument, "-IdentityType must be SystemAssigned or UserAssigned.",
                    "AKS clusters always use their kubelet identity; leave out -IdentityType for them.");
            }
            if (request.PropagationTimeout < TimeSpan.Zero)
            {
                throw new EngineException("InvalidPropagationTimeout", EngineErrorCategory.InvalidArgument, "-PropagationTimeout cannot be negative.",
                    "Pass a duration such as (New-TimeSpan -Minutes 5).");
            }
        }

        private async Task<EnableOutcome> EnableOneAsync(TargetStrategy strategy, ResourceIdentifier id, RegistryInfo registry, PullRole role,
            PullIdentity? userAssigned, EngineException? unresolvedGuid, EnableRequest request, CancellationToken ct)
        {
            var outcome = new EnableOutcome(id.ToString()) { TargetKind = strategy.Kind, Registry = registry, Role = role };
            try
            {
                TargetState state = await strategy.ReadAsync(_arm, id, ct).ConfigureAwait(false);
                if (strategy is WebAppTarget) outcome.TargetKind = WebAppTarget.KindOf(state);
                if (unresolvedGuid != null)
                {
                    ManagedIdentityBlock own = state.Identity;
                    if (own.SystemAssigned && string.Equals(request.UserAssignedIdentity?.Trim(), own.PrincipalId, StringComparison.OrdinalIgnoreCase))
                    {
                        throw new EngineException("SystemAssignedPrincipalGiven", EngineErrorCategory.InvalidArgument,
                            $"'{request.UserAssignedIdentity}' is the principal ID of {state.Id.Name}'s own system-assigned identity, not a user-assigned identity.",
                            "Use -IdentityType SystemAssigned (without -UserAssignedIdentity) for the target's own identity.", state.Id.ToString());
                    }
                    throw unresolvedGuid;
                }
                PullIdentity want = await ChooseIdentityAsync(strategy, state, userAssigned, request, ct).ConfigureAwait(false);
                outcome.Identity = want;
                strategy.Validate(state, want, registry);
                outcome.Images = strategy.FindImages(state);
                foreach (string warning in strategy.Warnings(state, registry)) _host.WriteWarning(warning);

                await PlanAsync(outcome, strategy, state, want, registry, role, request, ct).ConfigureAwait(false);
                if (!request.PlanOnly) await ApplyAsync(outcome, strategy, state, want, registry, role, request, ct).ConfigureAwait(false);
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

        private async Task<PullIdentity> ChooseIdentityAsync(TargetStrategy strategy, TargetState state, PullIdentity? userAssigned, EnableRequest request, CancellationToken ct)
        {
            ManagedIdentityBlock current = state.Identity;
            if (strategy.FixedIdentity)
            {
                PullIdentity fixedIdentity = strategy.FixedPullIdentity(state)!;
                if (request.IdentityType != null || !string.IsNullOrWhiteSpace(request.UserAssignedIdentity))
                {
                    string given = request.UserAssignedIdentity?.Trim() ?? string.Empty;
                    bool same = given.Length > 0 && (Json.SameId(given, fixedIdentity.ResourceId) ||
                        string.Equals(given, fixedIdentity.ClientId, StringComparison.OrdinalIgnoreCase) ||
                        string.Equals(given, fixedIdentity.PrincipalId, StringComparison.OrdinalIgnoreCase));
                    if (!same)
                    {
                        throw new EngineException("IdentityFixedByTarget", EngineErrorCategory.InvalidArgument,
                            $"{state.Id.Name} pulls with its kubelet identity ({fixedIdentity.ResourceId ?? fixedIdentity.PrincipalId}); another identity would not be used for pulls.",
                            "Leave out -IdentityType and -UserAssignedIdentity for AKS clusters: the kubelet identity gets the pull role, as az aks update --attach-acr does.", state.Id.ToString());
                    }
                }
                _host.WriteVerbose($"{state.Id.Name} pulls with its kubelet identity {fixedIdentity.ResourceId} (object ID {fixedIdentity.PrincipalId}), not the control-plane identity.");
                return fixedIdentity;
            }

            if (userAssigned != null) return userAssigned;
            if (request.IdentityType == PullIdentityType.UserAssigned)
            {
                if (current.UserAssigned.Count != 1)
                {
                    throw new EngineException("UserAssignedIdentityRequired", EngineErrorCategory.InvalidArgument,
                        $"-IdentityType UserAssigned needs -UserAssignedIdentity: {state.Id.Name} has {current.UserAssigned.Count} user-assigned identities attached.",
                        "Pass -UserAssignedIdentity with the identity's name, resource ID or client ID.", state.Id.ToString());
                }
                AttachedIdentity only = current.UserAssigned[0];
                _host.WriteVerbose($"Using the one user-assigned identity attached to {state.Id.Name}: {only.ResourceId}.");
                if (only.ClientId != null && only.PrincipalId != null) return new PullIdentity(PullIdentityType.UserAssigned, only.ResourceId, only.ClientId, only.PrincipalId);
                return await _identities.ResolveAsync(only.ResourceId, ct).ConfigureAwait(false);
            }
            return new PullIdentity(PullIdentityType.SystemAssigned, principalId: current.SystemAssigned ? current.PrincipalId : null);
        }

        private async Task PlanAsync(EnableOutcome outcome, TargetStrategy strategy, TargetState state, PullIdentity want, RegistryInfo registry,
            PullRole role, EnableRequest request, CancellationToken ct)
        {
            PullStep? identityStep = null;
            if (!strategy.FixedIdentity)
            {
                bool has = state.Identity.Has(want);
                string description = want.Type == PullIdentityType.SystemAssigned
                    ? $"Enable the system-assigned identity on {state.Id.Name}"
                    : $"Attach {want} to {state.Id.Name}" + (state.Identity.UserAssigned.Count > 0 || state.Identity.SystemAssigned ? $" (keeping {state.Identity.Describe()})" : string.Empty);
                identityStep = new PullStep(StepKind.Identity, has ? StepAction.None : StepAction.Create, description, state.Id.ToString(),
                    has ? $"{state.Id.Name} has {state.Identity.Describe()}" : $"{state.Id.Name} has {state.Identity.Describe()}");
            }

            string roleDescription = $"Grant {role.Name}{(role.Repository != null ? " (repository " + role.Repository + ")" : string.Empty)} on {registry.Name} to {want}";
            PullStep roleStep;
            if (want.PrincipalId != null)
            {
                string filter = Uri.EscapeDataString($"principalId eq '{want.PrincipalId}'");
                IReadOnlyList<JsonObject> assignments = await _arm.ListAsync($"{registry.Id}/providers/Microsoft.Authorization/roleAssignments?$filter={filter}", ct).ConfigureAwait(false);
                ExistingGrant? existing = PullRoles.FindExisting(assignments, want.PrincipalId, registry, role);
                foreach (string ignored in PullRoles.IgnoredInAbacMode(assignments, want.PrincipalId, registry))
                {
                    _host.WriteWarning($"{want} holds {ignored} on {registry.Name}, which grants no pulls while the registry is in ABAC mode; {role.Name} is what counts.");
                }
                if (existing != null && (existing.Exact || !request.Force))
                {
                    outcome.RoleAssignmentId = existing.Id;
                    string detail = existing.Exact
                        ? $"{existing.RoleName} already assigned at {existing.Scope}"
                        : $"{existing.RoleName} at {existing.Scope} already grants pull; not adding {role.Name} (use -Force to add it anyway)";
                    if (!existing.Exact) _host.WriteWarning($"{want} already holds {existing.RoleName} at {existing.Scope}, which grants pull and more; {role.Name} is not added. Pass -Force to add it anyway.");
                    roleStep = new PullStep(StepKind.RoleAssignment, StepAction.None, roleDescription, existing.Id, detail);
                }
                else
                {
                    roleStep = new PullStep(StepKind.RoleAssignment, StepAction.Create, roleDescription + $" (principal {want.PrincipalId})",
                        RoleAssigner.PathFor(registry, want.PrincipalId, role), existing != null ? $"{existing.RoleName} at {existing.Scope} exists; adding {role.Name} (-Force)" : "no pull role assigned yet");
                }
            }
            else
            {
                roleStep = new PullStep(StepKind.RoleAssignment, StepAction.Create, roleDescription, registry.Id + "/providers/Microsoft.Authorization/roleAssignments",
                    "the principal ID is known once the identity exists");
            }

            PullStep? configStep = null;
            if (strategy.HasPullConfiguration)
            {
                PullConfigCheck check = strategy.CheckPullConfig(state, want, registry);
                string configId = strategy is WebAppTarget ? WebAppTarget.ConfigPath(state.Id) : state.Id.ToString();
                configStep = new PullStep(StepKind.PullConfiguration, check.Satisfied ? StepAction.None : StepAction.Update,
                    $"Set {check.Change} on {state.Id.Name}", configId, check.Current);
            }

            // A role for a principal that exists already goes first, so the target never pulls before it may
            // (Container Instances pulls as soon as its spec is written).
            if (identityStep != null && want.PrincipalId == null) outcome.Steps.Add(identityStep);
            outcome.Steps.Add(roleStep);
            if (identityStep != null && want.PrincipalId != null) outcome.Steps.Add(identityStep);
            if (configStep != null) outcome.Steps.Add(configStep);
            _host.WriteVerbose($"Plan for {state.Id.Name}: " + string.Join("; ", outcome.Steps.Select(s => $"{s.Kind} {(s.Action == StepAction.None ? "already done" : s.Action.ToString().ToLowerInvariant())}")));
        }

        private async Task ApplyAsync(EnableOutcome outcome, TargetStrategy strategy, TargetState state, PullIdentity want, RegistryInfo registry,
            PullRole role, EnableRequest request, CancellationToken ct)
        {
            foreach (PullStep step in outcome.Steps)
            {
                if (step.Action == StepAction.None) continue;
                if (request.Approve != null && !await request.Approve(state.Id.ToString(), step.Description, ct).ConfigureAwait(false))
                {
                    step.Outcome = StepOutcome.Declined;
                    foreach (PullStep later in outcome.Steps.SkipWhile(s => s != step).Skip(1).Where(s => s.Outcome == StepOutcome.Planned)) later.Outcome = StepOutcome.NotRun;
                    outcome.Declined = true;
                    return;
                }
                switch (step.Kind)
                {
                    case StepKind.Identity:
                        state = await UntilPullableAsync(() => ApplyIdentityAsync(step, strategy, state, want, registry, ct), state.Id.Name, request, ct).ConfigureAwait(false);
                        break;
                    case StepKind.RoleAssignment:
                        var (id, detail) = await _roles.AssignAsync(registry, want.PrincipalId!, role, request.PropagationTimeout, request.PropagationRetryDelay, ct).ConfigureAwait(false);
                        step.ResourceId = id;
                        step.Detail = detail;
                        outcome.RoleAssignmentId = id;
                        _host.WriteVerbose($"{role.Name} on {registry.Name} for {want.PrincipalId}: {detail} ({id}).");
                        break;
                    case StepKind.PullConfiguration:
                        state = await UntilPullableAsync(() => ApplyConfigAsync(step, strategy, state, want, registry, ct), state.Id.Name, request, ct).ConfigureAwait(false);
                        break;
                }
                step.Outcome = StepOutcome.Done;
            }
        }

        /// <summary>
        /// Container Instances pulls while it accepts the spec and answers InaccessibleImage while a fresh role
        /// has not reached the registry yet: that is propagation too, retried within the same timeout.
        /// </summary>
        private async Task<TargetState> UntilPullableAsync(Func<Task<TargetState>> write, string name, EnableRequest request, CancellationToken ct)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan delay = request.PropagationRetryDelay <= TimeSpan.Zero ? TimeSpan.FromMilliseconds(100) : request.PropagationRetryDelay;
            int progressId = Interlocked.Increment(ref s_progressId);
            bool waited = false;
            try
            {
                while (true)
                {
                    try
                    {
                        return await write().ConfigureAwait(false);
                    }
                    catch (ArmRequestException ex) when (string.Equals(ex.ArmCode, "InaccessibleImage", StringComparison.OrdinalIgnoreCase) && watch.Elapsed < request.PropagationTimeout)
                    {
                        TimeSpan left = request.PropagationTimeout - watch.Elapsed;
                        TimeSpan wait = delay < left ? delay : left;
                        waited = true;
                        _host.WriteVerbose($"{name} cannot pull yet (InaccessibleImage): the role may still be propagating; retrying in {wait.TotalSeconds:0.#} s.");
                        _host.WriteProgress(new EngineProgress(progressId, $"Waiting for {name} to pull with its identity",
                            $"{watch.Elapsed.TotalSeconds:0} s of {request.PropagationTimeout.TotalSeconds:0} s"));
                        await Task.Delay(wait, ct).ConfigureAwait(false);
                        delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                    }
                }
            }
            finally
            {
                if (waited) _host.WriteProgress(new EngineProgress(progressId, $"Waiting for {name} to pull with its identity", "Done", 100, completed: true));
            }
        }

        private static int s_progressId = 7500;

        private async Task<TargetState> ApplyIdentityAsync(PullStep step, TargetStrategy strategy, TargetState state, PullIdentity want, RegistryInfo registry, CancellationToken ct)
        {
            TargetState? replied = await strategy.AddIdentityAsync(_arm, state, want, registry, ct).ConfigureAwait(false);
            TargetState after = replied != null && IdentityProblem(state, replied, want) == null
                ? replied
                : await ReadBackAsync(strategy, state, "identity", ct).ConfigureAwait(false);
            ManagedIdentityBlock identity = after.Identity;
            string? problem = IdentityProblem(state, after, want);
            if (problem != null)
            {
                throw new EngineException("IdentityDrift", EngineErrorCategory.InvalidData,
                    $"After the identity write, {state.Id.Name} has {identity.Describe()}{problem}.",
                    "Something else changed the resource's identity at the same time, or the provider ignored the change; check the resource and run the command again.", state.Id.ToString());
            }
            if (want.Type == PullIdentityType.SystemAssigned)
            {
                want.PrincipalId = identity.PrincipalId;
                step.Detail = $"principal ID {identity.PrincipalId}";
            }
            else
            {
                step.Detail = $"{state.Id.Name} now has {identity.Describe()}";
            }
            return after;
        }

        /// <summary>
        /// Null when <paramref name="after"/> has every identity <paramref name="before"/> had plus the wanted one
        /// (with its principal ID, which the role needs); else what is wrong, for the message.
        /// </summary>
        private static string? IdentityProblem(TargetState before, TargetState after, PullIdentity want)
        {
            ManagedIdentityBlock identity = after.Identity;
            var lost = before.Identity.UserAssigned.Where(u => identity.FindUserAssigned(u.ResourceId) == null).Select(u => u.ResourceId).ToList();
            if (before.Identity.SystemAssigned && !identity.SystemAssigned) lost.Add("system-assigned");
            if (lost.Count > 0) return $"; lost: {string.Join(", ", lost)}";
            if (!identity.Has(want) || (want.Type == PullIdentityType.SystemAssigned && string.IsNullOrEmpty(identity.PrincipalId))) return string.Empty;
            return null;
        }

        /// <summary>
        /// The write's reply did not show the change (a 200 with another body, a reply without the resource): a GET
        /// decides, so a failure is reported only for what Azure really holds.
        /// </summary>
        private async Task<TargetState> ReadBackAsync(TargetStrategy strategy, TargetState state, string what, CancellationToken ct)
        {
            _host.WriteVerbose($"The {what} write's reply does not show the change on {state.Id.Name}; reading it back.");
            return await strategy.ReadAsync(_arm, state.Id, ct).ConfigureAwait(false);
        }

        private async Task<TargetState> ApplyConfigAsync(PullStep step, TargetStrategy strategy, TargetState state, PullIdentity want, RegistryInfo registry, CancellationToken ct)
        {
            if (strategy.CheckPullConfig(state, want, registry).Satisfied)
            {
                step.Detail = "written together with the identity";
                return state;
            }
            TargetState? replied = await strategy.WritePullConfigAsync(_arm, state, want, registry, ct).ConfigureAwait(false);
            bool shown = replied != null && strategy.CheckPullConfig(replied, want, registry).Satisfied;
            TargetState after = shown ? replied! : await ReadBackAsync(strategy, state, "pull configuration", ct).ConfigureAwait(false);
            PullConfigCheck check = strategy.CheckPullConfig(after, want, registry);
            if (!check.Satisfied)
            {
                // Pain point 4: a setting that did not stick must fail loudly, not look configured.
                throw new EngineException("PullConfigurationDrift", EngineErrorCategory.InvalidData,
                    $"The pull configuration of {state.Id.Name} did not stick: wanted {check.Change}, read back {check.Current}.",
                    "Check for a deployment, policy or pipeline that rewrites the site or container settings, then run the command again.", step.ResourceId ?? state.Id.ToString());
            }
            step.Detail = (shown ? "the write's reply shows: " : "read back: ") + check.Current;
            return after;
        }
    }

}
