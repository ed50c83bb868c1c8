using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.World;

/// <summary>Who made a request, from the bearer token's oid/appid/tid claims.</summary>
public sealed record CallerIdentity(string ObjectId, string? AppId, string TenantId);

/// <summary>Either a caller or the 401 to send (ARM codes: AuthenticationFailed, InvalidAuthenticationToken,
/// ExpiredAuthenticationToken, InvalidAuthenticationTokenAudience).</summary>
public sealed record CallerResolution(CallerIdentity? Caller, string? ErrorCode = null, string? ErrorMessage = null)
{
    public static CallerResolution Fail(string code, string message) => new(null, code, message);
}

/// <summary>
/// Turns the request's Authorization header into a caller. Implemented by the auth area (signature,
/// issuer, audience and lifetime checks) and set on <see cref="SandboxContext.CallerResolver"/>.
/// </summary>
public interface ICallerResolver
{
    CallerResolution Resolve(HttpContext http);
}

/// <summary>Implemented by the registry area: gives each registry a loopback login server (host:port).</summary>
public interface IRegistryFrontEnd
{
    /// <summary>Called when a registry is created (PUT or scenario); returns its loginServer.</summary>
    string AssignLoginServer(string registryId, string registryName);

    /// <summary>Called after the registry resource was deleted.</summary>
    void RegistryRemoved(string registryId) { }

    /// <summary>Completes when the registry answers (its process is up); ARM keeps the create LRO
    /// InProgress and the registry "Creating" until then, and Failed if it faults.</summary>
    Task WaitReadyAsync(string registryId) => Task.CompletedTask;
}

/// <summary>A registry as the token and registry side needs it (a snapshot).</summary>
public sealed record RegistryInfo(
    string Id,
    string Name,
    string LoginServer,
    bool PublicNetworkAccess,
    string DefaultAction,
    IReadOnlyList<string> AllowedIpRanges,
    bool TrustedServicesBypass,
    bool AbacMode,
    bool ArmAudienceTokensAllowed,
    bool AnonymousPullEnabled,
    bool AdminUserEnabled,
    IReadOnlyList<string> Images,
    JsonObject Resource);

/// <summary>A resource's identities now: the system one (if any) and the attached user-assigned ones.</summary>
public sealed record ResourceIdentityInfo(string ResourceId, Principal? SystemAssigned,
    IReadOnlyList<(string IdentityResourceId, Principal Principal)> UserAssigned);

/// <summary>One role assignment that applies to a principal at a scope, with its role definition.</summary>
public sealed record EffectiveRoleAssignment(RoleAssignment Assignment, RoleDefinition Definition, bool ViaGroup);
