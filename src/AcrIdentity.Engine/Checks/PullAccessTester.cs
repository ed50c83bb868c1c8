using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Audit;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Checks.Live;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Targets;
using Azure.Core;

namespace AcrIdentity.Engine.Checks
{
    /// <summary>
    /// Test-AcrPullAccess: reads the target, its identity and pull settings, the registry and every role
    /// assignment that applies, then runs each check. Reads only; nothing is written.
    /// </summary>
    public sealed class PullAccessTester
    {
        /// <summary>The checks in report order.</summary>
        private static readonly PullAccessCheck[] Checks =
        {
            new TargetFoundCheck(),
            new IdentityAttachedCheck(),
            new PullConfigurationCheck(),
            new ConfiguredIdentityCheck(),
            new ContainerInstanceLimitsCheck(),
            new RegistryFoundCheck(),
            new ImageRegistryCheck(),
            new NetworkAccessCheck(),
            new PullRoleCheck(),
            new RegistryModeRolesCheck(),
            new RepositoryConditionCheck(),
            new KubeletIdentityCheck(),
            new OrphanedAssignmentsCheck(),
            new OverPrivilegeCheck(),
            new ArmAudiencePolicyCheck(),
            new AnonymousPullCheck(),
            new AdminUserCheck(),
        };

        /// <summary>Every check Id, in report order (LivePull, then InWorkloadProbe, last).</summary>
        public static IReadOnlyList<string> CheckIds { get; } = Checks.Select(c => c.Id).Concat(new[] { LiveProbe.Id, InWorkloadProbe.Id }).ToList();

        private readonly ArmGateway _arm;
        private readonly IEngineHost _host;
        private readonly string _armAudience;
        private readonly RegistryResolver _registries;
        private readonly IdentityResolver _identities;
        private readonly PermissionEvaluator _permissions;
        private readonly EntraDirectory _directory;
        private readonly PullAccessCache _cache;

        /// <param name="cache">Shared by the inputs of one command; null for none.</param>
        public PullAccessTester(ModuleContext context, IEngineHost host, PullAccessCache? cache = null)
        {
            if (context == null) throw new ArgumentNullException(nameof(context));
            _host = host ?? throw new ArgumentNullException(nameof(host));
            _cache = cache ?? new PullAccessCache();
            _arm = context.CreateGateway(host);
            _armAudience = context.Cloud.ArmAudience;
            _registries = new RegistryResolver(_arm, host, context.SubscriptionId, _cache.Registries);
            _identities = new IdentityResolver(_arm, host, context.SubscriptionId, _cache.Identities);
            _permissions = new PermissionEvaluator(_arm);
            _directory = new EntraDirectory(context, _arm, host, _cache.Directory);
        }

        /// <summary>One report per target (the site and each slot with IncludeSlots), or one for a bare identity.</summary>
        public async Task<IReadOnlyList<PullAccessReport>> TestAsync(PullAccessRequest request, CancellationToken ct)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            if (string.IsNullOrWhiteSpace(request.ResourceId))
            {
                if (string.IsNullOrWhiteSpace(request.Identity) || string.IsNullOrWhiteSpace(request.Registry))
                {
                    throw new EngineException("TargetOrIdentityRequired", EngineErrorCategory.InvalidArgument,
                        "Test-AcrPullAccess needs a target (-ResourceId) or an identity with a registry (-Identity and -Registry).",
                        "Pass -ResourceId with the target's resource ID, or -Identity <principal, client or resource ID> -Registry <registry>.");
                }
                return new[] { await TestOneAsync(request, null, null, ct).ConfigureAwait(false) };
            }

            ResourceIdentifier id = ArmIds.ParseTarget(request.ResourceId);
            TargetStrategy strategy = TargetCatalog.For(id.ResourceType) ?? throw new EngineException("UnsupportedTargetKind", EngineErrorCategory.InvalidArgument,
                $"'{id}' is a {id.ResourceType}, which this module cannot check.", "Pass the ID of one of: " + TargetCatalog.SupportedTypes + ".", id.ToString());
            var targets = new List<ResourceIdentifier> { id };
            bool site = strategy is WebAppTarget && string.Equals(id.ResourceType.ToString(), WebAppTarget.SiteType, StringComparison.OrdinalIgnoreCase);
            if ((request.Slot != null || request.IncludeSlots) && !site)
            {
                throw new EngineException("SlotsNotApplicable", EngineErrorCategory.InvalidArgument,
                    $"-Slot and -IncludeSlots apply to a web or function app's site ID; '{id}' is a {id.ResourceType}.",
                    "Pass the site's resource ID with -Slot or -IncludeSlots, or a slot's own resource ID without them.", id.ToString());
            }
            if (request.InstanceId != null && !(strategy is VirtualMachineScaleSetTarget))
            {
                throw new EngineException("InstanceIdNotApplicable", EngineErrorCategory.InvalidArgument,
                    $"-InstanceId picks an instance of a VM scale set; '{id}' is a {id.ResourceType}.",
                    "Pass a scale set's resource ID with -InstanceId, or leave -InstanceId out.", id.ToString());
            }
            if (request.Slot != null)
            {
                targets[0] = new ResourceIdentifier($"{id}/slots/{request.Slot.Trim()}");
            }
            else if (request.IncludeSlots)
            {
                // Each slot has its own identity and its own acr* settings, and neither is swapped (pain point 11).
                foreach (JsonObject slot in await _arm.ListAsync(id + "/slots", ct).ConfigureAwait(false))
                {
                    string? slotId = Json.Str(slot, "id");
                    if (slotId != null) targets.Add(new ResourceIdentifier(slotId));
                }
                _host.WriteVerbose($"{id.Name} has {targets.Count - 1} slot(s); each is checked on its own.");
            }
            var reports = new List<PullAccessReport>();
            foreach (ResourceIdentifier target in targets)
            {
                ct.ThrowIfCancellationRequested();
                reports.Add(await TestOneAsync(request, target, strategy, ct).ConfigureAwait(false));
            }
            return reports;
        }

        private async Task<PullAccessReport> TestOneAsync(PullAccessRequest request, ResourceIdentifier? targetId, TargetStrategy? strategy, CancellationToken ct)
        {
            var ctx = new CheckContext(request, targetId) { Strategy = strategy, Kind = strategy?.Kind ?? "Identity" };
            await ReadAsync(ctx, ct).ConfigureAwait(false);

            var report = new PullAccessReport(targetId?.ToString())
            {
                TargetKind = ctx.Kind,
                Registry = ctx.Registry?.Id.ToString(),
                RegistryLoginServer = ctx.Registry?.LoginServer,
                Identity = ctx.Identity == null ? null
                    : ctx.Identity.ResourceId != null ? ctx.Identity.ResourceId
                    : ctx.HasTarget ? $"{ctx.TargetId!.Name} (system-assigned)" : $"principal {ctx.Identity.PrincipalId}",
                PrincipalId = ctx.Identity?.PrincipalId,
                Image = ctx.Image?.Text,
                Repository = ctx.Image?.Repository,
            };
            foreach (PullAccessCheck check in Checks) report.Checks.Add(check.Run(ctx));
            report.Checks.Add(!request.Live ? LiveProbe.NotAsked()
                : ctx.TargetMissing != null ? new PullCheck(LiveProbe.Id, LiveProbe.Name, CheckResult.Skipped, "Skipped: the target could not be read.")
                : await LiveProbe.RunAsync(ctx, _host, ct).ConfigureAwait(false));
            report.Checks.Add(!request.InWorkload ? InWorkloadProbe.NotAsked()
                : await InWorkloadProbe.RunAsync(ctx, _arm, _armAudience, _host, ct).ConfigureAwait(false));
            foreach (PullCheck c in report.Checks.Where(c => c.Result == CheckResult.Fail || c.Result == CheckResult.Warning))
            {
                _host.WriteVerbose($"{report.Target ?? report.Identity}: {c.Id} {c.Result} — {c.Message}");
            }
            return report;
        }

        private async Task ReadAsync(CheckContext ctx, CancellationToken ct)
        {
            if (!(ctx.TargetId is null))
            {
                try
                {
                    ctx.State = await ctx.Strategy!.ReadAsync(_arm, ctx.TargetId, ct).ConfigureAwait(false);
                }
                catch (EngineException ex) when (ex.Reason == "TargetNotFound" || (ex is ArmRequestException arm && (arm.Status == 404 || arm.Status == 403)))
                {
                    ctx.TargetMissing = new Finding(CheckResult.Fail, ex.Message, ex.RecommendedAction ?? "Check the resource ID and that you may read it.");
                    return;
                }
                if (ctx.Strategy is WebAppTarget) ctx.Kind = WebAppTarget.KindOf(ctx.State);
                ctx.Images = ctx.Strategy!.FindImages(ctx.State);
                await new IdentityAnalysis(_identities).AnalyseAsync(ctx, ct).ConfigureAwait(false);
            }
            else
            {
                await BareIdentityAsync(ctx, ct).ConfigureAwait(false);
            }

            await ResolveRegistryAsync(ctx, ct).ConfigureAwait(false);
            if (ctx.Registry == null) return;
            ChooseImage(ctx);
            if (ctx.ConfiguredServer != null && !string.Equals(ctx.ConfiguredServer, ctx.Registry.LoginServer, StringComparison.OrdinalIgnoreCase) && ctx.ConfigFinding?.Result == CheckResult.Pass)
            {
                ctx.ConfigFinding = new Finding(CheckResult.Fail,
                    $"The identity credential is for {ctx.ConfiguredServer}, not {ctx.Registry.LoginServer}: pulls from {ctx.Registry.LoginServer} go without it.",
                    "Add the registry with the identity: {ENABLE}");
            }

            if (ctx.Identity?.PrincipalId != null)
            {
                ctx.Grants = await _permissions.GrantsForAsync(ctx.Registry, ctx.Identity.PrincipalId, ct).ConfigureAwait(false);
            }
            ctx.AllGrants = await _permissions.AllGrantsAsync(ctx.Registry, ct).ConfigureAwait(false);
            var pullers = ctx.AllGrants.Where(g => g.GrantsPullSomehow && g.IsDirectoryPrincipal)
                .Select(g => g.PrincipalId).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            var others = pullers.Where(p => !string.Equals(p, ctx.Identity?.PrincipalId, StringComparison.OrdinalIgnoreCase)).ToList();
            if (others.Count == 0) return;
            if (_cache.DirectoryAvailable)
            {
                try
                {
                    if (!await _directory.HoldsPrincipalsOfAsync(ctx.Registry.Id.SubscriptionId!, ct).ConfigureAwait(false))
                    {
                        // Another tenant's registry (Azure Lighthouse): nothing here can tell its principals deleted.
                        ctx.OtherTenant = true;
                        return;
                    }
                    // One Graph call answers which principals exist, wherever their identities live. It asks about every
                    // pull principal of the registry, this target's too, so the command's later targets ask nothing more.
                    var unseen = pullers.Where(p => !_cache.PrincipalExists.ContainsKey(p)).ToList();
                    if (unseen.Count > 0)
                    {
                        var found = await _directory.LookUpAsync(unseen, ct).ConfigureAwait(false);
                        foreach (string p in unseen) _cache.PrincipalExists[p] = found.ContainsKey(p);
                    }
                    foreach (string p in others.Where(p => _cache.PrincipalExists[p])) ctx.KnownPrincipals.Add(p);
                    ctx.DirectoryChecked = true;
                    return;
                }
                catch (DirectoryUnavailableException ex)
                {
                    _cache.DirectoryAvailable = false;
                    // Verbose, not a warning: every target of a pipeline would repeat it, and the check's own text says it guesses.
                    _host.WriteVerbose($"Entra ID could not be asked which principals exist ({ex.Message}): the OrphanedAssignments check guesses from the managed identities you can see." +
                        (ex.Denied ? " Reading the directory (Directory.Read.All) makes it exact." : string.Empty));
                }
            }
            // Workloads in other subscriptions pull from shared registries too: know every identity the caller can see.
            var subscriptions = new List<string> { ctx.Registry.Id.SubscriptionId! };
            if (ctx.TargetId?.SubscriptionId != null) subscriptions.Add(ctx.TargetId.SubscriptionId);
            subscriptions.AddRange((await SubscriptionsAsync(ct).ConfigureAwait(false)));
            foreach (string sub in subscriptions.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                foreach (string p in await ManagedPrincipalsAsync(sub, ct).ConfigureAwait(false)) ctx.KnownPrincipals.Add(p);
            }
        }

        private async Task BareIdentityAsync(CheckContext ctx, CancellationToken ct)
        {
            string text = ctx.Request.Identity!.Trim();
            try
            {
                ctx.Identity = await _identities.ResolveAsync(text, ct).ConfigureAwait(false);
            }
            catch (EngineException ex) when (ex.Reason == "UserAssignedIdentityNotFound" && Guid.TryParse(text, out _))
            {
                // Not a user-assigned identity: a system-assigned identity's or a service principal's object ID.
                _host.WriteVerbose($"'{text}' is no user-assigned identity's client or principal ID; taking it as a principal (object) ID.");
                ctx.Identity = new PullIdentity(PullIdentityType.SystemAssigned, principalId: text);
            }
            catch (EngineException ex) when (ex.Reason == "UserAssignedIdentityNotFound")
            {
                _host.WriteVerbose(ex.Message);
            }
        }

        private async Task ResolveRegistryAsync(CheckContext ctx, CancellationToken ct)
        {
            string? input = ctx.Request.Registry;
            string source = "-Registry";
            if (string.IsNullOrWhiteSpace(input) && ctx.ConfiguredServer != null)
            {
                input = ctx.ConfiguredServer;
                source = "the target's registry credential";
            }
            if (string.IsNullOrWhiteSpace(input))
            {
                string? fromImage = ctx.Request.Image != null ? ImageReference.Parse(ctx.Request.Image).Host : null;
                fromImage ??= ctx.Images.Select(i => ImageReference.Parse(i).Host).FirstOrDefault(h => h != null);
                input = fromImage;
                source = "the image";
            }
            if (string.IsNullOrWhiteSpace(input))
            {
                ctx.RegistryMissing = new Finding(CheckResult.Fail,
                    ctx.Images.Count > 0 ? $"The target runs {string.Join(", ", ctx.Images)}, which names no registry host (a Docker Hub image)." : "No registry was given and none can be inferred from the target.",
                    "Pass -Registry with the registry's name, login server or resource ID.");
                return;
            }
            try
            {
                ctx.Registry = await _registries.ResolveAsync(input, ct).ConfigureAwait(false);
                _host.WriteVerbose($"Registry from {source}: {ctx.Registry.Id}.");
                ctx.RegistryResource = (await _arm.GetAsync(ctx.Registry.Id.ToString(), ct).ConfigureAwait(false)).Object;
            }
            catch (EngineException ex) when (ex.Reason == "RegistryNotFound" || ex.Reason == "InvalidRegistryName" || ex.Reason == "AmbiguousRegistry" || ex.Reason == "InvalidRegistryId" || ex.Reason == "RegistryIdWrongKind"
                || (ex is ArmRequestException arm && (arm.Status == 404 || arm.Status == 403)))
            {
                ctx.RegistryMissing = new Finding(CheckResult.Fail,
                    source == "-Registry" ? ex.Message : $"{ex.Message} ({input} comes from {source}.)",
                    source == "the image"
                        ? $"Correct the image's login server to the registry's (Get-AzContainerRegistry | Select-Object Name, LoginServer), or pass -Registry. {ex.RecommendedAction}"
                        : ex.RecommendedAction);
            }
        }

        private static void ChooseImage(CheckContext ctx)
        {
            string login = ctx.Registry!.LoginServer;
            if (!string.IsNullOrWhiteSpace(ctx.Request.Image))
            {
                ctx.Image = ImageReference.InRegistry(ctx.Request.Image!, login);
                return;
            }
            var parsed = ctx.Images.Select(ImageReference.Parse).ToList();
            ctx.Image = parsed.FirstOrDefault(i => string.Equals(i.Host, login, StringComparison.OrdinalIgnoreCase)) ?? parsed.FirstOrDefault();
        }

        private async Task<List<string>> SubscriptionsAsync(CancellationToken ct)
        {
            if (_cache.Subscriptions != null) return _cache.Subscriptions;
            _cache.Subscriptions = (await _arm.ListAsync("/subscriptions", ct).ConfigureAwait(false))
                .Select(x => Json.Str(x, "subscriptionId")).Where(x => !string.IsNullOrEmpty(x)).Select(x => x!).ToList();
            return _cache.Subscriptions;
        }

        /// <summary>Principal IDs of every managed identity in a subscription: system-assigned ones and user-assigned identities.</summary>
        private async Task<HashSet<string>> ManagedPrincipalsAsync(string subscriptionId, CancellationToken ct)
        {
            if (_cache.PrincipalsBySubscription.TryGetValue(subscriptionId, out HashSet<string>? known)) return known;
            known = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (JsonObject r in await _arm.ListAsync($"/subscriptions/{subscriptionId}/resources", ct).ConfigureAwait(false))
            {
                ManagedIdentityBlock block = ManagedIdentityBlock.Parse(r);
                if (block.PrincipalId != null) known.Add(block.PrincipalId);
                foreach (AttachedIdentity u in block.UserAssigned.Where(u => u.PrincipalId != null)) known.Add(u.PrincipalId!);
                if (Json.Str(r, "properties", "identityProfile", "kubeletidentity", "objectId") is string kubelet) known.Add(kubelet);
            }
            foreach (JsonObject mi in await _arm.ListAsync($"/subscriptions/{subscriptionId}/providers/{IdentityResolver.IdentityType}", ct).ConfigureAwait(false))
            {
                if (Json.Str(mi, "properties", "principalId") is string p) known.Add(p);
            }
            _cache.PrincipalsBySubscription[subscriptionId] = known;
            return known;
        }
    }
}
