namespace AcrIdentity.Sandbox.World;

/// <summary>A directory object. Mutable fields are changed only under the world's lock.</summary>
public sealed class Principal
{
    public required string ObjectId { get; init; }
    /// <summary>appId / clientId; null for users and groups.</summary>
    public string? AppId { get; init; }
    public required string DisplayName { get; init; }
    /// <summary>ARM principalType: ServicePrincipal, User or Group.</summary>
    public required string PrincipalType { get; init; }
    /// <summary>ManagedIdentity or Application for service principals.</summary>
    public string? ServicePrincipalType { get; init; }
    /// <summary>For managed identities: the resource (system-assigned) or the identity resource (user-assigned).</summary>
    public string? ManagedIdentityResourceId { get; init; }
    public bool IsUserAssigned { get; init; }
    public string? ClientSecret { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeletedAt { get; internal set; }
    internal HashSet<string> MembersSet { get; } = new(StringComparer.OrdinalIgnoreCase);
    public IReadOnlyCollection<string> Members => MembersSet;

    public bool IsDeleted => DeletedAt is not null;
    public bool IsManagedIdentity => ServicePrincipalType == "ManagedIdentity";
}
