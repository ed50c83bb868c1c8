using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.World;
using WorldModel = AcrIdentity.Sandbox.World.World;

namespace AcrIdentity.Sandbox.Auth;

/// <summary>
/// Reads the world for the token and registry side. Works from resources as ARM renders them, so it
/// follows whatever ARM wrote (identity blocks, registry properties) without reaching into ARM's code.
/// </summary>
public sealed class WorldIdentityAdapter : IIdentityWorld
{
    readonly WorldModel _w;

    public WorldIdentityAdapter(WorldModel world)
    {
        _w = world;
        _w.Changed += () => Changed?.Invoke();
    }

    public event Action? Changed;

    public string TenantId => _w.TenantId;
    public IReadOnlyList<string> SubscriptionIds => _w.Subscriptions.Select(s => s.SubscriptionId).ToList();
    public DirectoryPrincipal Operator => Map(_w.Operator);
    public string OperatorClientSecret => _w.Operator.ClientSecret ?? "";

    public DirectoryPrincipal? FindPrincipal(string objectOrClientId) =>
        _w.FindPrincipal(objectOrClientId) is { } p ? Map(p) : null;

    public bool CheckClientSecret(string clientId, string secret) => _w.CheckClientSecret(clientId, secret);

    static DirectoryPrincipal Map(Principal p) => new(
        p.ObjectId, p.AppId ?? "",
        p.PrincipalType switch
        {
            "User" => PrincipalKind.User,
            "Group" => PrincipalKind.Group,
            _ => p.IsManagedIdentity ? PrincipalKind.ManagedIdentity : PrincipalKind.ServicePrincipal,
        },
        p.DisplayName, p.ManagedIdentityResourceId);

    public ResourceIdentities? GetIdentities(string resourceId)
    {
        var res = _w.GetResource(resourceId);
        if (res is null) return null;
        var id = (string?)res["id"] ?? resourceId;
        var type = (string?)res["type"] ?? "";
        // AKS nodes reach IMDS with the kubelet identity (a user-assigned identity on the node pool), not the
        // cluster's control-plane identity.
        if (type.Equals(ResourceTypes.ManagedCluster, StringComparison.OrdinalIgnoreCase))
        {
            var k = res["properties"]?["identityProfile"]?["kubeletidentity"];
            var kubelet = new List<UserAssignedIdentity>();
            if (k?["objectId"] is JsonValue oid && _w.FindPrincipal((string)oid!) is { } kp)
                kubelet.Add(new UserAssignedIdentity((string?)k["resourceId"] ?? kp.ManagedIdentityResourceId ?? "", Map(kp)));
            return new ResourceIdentities(id, null, kubelet);
        }
        var identity = res["identity"] as JsonObject;
        var identityType = (string?)identity?["type"] ?? "None";
        DirectoryPrincipal? system = null;
        if (identityType.Contains("SystemAssigned", StringComparison.OrdinalIgnoreCase)
            && identity?["principalId"] is JsonValue pid && _w.FindPrincipal((string)pid!) is { } sp)
            system = Map(sp);
        var users = new List<UserAssignedIdentity>();
        if (identityType.Contains("UserAssigned", StringComparison.OrdinalIgnoreCase) && identity?["userAssignedIdentities"] is JsonObject uais)
        {
            foreach (var (uaId, v) in uais)
            {
                var upid = (string?)v?["principalId"] ?? (string?)_w.GetResource(uaId)?["properties"]?["principalId"];
                if (upid is not null && _w.FindPrincipal(upid) is { } up) users.Add(new UserAssignedIdentity(uaId, Map(up)));
            }
        }
        return new ResourceIdentities(id, system, users);
    }

    // From the stored entries, not rendered resources: this runs on every world change, and worlds for audits
    // hold thousands of resources.
    public IReadOnlyList<IdentityCapableResource> IdentityCapableResources() =>
        _w.EntriesSnapshot()
            .Where(e => ResourceTypes.Find(e.Type) is { CarriesIdentity: true }
                        && !e.Type.Equals(ResourceTypes.ManagedEnvironment, StringComparison.OrdinalIgnoreCase))
            .Select(e => new IdentityCapableResource(e.Id, e.Type.ToLowerInvariant()))
            .ToList();

    public IReadOnlyList<RegistryView> Registries()
    {
        var images = _w.EntriesSnapshot()
            .Where(e => e.Type.Equals(ResourceTypes.Registry, StringComparison.OrdinalIgnoreCase))
            .ToDictionary(e => e.Id, e => (IReadOnlyList<string>)e.Images.ToList(), StringComparer.OrdinalIgnoreCase);
        var list = new List<RegistryView>();
        foreach (var r in _w.ListResources(ResourceTypes.Registry))
        {
            var id = (string?)r["id"];
            if (id is null) continue;
            var p = r["properties"] as JsonObject ?? new JsonObject();
            var rules = p["networkRuleSet"] as JsonObject;
            var ipRules = (rules?["ipRules"] as JsonArray ?? [])
                .Where(x => !string.Equals((string?)x?["action"], "Deny", StringComparison.OrdinalIgnoreCase))
                .Select(x => (string?)x?["value"] ?? (string?)x?["ipAddressOrRange"])
                .Where(v => v is not null).Select(v => v!).ToList();
            list.Add(new RegistryView(
                id, (string?)r["name"] ?? "", (string?)p["loginServer"] ?? "",
                !string.Equals((string?)p["publicNetworkAccess"], "Disabled", StringComparison.OrdinalIgnoreCase),
                (string?)rules?["defaultAction"] ?? "Allow",
                ipRules,
                !string.Equals((string?)p["networkRuleBypassOptions"], "None", StringComparison.OrdinalIgnoreCase),
                string.Equals((string?)p["roleAssignmentMode"], "AbacRepositoryPermissions", StringComparison.OrdinalIgnoreCase),
                !string.Equals((string?)p["policies"]?["azureADAuthenticationAsArmPolicy"]?["status"], "disabled", StringComparison.OrdinalIgnoreCase),
                p["anonymousPullEnabled"] is JsonValue anon && anon.TryGetValue(out bool a) && a,
                images.GetValueOrDefault(id) ?? []));
        }
        return list;
    }

    public IReadOnlyList<EffectiveAssignment> AssignmentsAt(string principalObjectId, string scope) =>
        _w.AssignmentsAt(principalObjectId, scope)
            .Select(e => new EffectiveAssignment(e.Definition.Name, e.Definition.RoleName, e.Assignment.Scope,
                e.Definition.Permissions.Select(p => new RolePermission(p.Actions, p.NotActions, p.DataActions, p.NotDataActions)).ToList(),
                string.IsNullOrWhiteSpace(e.Assignment.Condition) ? null : e.Assignment.Condition))
            .ToList();
}
