using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.World;

/// <summary>Read models for the token and registry side.</summary>
public sealed partial class World
{
    static readonly HashSet<string> IdentityTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ResourceTypes.Site, ResourceTypes.Slot, ResourceTypes.ContainerGroup, ResourceTypes.VirtualMachine, ResourceTypes.ScaleSet,
        ResourceTypes.ManagedCluster, ResourceTypes.ContainerApp, ResourceTypes.Registry,
    };

    /// <summary>The resource's identities now; null when the resource does not exist.</summary>
    public ResourceIdentityInfo? GetIdentities(string resourceId)
    {
        lock (Gate)
        {
            var e = Entry(resourceId);
            if (e is null) return null;
            var identity = e.Body["identity"] as JsonObject;
            Principal? sys = null;
            if (identity?["principalId"]?.GetValue<string>() is { } pid && _principals.TryGetValue(pid, out var p) && !p.IsDeleted) sys = p;
            var users = new List<(string, Principal)>();
            if (identity?["userAssignedIdentities"] is JsonObject map)
                foreach (var (key, _) in map)
                {
                    var uami = Entry(key);
                    var upid = uami?.Body["properties"]?["principalId"]?.GetValue<string>();
                    if (upid is not null && _principals.TryGetValue(upid, out var up) && !up.IsDeleted) users.Add((uami!.Id, up));
                }
            return new ResourceIdentityInfo(e.Id, sys, users);
        }
    }

    /// <summary>Every resource that can carry a managed identity (whether or not it has one): ID and type.</summary>
    public IReadOnlyList<(string ResourceId, string Type)> IdentityCapableResources()
    {
        lock (Gate) return Resources.Values.Where(e => IdentityTypes.Contains(e.Type)).Select(e => (e.Id, e.Type)).ToList();
    }

    public IReadOnlyList<RegistryInfo> Registries()
    {
        lock (Gate) return Resources.Values.Where(e => e.Type == ResourceTypes.Registry).Select(ToRegistryInfo).ToList();
    }

    /// <summary>A registry by name, login server (host or host:port) or resource ID.</summary>
    public RegistryInfo? FindRegistry(string nameLoginServerOrId)
    {
        lock (Gate)
        {
            var e = Entry(nameLoginServerOrId) is { Type: ResourceTypes.Registry } byId ? byId
                : Resources.Values.FirstOrDefault(r => r.Type == ResourceTypes.Registry
                    && (r.Name.Equals(nameLoginServerOrId, StringComparison.OrdinalIgnoreCase)
                        || string.Equals(r.Body["properties"]?["loginServer"]?.GetValue<string>(), nameLoginServerOrId, StringComparison.OrdinalIgnoreCase)));
            return e is null ? null : ToRegistryInfo(e);
        }
    }

    /// <summary>Gives a registry its login server and rewrites every reference to the old one (image names,
    /// registry credentials, linuxFxVersion) so scenario resources point at the live front end.</summary>
    public void SetLoginServer(string registryId, string loginServer)
    {
        lock (Gate)
        {
            var e = Entry(registryId) ?? throw new InvalidOperationException($"No registry {registryId}.");
            var props = (JsonObject)e.Body["properties"]!;
            var old = props["loginServer"]?.GetValue<string>();
            props["loginServer"] = loginServer;
            if (old is not null && !old.Equals(loginServer, StringComparison.OrdinalIgnoreCase))
                foreach (var r in Resources.Values)
                {
                    if (r == e) continue;
                    ReplaceStrings(r.Body, old, loginServer);
                    if (r.SiteConfig is not null) ReplaceStrings(r.SiteConfig, old, loginServer);
                }
        }
        RaiseChanged();
    }

    static void ReplaceStrings(JsonNode node, string from, string to)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                    if (v is JsonValue jv && jv.TryGetValue<string>(out var s) && s.Contains(from, StringComparison.OrdinalIgnoreCase))
                        o[k] = s.Replace(from, to, StringComparison.OrdinalIgnoreCase);
                    else if (v is not null) ReplaceStrings(v, from, to);
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                    if (a[i] is JsonValue jv && jv.TryGetValue<string>(out var s) && s.Contains(from, StringComparison.OrdinalIgnoreCase))
                        a[i] = s.Replace(from, to, StringComparison.OrdinalIgnoreCase);
                    else if (a[i] is { } child) ReplaceStrings(child, from, to);
                break;
        }
    }

    RegistryInfo ToRegistryInfo(ResourceEntry e)
    {
        var p = e.Body["properties"] as JsonObject ?? new JsonObject();
        string S(JsonNode? n, string d) => n?.GetValue<string>() ?? d;
        var rules = p["networkRuleSet"] as JsonObject;
        var ips = (rules?["ipRules"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Where(r => S(r["action"], "Allow").Equals("Allow", StringComparison.OrdinalIgnoreCase))
            .Select(r => S(r["value"], "")).Where(v => v.Length > 0).ToList();
        return new RegistryInfo(
            e.Id, e.Name, S(p["loginServer"], e.Name.ToLowerInvariant() + ".azurecr.io"),
            PublicNetworkAccess: S(p["publicNetworkAccess"], "Enabled").Equals("Enabled", StringComparison.OrdinalIgnoreCase),
            DefaultAction: S(rules?["defaultAction"], "Allow"),
            AllowedIpRanges: ips,
            TrustedServicesBypass: S(p["networkRuleBypassOptions"], "AzureServices").Equals("AzureServices", StringComparison.OrdinalIgnoreCase),
            AbacMode: S(p["roleAssignmentMode"], "").Equals("AbacRepositoryPermissions", StringComparison.OrdinalIgnoreCase),
            ArmAudienceTokensAllowed: !S(p["policies"]?["azureADAuthenticationAsArmPolicy"]?["status"], "enabled").Equals("disabled", StringComparison.OrdinalIgnoreCase),
            AnonymousPullEnabled: p["anonymousPullEnabled"]?.GetValue<bool>() ?? false,
            AdminUserEnabled: p["adminUserEnabled"]?.GetValue<bool>() ?? false,
            Images: e.Images.ToList(),
            Resource: ResourceOps.Render(this, e));
    }
}
