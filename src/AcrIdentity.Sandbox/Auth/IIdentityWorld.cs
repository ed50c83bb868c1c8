namespace AcrIdentity.Sandbox.Auth;

/// <summary>
/// What the token and registry side reads from the world. Kept narrow so it can be implemented over the
/// world/ARM model by an adapter (Auth/WorldIdentityAdapter.cs) and by a small fake in unit tests.
/// Every call answers from the current state: identities and role assignments are read per request.
/// </summary>
public interface IIdentityWorld
{
    string TenantId { get; }
    IReadOnlyList<string> SubscriptionIds { get; }

    /// <summary>The service principal the sandbox hands out in endpoints.json (Owner of every subscription).</summary>
    DirectoryPrincipal Operator { get; }
    string OperatorClientSecret { get; }

    /// <summary>A principal by object ID or by client (app) ID; null when not in the directory.</summary>
    DirectoryPrincipal? FindPrincipal(string objectOrClientId);

    /// <summary>True when <paramref name="secret"/> is a current secret of the app <paramref name="clientId"/>.</summary>
    bool CheckClientSecret(string clientId, string secret);

    /// <summary>The resource's identities now; null when the resource does not exist.</summary>
    ResourceIdentities? GetIdentities(string resourceId);

    /// <summary>Every resource whose type can carry a managed identity (whether or not it has one).</summary>
    IReadOnlyList<IdentityCapableResource> IdentityCapableResources();

    IReadOnlyList<RegistryView> Registries();

    /// <summary>
    /// Role assignments that apply at <paramref name="scope"/> to the principal: direct, through groups, and
    /// inherited from parent scopes, each with its role definition's permissions.
    /// </summary>
    IReadOnlyList<EffectiveAssignment> AssignmentsAt(string principalObjectId, string scope);

    /// <summary>Raised after any change to resources (new identities, new registries, property changes).</summary>
    event Action? Changed;
}

public enum PrincipalKind { ServicePrincipal, ManagedIdentity, User, Group }

public sealed record DirectoryPrincipal(string ObjectId, string ClientId, PrincipalKind Kind, string DisplayName,
    string? ManagedIdentityResourceId = null);

/// <summary>The system identity (if any) and the attached user-assigned identities of one resource.</summary>
public sealed record ResourceIdentities(string ResourceId, DirectoryPrincipal? SystemAssigned,
    IReadOnlyList<UserAssignedIdentity> UserAssigned);

public sealed record UserAssignedIdentity(string ResourceId, DirectoryPrincipal Principal);

/// <summary>Resource type lowercased, e.g. microsoft.compute/virtualmachines.</summary>
public sealed record IdentityCapableResource(string ResourceId, string Type);

public sealed record RegistryView(
    string Id,
    string Name,
    string LoginServer,
    bool PublicNetworkAccess,
    string DefaultAction,                         // networkRuleSet.defaultAction: Allow | Deny
    IReadOnlyList<string> AllowedIpRanges,        // networkRuleSet.ipRules[].value with action Allow
    bool TrustedServicesBypass,                   // networkRuleBypassOptions == AzureServices
    bool AbacMode,                                // roleAssignmentMode == AbacRepositoryPermissions
    bool ArmAudienceTokensAllowed,                // policies.azureADAuthenticationAsArmPolicy.status != disabled
    bool AnonymousPullEnabled,
    IReadOnlyList<string> Images);                // scenario images "repo:tag" to push at start

public sealed record RolePermission(IReadOnlyList<string> Actions, IReadOnlyList<string> NotActions,
    IReadOnlyList<string> DataActions, IReadOnlyList<string> NotDataActions);

public sealed record EffectiveAssignment(string RoleDefinitionId, string RoleName, string Scope,
    IReadOnlyList<RolePermission> Permissions, string? Condition);
