using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.World;

/// <summary>
/// Managed identity semantics of PUT/PATCH: the "type" decides the system identity (created with a fresh
/// principal, or deleted with it); userAssignedIdentities replace (PUT) or merge (PATCH, null removes).
/// </summary>
static class IdentityOps
{
    const string Sys = "SystemAssigned", User = "UserAssigned";

    public static WorldError? Apply(World w, ResourceEntry entry, JsonObject? current, JsonNode? requested, bool hasRequest, bool patch,
        JsonObject target, WriteContext c)
    {
        if (!hasRequest)
        {
            if (current is not null) target["identity"] = current.DeepClone();
            return null;
        }
        var req = requested as JsonObject;
        var currentType = current?["type"]?.GetValue<string>() ?? "None";
        string typeText = req?["type"]?.GetValue<string>() ?? (req is null ? "None" : currentType);
        var parts = typeText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var part in parts)
            if (!part.Equals(Sys, StringComparison.OrdinalIgnoreCase) && !part.Equals(User, StringComparison.OrdinalIgnoreCase)
                && !part.Equals("None", StringComparison.OrdinalIgnoreCase))
                return new WorldError(400, "InvalidIdentityType", $"The identity type '{typeText}' is not valid. Valid values are 'None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned'.");
        bool wantSystem = parts.Any(p => p.Equals(Sys, StringComparison.OrdinalIgnoreCase));
        bool wantUser = parts.Any(p => p.Equals(User, StringComparison.OrdinalIgnoreCase));

        // User-assigned set: start from the current set when merging (or when PUT names no list).
        var currentUsers = current?["userAssignedIdentities"] as JsonObject;
        var requestedUsers = req?["userAssignedIdentities"] as JsonObject;
        var set = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase); // normalized → key as stored
        if (currentUsers is not null && (patch || requestedUsers is null))
            foreach (var (k, _) in currentUsers) set[ResourceIds.Normalize(k)] = k;
        if (requestedUsers is not null)
            foreach (var (k, v) in requestedUsers)
            {
                if (v is null) set.Remove(ResourceIds.Normalize(k));
                else if (!set.ContainsKey(ResourceIds.Normalize(k))) set[ResourceIds.Normalize(k)] = k;
            }
        if (!wantUser) set.Clear();
        if (wantUser && set.Count == 0)
            return new WorldError(400, "BadRequest", "The identity type 'UserAssigned' requires at least one user assigned identity in 'userAssignedIdentities'.");

        var added = new List<string>();
        var users = new JsonObject();
        foreach (var (norm, key) in set)
        {
            var uami = w.Entry(norm);
            if (uami is null || uami.Type != ResourceTypes.UserAssignedIdentity)
            {
                if (currentUsers?.ContainsKey(key) == true) { users[key] = currentUsers[key]?.DeepClone(); continue; }
                return new WorldError(400, "InvalidUserAssignedIdentity",
                    $"The user assigned identity '{key}' was not found. Please make sure it exists and is in the same tenant.");
            }
            if (currentUsers is null || !currentUsers.Any(kv => ResourceIds.Same(kv.Key, key))) added.Add(uami.Id);
            var up = (JsonObject)uami.Body["properties"]!;
            users[key] = new JsonObject { ["principalId"] = up["principalId"]?.DeepClone(), ["clientId"] = up["clientId"]?.DeepClone() };
        }
        if (added.Count > 0 && c.CheckLinkedIdentities?.Invoke(added) is { } linkErr) return linkErr;

        // System identity: keep a live one, else create; drop it (and its principal) when no longer wanted.
        var currentPid = current?["principalId"]?.GetValue<string>();
        var currentSystem = currentType.Contains(Sys, StringComparison.OrdinalIgnoreCase) && currentPid is not null ? w.PrincipalLocked(currentPid) : null;
        string? pid = null;
        if (wantSystem)
        {
            if (currentSystem is not null && !currentSystem.IsDeleted) pid = currentSystem.ObjectId;
            else
            {
                var display = entry.Type == ResourceTypes.Slot
                    ? $"{ResourceIds.NameOf(ResourceIds.ParentOf(entry.Id)!)}/slots/{entry.Name}" : entry.Name;
                pid = w.CreateManagedIdentityPrincipalLocked(display, entry.Id, userAssigned: false).ObjectId;
            }
        }
        else if (currentSystem is not null && !currentSystem.IsDeleted) currentSystem.DeletedAt = w.Now;

        string canonical = (wantSystem, wantUser) switch
        {
            (true, true) => "SystemAssigned, UserAssigned",
            (true, false) => Sys,
            (false, true) => User,
            _ => "None",
        };
        if (canonical == "None")
        {
            // App Service shows {"type":"None"}; the other providers drop the property.
            if (entry.Type is ResourceTypes.Site or ResourceTypes.Slot) target["identity"] = new JsonObject { ["type"] = "None" };
            else target.Remove("identity");
            return null;
        }
        var identity = new JsonObject { ["type"] = canonical };
        if (pid is not null) { identity["principalId"] = pid; identity["tenantId"] = w.TenantId; }
        if (wantUser) identity["userAssignedIdentities"] = users;
        target["identity"] = identity;
        return null;
    }
}
