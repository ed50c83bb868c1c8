using System;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Checks
{
    /// <summary>
    /// Works out, per target kind, which identity the target's pull settings make it pull with, and what is wrong
    /// with those settings. The three IDs are checked for what each setting needs: App Service the client ID,
    /// Container Instances and Container Apps the resource ID (pain point 3).
    /// </summary>
    internal sealed class IdentityAnalysis
    {
        private readonly IdentityResolver _identities;

        internal IdentityAnalysis(IdentityResolver identities)
        {
            _identities = identities;
        }

        internal async Task AnalyseAsync(CheckContext ctx, CancellationToken ct)
        {
            TargetState state = ctx.State!;
            switch (ctx.Strategy)
            {
                case WebAppTarget _:
                    await WebAppAsync(ctx, state, ct).ConfigureAwait(false);
                    break;
                case ContainerGroupTarget _:
                    await ResourceIdConfigAsync(ctx, state, Json.Arr(state.Resource, "properties", "imageRegistryCredentials"), "imageRegistryCredentials", systemAllowed: false, ct).ConfigureAwait(false);
                    break;
                case ContainerAppTarget _:
                    await ResourceIdConfigAsync(ctx, state, Json.Arr(state.Resource, "properties", "configuration", "registries"), "configuration.registries", systemAllowed: true, ct).ConfigureAwait(false);
                    break;
                case AksTarget aks:
                    Aks(ctx, state, aks);
                    break;
                default:
                    await MachineAsync(ctx, state, ct).ConfigureAwait(false);
                    break;
            }
        }

        private static PullIdentity System(ManagedIdentityBlock block) =>
            new PullIdentity(PullIdentityType.SystemAssigned, principalId: block.PrincipalId);

        private static PullIdentity User(AttachedIdentity a) =>
            new PullIdentity(PullIdentityType.UserAssigned, a.ResourceId, a.ClientId, a.PrincipalId);

        private async Task<PullIdentity?> TryResolveAsync(string text, CancellationToken ct)
        {
            try
            {
                return await _identities.ResolveAsync(text, ct).ConfigureAwait(false);
            }
            catch (EngineException ex) when (ex.Reason == "UserAssignedIdentityNotFound" || ex.Reason == "InvalidIdentityName" || ex.Reason == "InvalidIdentityResourceId" || ex.Reason == "IdentityIdWrongKind" || ex.Reason == "AmbiguousIdentity")
            {
                return null;
            }
        }

        private async Task WebAppAsync(CheckContext ctx, TargetState state, CancellationToken ct)
        {
            ManagedIdentityBlock block = state.Identity;
            bool? use = Json.Bool(state.Config, "properties", "acrUseManagedIdentityCreds");
            string? configured = Json.Str(state.Config, "properties", "acrUserManagedIdentityID");
            string name = state.Id.Name;
            string cid = configured?.Trim() ?? string.Empty;

            if (cid.Length == 0)
            {
                if (block.SystemAssigned)
                {
                    ctx.Identity = System(block);
                }
                else if (block.UserAssigned.Count > 0)
                {
                    AttachedIdentity meant = block.UserAssigned[0];
                    ctx.Identity = User(meant);
                    ctx.ConfiguredIdentityFinding = new Finding(CheckResult.Fail,
                        $"acrUserManagedIdentityID is empty, so App Service pulls with {name}'s system-assigned identity, which is not enabled; {name} has user-assigned {ManagedIdentityBlock.ShortName(meant.ResourceId)} (client ID {meant.ClientId}).",
                        $"Set acrUserManagedIdentityID to the client ID {meant.ClientId}: {{ENABLE}}");
                }
            }
            else
            {
                AttachedIdentity? byClient = block.UserAssigned.FirstOrDefault(u => string.Equals(u.ClientId, cid, StringComparison.OrdinalIgnoreCase));
                AttachedIdentity? byPrincipal = block.UserAssigned.FirstOrDefault(u => string.Equals(u.PrincipalId, cid, StringComparison.OrdinalIgnoreCase));
                AttachedIdentity? byResource = block.UserAssigned.FirstOrDefault(u => Json.SameId(u.ResourceId, cid));
                if (byClient != null)
                {
                    ctx.Identity = User(byClient);
                    ctx.ConfiguredIdentityFinding = new Finding(CheckResult.Pass, $"acrUserManagedIdentityID is the client ID of {ManagedIdentityBlock.ShortName(byClient.ResourceId)}, which is attached.");
                }
                else if (byPrincipal != null || byResource != null)
                {
                    AttachedIdentity a = (byPrincipal ?? byResource)!;
                    ctx.Identity = User(a);
                    string what = byPrincipal != null ? "principal (object) ID" : "resource ID";
                    ctx.ConfiguredIdentityFinding = new Finding(CheckResult.Fail,
                        $"acrUserManagedIdentityID holds the {what} of {ManagedIdentityBlock.ShortName(a.ResourceId)}, but App Service needs its client ID ({a.ClientId}).",
                        $"Set acrUserManagedIdentityID to the client ID {a.ClientId}: {{ENABLE}}");
                }
                else if (block.SystemAssigned && string.Equals(cid, block.PrincipalId, StringComparison.OrdinalIgnoreCase))
                {
                    ctx.Identity = System(block);
                    ctx.ConfiguredIdentityFinding = new Finding(CheckResult.Fail,
                        $"acrUserManagedIdentityID holds the principal ID of {name}'s system-assigned identity; for the system-assigned identity it must be empty.",
                        $"Clear acrUserManagedIdentityID: Enable-AcrManagedIdentityPull -ResourceId '{ctx.TargetId}' -Registry '{{REGISTRY}}' -IdentityType SystemAssigned");
                }
                else
                {
                    PullIdentity? other = Guid.TryParse(cid, out _) ? await TryResolveAsync(cid, ct).ConfigureAwait(false) : null;
                    ctx.Identity = other;
                    ctx.ConfiguredIdentityFinding = other != null
                        ? new Finding(CheckResult.Fail,
                            $"acrUserManagedIdentityID is {(string.Equals(other.ClientId, cid, StringComparison.OrdinalIgnoreCase) ? "the client ID" : "the principal ID")} of {ManagedIdentityBlock.ShortName(other.ResourceId!)}, which is not attached to {name} ({block.Describe()}).",
                            $"Attach it and point the setting at its client ID: Enable-AcrManagedIdentityPull -ResourceId '{ctx.TargetId}' -Registry '{{REGISTRY}}' -UserAssignedIdentity '{other.ResourceId}'")
                        : new Finding(CheckResult.Fail,
                            $"acrUserManagedIdentityID is '{cid}', which is the client ID of no user-assigned identity you can see, and none attached to {name} ({block.Describe()}).",
                            $"Point it at an attached identity's client ID: Enable-AcrManagedIdentityPull -ResourceId '{ctx.TargetId}' -Registry '{{REGISTRY}}' -UserAssignedIdentity <name or resource ID>");
                }
            }

            ctx.ConfigFinding = use == true
                ? new Finding(CheckResult.Pass, $"acrUseManagedIdentityCreds is true{(cid.Length == 0 ? " (system-assigned identity)" : $", acrUserManagedIdentityID {cid}")}.")
                : new Finding(CheckResult.Fail,
                    $"acrUseManagedIdentityCreds is {(use == false ? "false" : "not set")}: App Service pulls without a managed identity (admin credentials or anonymously).",
                    $"Turn identity pulls on: {{ENABLE}}");
            if (ctx.Identity == null && ctx.ConfiguredIdentityFinding == null) NoIdentity(ctx, block);
            else CheckAttached(ctx, block);
        }

        /// <summary>Container Instances (resource ID only) and Container Apps (resource ID or "system").</summary>
        private async Task ResourceIdConfigAsync(CheckContext ctx, TargetState state, JsonArray? entries, string setting, bool systemAllowed, CancellationToken ct)
        {
            ManagedIdentityBlock block = state.Identity;
            string name = state.Id.Name;
            var list = (entries ?? new JsonArray()).OfType<JsonObject>().ToList();
            string? wantedServer = ctx.Request.Registry != null && ctx.Request.Registry.IndexOf('.') >= 0 ? RegistryResolver.NormalizeLoginServer(ctx.Request.Registry) : null;
            JsonObject? entry = list.FirstOrDefault(e => wantedServer != null && string.Equals(Json.Str(e, "server"), wantedServer, StringComparison.OrdinalIgnoreCase))
                ?? list.FirstOrDefault(e => !string.IsNullOrEmpty(Json.Str(e, "identity")))
                ?? list.FirstOrDefault(e => ctx.Images.Any(i => string.Equals(ImageReference.Parse(i).Host, Json.Str(e, "server"), StringComparison.OrdinalIgnoreCase)));
            if (entry == null)
            {
                ctx.ConfigFinding = new Finding(CheckResult.Fail,
                    $"{setting} has no entry with a managed identity{(list.Count > 0 ? " (it lists " + string.Join(", ", list.Select(e => Json.Str(e, "server"))) + ")" : string.Empty)}: {name} pulls anonymously.",
                    $"Add the registry with the identity: {{ENABLE}}");
                if (block.UserAssigned.Count == 1) ctx.Identity = User(block.UserAssigned[0]);
                else if (block.SystemAssigned && systemAllowed) ctx.Identity = System(block);
                else NoIdentity(ctx, block);
                return;
            }
            ctx.ConfiguredServer = Json.Str(entry, "server")?.ToLowerInvariant();
            string? value = Json.Str(entry, "identity")?.Trim();
            if (string.IsNullOrEmpty(value))
            {
                ctx.ConfigFinding = new Finding(CheckResult.Fail,
                    $"{setting} pulls from {ctx.ConfiguredServer} with the username '{Json.Str(entry, "username")}', not with a managed identity.",
                    $"Switch that entry to the identity: {{ENABLE}}");
                if (block.UserAssigned.Count == 1) ctx.Identity = User(block.UserAssigned[0]);
                else if (block.SystemAssigned && systemAllowed) ctx.Identity = System(block);
                return;
            }
            ctx.ConfigFinding = new Finding(CheckResult.Pass, $"{setting} pulls from {ctx.ConfiguredServer} with identity {value}.");

            if (string.Equals(value, "system", StringComparison.OrdinalIgnoreCase))
            {
                if (systemAllowed)
                {
                    ctx.Identity = System(block);
                    ctx.ConfiguredIdentityFinding = new Finding(CheckResult.Pass, $"{setting} names the system-assigned identity.");
                    CheckAttached(ctx, block);
                }
                else
                {
                    ctx.Identity = block.UserAssigned.Count == 1 ? User(block.UserAssigned[0]) : null;
                    ctx.ConfiguredIdentityFinding = new Finding(CheckResult.Fail,
                        $"{setting}[].identity is 'system', but Container Instances pulls only with a user-assigned identity given by its resource ID.",
                        $"Use a user-assigned identity: Enable-AcrManagedIdentityPull -ResourceId '{ctx.TargetId}' -Registry '{{REGISTRY}}' -UserAssignedIdentity <name or resource ID>");
                }
                return;
            }
            if (ArmIds.LooksLikeId(value))
            {
                AttachedIdentity? attached = block.FindUserAssigned(value!);
                if (attached != null)
                {
                    ctx.Identity = attached.PrincipalId != null ? User(attached) : await TryResolveAsync(value!, ct).ConfigureAwait(false) ?? User(attached);
                    ctx.ConfiguredIdentityFinding = new Finding(CheckResult.Pass, $"{setting} names {ManagedIdentityBlock.ShortName(value!)} by resource ID, and it is attached.");
                    return;
                }
                PullIdentity? other = await TryResolveAsync(value!, ct).ConfigureAwait(false);
                ctx.Identity = other;
                ctx.ConfiguredIdentityFinding = new Finding(CheckResult.Fail,
                    other != null
                        ? $"{setting} names {ManagedIdentityBlock.ShortName(value!)}, which is not attached to {name} ({block.Describe()})."
                        : $"{setting} names {value}, which does not exist (deleted, or a typo).",
                    other != null
                        ? $"Attach it: Enable-AcrManagedIdentityPull -ResourceId '{ctx.TargetId}' -Registry '{{REGISTRY}}' -UserAssignedIdentity '{other.ResourceId}'"
                        : $"Point it at an existing identity: Enable-AcrManagedIdentityPull -ResourceId '{ctx.TargetId}' -Registry '{{REGISTRY}}' -UserAssignedIdentity <name or resource ID>");
                return;
            }
            // A GUID: the client or principal ID where the resource ID belongs.
            AttachedIdentity? byGuid = block.UserAssigned.FirstOrDefault(u => string.Equals(u.ClientId, value, StringComparison.OrdinalIgnoreCase) || string.Equals(u.PrincipalId, value, StringComparison.OrdinalIgnoreCase));
            PullIdentity? guidIdentity = byGuid != null ? User(byGuid) : await TryResolveAsync(value!, ct).ConfigureAwait(false);
            ctx.Identity = guidIdentity;
            string kindOfId = guidIdentity != null && string.Equals(guidIdentity.ClientId, value, StringComparison.OrdinalIgnoreCase) ? "client ID" : "principal ID";
            ctx.ConfiguredIdentityFinding = new Finding(CheckResult.Fail,
                guidIdentity != null
                    ? $"{setting}[].identity holds the {kindOfId} of {ManagedIdentityBlock.ShortName(guidIdentity.ResourceId!)}; it must be the identity's resource ID."
                    : $"{setting}[].identity is '{value}', which is not a resource ID{(systemAllowed ? " or 'system'" : string.Empty)}.",
                guidIdentity != null
                    ? $"Set it to '{guidIdentity.ResourceId}': Enable-AcrManagedIdentityPull -ResourceId '{ctx.TargetId}' -Registry '{{REGISTRY}}' -UserAssignedIdentity '{guidIdentity.ResourceId}'"
                    : $"Set it to the user-assigned identity's resource ID: {{ENABLE}}");
            if (guidIdentity != null && byGuid == null)
            {
                ctx.ConfiguredIdentityFinding = new Finding(CheckResult.Fail, ctx.ConfiguredIdentityFinding.Message + $" It is not attached to {name} either.", ctx.ConfiguredIdentityFinding.Fix);
            }
        }

        private async Task MachineAsync(CheckContext ctx, TargetState state, CancellationToken ct)
        {
            ManagedIdentityBlock block = state.Identity;
            string? asked = ctx.Request.Identity?.Trim();
            if (!string.IsNullOrEmpty(asked))
            {
                AttachedIdentity? a = block.UserAssigned.FirstOrDefault(u => Json.SameId(u.ResourceId, asked) || string.Equals(u.ClientId, asked, StringComparison.OrdinalIgnoreCase) || string.Equals(u.PrincipalId, asked, StringComparison.OrdinalIgnoreCase));
                if (a != null)
                {
                    ctx.Identity = a.PrincipalId != null ? User(a) : await TryResolveAsync(a.ResourceId, ct).ConfigureAwait(false) ?? User(a);
                }
                else if (block.SystemAssigned && string.Equals(asked, block.PrincipalId, StringComparison.OrdinalIgnoreCase))
                {
                    ctx.Identity = System(block);
                }
                else
                {
                    ctx.Identity = await TryResolveAsync(asked!, ct).ConfigureAwait(false);
                    ctx.IdentityFinding = new Finding(CheckResult.Fail,
                        $"'{asked}' is not an identity of {state.Id.Name} ({block.Describe()}).",
                        ctx.Identity?.ResourceId != null
                            ? $"Attach it: Enable-AcrManagedIdentityPull -ResourceId '{ctx.TargetId}' -Registry '{{REGISTRY}}' -UserAssignedIdentity '{ctx.Identity.ResourceId}'"
                            : "Pass the resource ID, client ID or principal ID of an identity attached to it.");
                    return;
                }
            }
            else if (block.SystemAssigned)
            {
                ctx.Identity = System(block);
            }
            else if (block.UserAssigned.Count > 0)
            {
                ctx.Identity = User(block.UserAssigned[0]);
                if (ctx.Identity.PrincipalId == null) ctx.Identity = await TryResolveAsync(block.UserAssigned[0].ResourceId, ct).ConfigureAwait(false) ?? ctx.Identity;
                if (block.UserAssigned.Count > 1)
                {
                    ctx.IdentityFinding = new Finding(CheckResult.Warning,
                        $"{state.Id.Name} has {block.Describe()}; checked {ManagedIdentityBlock.ShortName(block.UserAssigned[0].ResourceId)}. The workload picks one by client ID when it logs in.",
                        $"Pass -Identity with the one the workload uses (az login --identity --client-id / Connect-AzAccount -Identity -AccountId).");
                    return;
                }
            }
            else
            {
                NoIdentity(ctx, block);
                return;
            }
            CheckAttached(ctx, block);
        }

        private static void Aks(CheckContext ctx, TargetState state, AksTarget aks)
        {
            ManagedIdentityBlock block = state.Identity;
            if (block.PrincipalId != null) ctx.ControlPlanePrincipals.Add(block.PrincipalId);
            ctx.ControlPlanePrincipals.AddRange(block.UserAssigned.Where(u => u.PrincipalId != null).Select(u => u.PrincipalId!));
            try
            {
                ctx.Identity = aks.FixedPullIdentity(state);
                ctx.IdentityFinding = new Finding(CheckResult.Pass, $"{state.Id.Name} pulls with its kubelet identity {ManagedIdentityBlock.ShortName(ctx.Identity!.ResourceId ?? ctx.Identity.PrincipalId ?? string.Empty)} (object ID {ctx.Identity.PrincipalId}).");
            }
            catch (EngineException ex)
            {
                ctx.IdentityFinding = new Finding(CheckResult.Fail, ex.Message, ex.RecommendedAction);
            }
        }

        private static void NoIdentity(CheckContext ctx, ManagedIdentityBlock block)
        {
            ctx.IdentityFinding = new Finding(CheckResult.Fail, $"{ctx.Name} has no managed identity ({block.Describe()}).", $"Add one and grant it pull: {{ENABLE}}");
        }

        private static void CheckAttached(CheckContext ctx, ManagedIdentityBlock block)
        {
            if (ctx.IdentityFinding != null || ctx.Identity == null) return;
            if (ctx.Identity.Type == PullIdentityType.SystemAssigned && !block.SystemAssigned)
            {
                ctx.IdentityFinding = new Finding(CheckResult.Fail,
                    $"The pull settings use {ctx.Name}'s system-assigned identity, which is not enabled ({block.Describe()}).",
                    $"Enable it and grant it pull: Enable-AcrManagedIdentityPull -ResourceId '{ctx.TargetId}' -Registry '{{REGISTRY}}' -IdentityType SystemAssigned");
                ctx.Identity = null;
                return;
            }
            ctx.IdentityFinding = new Finding(CheckResult.Pass, $"{ctx.Name} has the identity that pulls: {ctx.Identity}{(ctx.Identity.PrincipalId != null ? " (principal " + ctx.Identity.PrincipalId + ")" : string.Empty)}.");
        }
    }
}
