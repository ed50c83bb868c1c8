using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Checks;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Audit
{
    /// <summary>
    /// Grant-/Revoke-AcrPullAccess and New-AcrPullIdentity. Grants go through Enable's role choice (PullRoles) and
    /// assigner (deterministic name, PrincipalNotFound retries, 409 = success); revokes judge roles with
    /// Test-AcrPullAccess's evaluator and remove only what is assigned on the registry itself.
    /// </summary>
    public sealed class AccessManager
    {
        private static readonly Regex IdentityName = new Regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$", RegexOptions.CultureInvariant);

        private readonly ArmGateway _arm;
        private readonly IEngineHost _host;
        private readonly string _subscriptionId;
        private readonly RegistryResolver _registries;
        private readonly PrincipalResolver _principals;
        private readonly RoleAssigner _assigner;
        private readonly PermissionEvaluator _evaluator;

        public AccessManager(ModuleContext context, IEngineHost host)
        {
            if (context == null) throw new ArgumentNullException(nameof(context));
            _host = host ?? throw new ArgumentNullException(nameof(host));
            _arm = context.CreateGateway(host);
            _subscriptionId = context.SubscriptionId;
            _registries = new RegistryResolver(_arm, host, context.SubscriptionId);
            _principals = new PrincipalResolver(_arm, host, context.SubscriptionId);
            _assigner = new RoleAssigner(_arm, host);
            _evaluator = new PermissionEvaluator(_arm);
        }

        public async Task<AccessChange> GrantAsync(AccessRequest request, CancellationToken ct)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            RegistryInfo registry = await _registries.ResolveAsync(request.Registry, ct).ConfigureAwait(false);
            PullRole role = PullRoles.Choose(registry, request.Repository);
            ResolvedPrincipal principal = await _principals.ResolveAsync(request.Principal, ct).ConfigureAwait(false);
            return await GrantToAsync(registry, role, principal, request.Force, request.PlanOnly, request.Approve, request.PropagationTimeout, request.PropagationRetryDelay, ct).ConfigureAwait(false);
        }

        private async Task<AccessChange> GrantToAsync(RegistryInfo registry, PullRole role, ResolvedPrincipal principal, bool force, bool planOnly,
            Func<string, string, CancellationToken, Task<bool>>? approve, TimeSpan timeout, TimeSpan firstDelay, CancellationToken ct)
        {
            var change = new AccessChange
            {
                Registry = registry.Name, RegistryId = registry.RegistryId, PrincipalId = principal.PrincipalId, PrincipalSource = principal.Source,
                Role = role.Name, Scope = registry.RegistryId,
            };
            string filter = Uri.EscapeDataString($"principalId eq '{principal.PrincipalId}'");
            var assignments = await _arm.ListAsync($"{registry.RegistryId}/providers/Microsoft.Authorization/roleAssignments?$filter={filter}", ct).ConfigureAwait(false);
            foreach (string ignored in PullRoles.IgnoredInAbacMode(assignments, principal.PrincipalId, registry))
            {
                _host.WriteWarning($"{principal.PrincipalId} holds {ignored} on {registry.Name}, which grants no pulls while the registry is in ABAC mode; {role.Name} is what counts.");
            }
            ExistingGrant? existing = PullRoles.FindExisting(assignments, principal.PrincipalId, registry, role);
            if (existing != null && (existing.Exact || !force))
            {
                change.AssignmentId = existing.Id;
                change.Scope = existing.Scope;
                change.Role = existing.RoleName;
                change.Status = existing.Exact ? "AlreadyGranted" : "CoveredByBroaderRole";
                change.Detail = existing.Exact ? $"{existing.RoleName} already assigned at {existing.Scope}" : $"{existing.RoleName} at {existing.Scope} already grants pull; pass -Force to add {role.Name} too";
                return change;
            }
            string action = $"Grant {role.Name}{(role.Repository != null ? " (repository " + role.Repository + ")" : string.Empty)} on {registry.Name} to {principal.PrincipalId} ({principal.Source})";
            change.AssignmentId = RoleAssigner.PathFor(registry, principal.PrincipalId, role);
            if (planOnly)
            {
                change.Status = "WouldCreate";
                change.Detail = action;
                return change;
            }
            if (approve != null && !await approve(registry.RegistryId, action, ct).ConfigureAwait(false))
            {
                change.Status = "Declined";
                change.Detail = action;
                return change;
            }
            var (id, detail) = await _assigner.AssignAsync(registry, principal.PrincipalId, role, timeout, firstDelay, ct, principal.IsManagedIdentity).ConfigureAwait(false);
            change.AssignmentId = id;
            change.Status = detail.StartsWith("created", StringComparison.Ordinal) ? "Created" : "AlreadyGranted";
            change.Detail = detail;
            return change;
        }

        /// <summary>
        /// One change per assignment removed (or that would be). Assignments inherited from a resource group,
        /// subscription or management group, or reaching the principal through a group, cannot be removed here:
        /// each comes back as an EngineException in <paramref name="refused"/> naming the scope where it lives.
        /// </summary>
        public async Task<IReadOnlyList<AccessChange>> RevokeAsync(AccessRequest request, List<EngineException> refused, CancellationToken ct)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            if (refused == null) throw new ArgumentNullException(nameof(refused));
            RegistryInfo registry = await _registries.ResolveAsync(request.Registry, ct).ConfigureAwait(false);
            ResolvedPrincipal principal = await _principals.ResolveAsync(request.Principal, ct).ConfigureAwait(false);

            IReadOnlyList<Grant> grants = await _evaluator.GrantsForAsync(registry, principal.PrincipalId, ct).ConfigureAwait(false);
            var pull = grants.Where(g => g.GrantsPullSomehow).ToList();
            if (!string.IsNullOrWhiteSpace(request.AssignmentId))
            {
                string wanted = request.AssignmentId!.Trim();
                pull = pull.Where(g => Json.SameId(g.Id, wanted)).ToList();
            }

            var changes = new List<AccessChange>();
            foreach (Grant g in pull)
            {
                var change = new AccessChange
                {
                    Registry = registry.Name, RegistryId = registry.RegistryId, PrincipalId = principal.PrincipalId, PrincipalSource = principal.Source,
                    Role = g.RoleName, Scope = g.Scope, AssignmentId = g.Id,
                };
                if (g.ViaGroup != null)
                {
                    refused.Add(new EngineException("AssignedThroughGroup", EngineErrorCategory.InvalidOperation,
                        $"{principal.PrincipalId} can pull from {registry.Name} through group {g.ViaGroup}, which holds {g.RoleName} at {g.Scope}; that assignment belongs to the group, not to the principal.",
                        $"Remove {principal.PrincipalId} from group {g.ViaGroup}, or remove the group's assignment at its own scope: Remove-AzRoleAssignment -ObjectId {g.ViaGroup} -RoleDefinitionName '{g.RoleName}' -Scope '{g.Scope}'.",
                        g.Id));
                    continue;
                }
                if (!Json.SameId(g.Scope, registry.RegistryId))
                {
                    string level = RoleJudge.ScopeLevel(g.Scope, registry.RegistryId);
                    refused.Add(new EngineException("InheritedAssignment", EngineErrorCategory.InvalidOperation,
                        $"{g.RoleName} for {principal.PrincipalId} is inherited from the {Words(level)} {g.Scope}, not assigned on {registry.Name}; it can only be removed at {g.Scope}, and removing it there takes that role away on everything under that scope.",
                        $"Remove it at its own scope: Remove-AzRoleAssignment -ObjectId {principal.PrincipalId} -RoleDefinitionName '{g.RoleName}' -Scope '{g.Scope}' (or az role assignment delete --ids '{g.Id}'), and grant pull on just this registry with Grant-AcrPullAccess if it still needs it.",
                        g.Scope));
                    continue;
                }
                string action = $"Remove {g.RoleName} of {principal.PrincipalId} on {registry.Name}";
                if (request.PlanOnly)
                {
                    change.Status = "WouldRemove";
                    change.Detail = action;
                }
                else if (request.Approve != null && !await request.Approve(g.Id, action, ct).ConfigureAwait(false))
                {
                    change.Status = "Declined";
                    change.Detail = action;
                }
                else
                {
                    await _arm.DeleteAsync(g.Id, ct).ConfigureAwait(false);
                    change.Status = "Removed";
                    change.Detail = "deleted";
                    _host.WriteVerbose($"Removed {g.RoleName} of {principal.PrincipalId} on {registry.Name} ({g.Id}).");
                }
                changes.Add(change);
            }
            if (changes.Count == 0 && refused.Count == 0)
            {
                changes.Add(new AccessChange
                {
                    Registry = registry.Name, RegistryId = registry.RegistryId, PrincipalId = principal.PrincipalId, PrincipalSource = principal.Source,
                    Scope = registry.RegistryId, AssignmentId = request.AssignmentId, Status = "AlreadyAbsent",
                    Detail = string.IsNullOrWhiteSpace(request.AssignmentId) ? "no role at the registry or above grants this principal pull" : "the assignment no longer exists",
                });
            }
            return changes;
        }

        private static string Words(string level) => level switch
        {
            "ResourceGroup" => "resource group",
            "Subscription" => "subscription",
            "ManagementGroup" => "management group",
            "Root" => "tenant root",
            _ => "scope",
        };

        public async Task<NewIdentityOutcome> NewIdentityAsync(NewIdentityRequest request, CancellationToken ct)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            string name = request.Name?.Trim() ?? string.Empty;
            if (!IdentityName.IsMatch(name))
            {
                throw new EngineException("InvalidIdentityName", EngineErrorCategory.InvalidArgument,
                    $"'{request.Name}' is not a valid user-assigned identity name.", "Use 3–128 letters, digits, '-' or '_', starting with a letter or digit.", request.Name);
            }
            if (string.IsNullOrWhiteSpace(request.ResourceGroupName))
            {
                throw new EngineException("ResourceGroupRequired", EngineErrorCategory.InvalidArgument, "No resource group was given for the identity.", "Pass -ResourceGroupName.");
            }
            string subscription = string.IsNullOrWhiteSpace(request.SubscriptionId) ? _subscriptionId : request.SubscriptionId!.Trim();
            RegistryInfo registry = await _registries.ResolveAsync(request.Registry, ct).ConfigureAwait(false);
            PullRole role = PullRoles.Choose(registry, request.Repository);
            string group = $"/subscriptions/{subscription}/resourceGroups/{request.ResourceGroupName!.Trim()}";
            string id = $"{group}/providers/{IdentityResolver.IdentityType}/{name}";
            var outcome = new NewIdentityOutcome { Id = id, Name = name, ResourceGroupName = request.ResourceGroupName!.Trim() };

            ArmResponse? existing = await _arm.TryGetAsync(id, ct).ConfigureAwait(false);
            JsonObject? identity = existing?.Object;
            if (identity == null)
            {
                string? location = request.Location;
                if (string.IsNullOrWhiteSpace(location))
                {
                    ArmResponse? rg = await _arm.TryGetAsync(group, ct, ApiVersions.Resources).ConfigureAwait(false);
                    location = Json.Str(rg?.Object, "location") ?? throw new EngineException("ResourceGroupNotFound", EngineErrorCategory.ObjectNotFound,
                        $"The resource group '{group}' was not found.", "Create it first (New-AzResourceGroup), or pass an existing one.", group);
                }
                outcome.Location = location;
                string action = $"Create user-assigned identity {name} in {outcome.ResourceGroupName} ({location}) and grant it {role.Name} on {registry.Name}";
                if (request.PlanOnly)
                {
                    outcome.IdentityStatus = "WouldCreate";
                    outcome.Grant = new AccessChange { Registry = registry.Name, RegistryId = registry.RegistryId, Role = role.Name, Scope = registry.RegistryId, Status = "WouldCreate", Detail = action };
                    return outcome;
                }
                if (request.Approve != null && !await request.Approve(id, action, ct).ConfigureAwait(false))
                {
                    outcome.IdentityStatus = "Declined";
                    return outcome;
                }
                ArmResponse created = await _arm.PutAsync(id, new JsonObject { ["location"] = location }, ct).ConfigureAwait(false);
                identity = created.Object ?? (await _arm.GetAsync(id, ct).ConfigureAwait(false)).Object;
                outcome.IdentityStatus = "Created";
            }
            else
            {
                outcome.IdentityStatus = "AlreadyExisted";
                _host.WriteVerbose($"The identity {id} exists; granting it pull.");
            }
            outcome.Id = Json.Str(identity, "id") ?? id;
            outcome.Location = Json.Str(identity, "location") ?? outcome.Location;
            outcome.ClientId = Json.Str(identity, "properties", "clientId");
            outcome.PrincipalId = Json.Str(identity, "properties", "principalId");
            if (string.IsNullOrEmpty(outcome.PrincipalId))
            {
                throw new EngineException("IdentityWithoutPrincipal", EngineErrorCategory.InvalidData, $"The identity {outcome.Id} came back without a principal ID.",
                    "Run the command again once the identity is provisioned.", outcome.Id);
            }
            // The new principal is not replicated yet: the assigner's principalType + PrincipalNotFound retries cover that.
            outcome.Grant = await GrantToAsync(registry, role, new ResolvedPrincipal(outcome.PrincipalId!, $"user-assigned identity {outcome.Id}"), false, request.PlanOnly,
                outcome.IdentityStatus == "Created" ? null : request.Approve, request.PropagationTimeout, request.PropagationRetryDelay, ct).ConfigureAwait(false);
            return outcome;
        }
    }
}
