using System.Text.Json;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Behaviour;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Scenario;

/// <summary>Applies a scenario JSON (docs/sandbox-scenarios.md) to a world and its behaviours.</summary>
public sealed class ScenarioLoader(World.World world, Behaviours behaviours)
{
    public void Apply(string json, string source)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                ?? throw new ScenarioException($"{source}: the scenario must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new ScenarioException($"{source}: {e.Message}");
        }
        try
        {
            ApplyRoot(root);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new ScenarioException($"{source}: {e.Message}");
        }
    }

    static string? Str(JsonNode? n) => n?.GetValue<string>();

    void ApplyRoot(JsonObject root)
    {
        if (root["tenant"] is JsonObject t)
            world.SetTenant(Str(t["id"]) ?? world.TenantId, Str(t["displayName"]), Str(t["defaultDomain"]));
        if (Str(root["defaultLocation"]) is { } loc) world.DefaultLocation = loc;
        foreach (var mg in (root["managementGroups"] as JsonArray ?? []).OfType<JsonObject>())
            world.AddManagementGroup(Str(mg["name"])!, Str(mg["displayName"]), Str(mg["parent"]));

        // Principals first, so assignments and group members can name them.
        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (root["operator"] is JsonObject op)
            names["operator"] = world.EnsureOperator(Str(op["objectId"]), Str(op["clientId"]), Str(op["clientSecret"])).ObjectId;
        foreach (var p in (root["principals"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var kind = Str(p["kind"]) ?? "servicePrincipal";
            var name = Str(p["name"]) ?? throw new InvalidOperationException("principals[].name is required.");
            var created = p["createdSecondsAgo"] is { } ago ? world.Now.AddSeconds(-ago.GetValue<double>()) : DateTimeOffset.UnixEpoch;
            Principal added = kind.ToLowerInvariant() switch
            {
                "user" => world.AddUser(name, Str(p["objectId"]), created),
                "group" => world.AddGroup(name, null, Str(p["objectId"]), created),
                _ => world.AddServicePrincipal(name, Str(p["clientId"]), Str(p["objectId"]), Str(p["clientSecret"]), created),
            };
            names[name] = added.ObjectId;
        }
        foreach (var p in (root["principals"] as JsonArray ?? []).OfType<JsonObject>())
            foreach (var m in (p["members"] as JsonArray ?? []))
                world.AddGroupMember(names[Str(p["name"])!], Resolve(names, Str(m)!));

        var subs = root["subscriptions"] as JsonArray ?? [];
        foreach (var s in subs.OfType<JsonObject>())
            world.AddSubscription(Str(s["id"]), Str(s["displayName"]) ?? "Sandbox Subscription", Str(s["managementGroup"]), Str(s["tenantId"]));
        world.EnsureDefaults();
        var defaultSub = world.Subscriptions[0].SubscriptionId;

        foreach (var r in (root["customRoles"] as JsonArray ?? []).OfType<JsonObject>())
        {
            static List<string> L(JsonNode? n) => (n as JsonArray)?.Select(x => x!.GetValue<string>()).ToList() ?? [];
            world.PutRoleDefinition(new RoleDefinition
            {
                Name = Str(r["id"]) ?? Guid.NewGuid().ToString(), RoleName = Str(r["roleName"])!, RoleType = "CustomRole",
                Description = Str(r["description"]) ?? "",
                AssignableScopes = L(r["assignableScopes"]) is { Count: > 0 } a ? a : ["/subscriptions/" + defaultSub],
                Permissions = [new Permission(L(r["actions"]), L(r["notActions"]), L(r["dataActions"]), L(r["notDataActions"]))],
                CreatedOn = world.Now, UpdatedOn = world.Now,
            });
        }

        foreach (var s in subs.OfType<JsonObject>())
        {
            var subId = world.FindSubscription(Str(s["id"]) ?? "")?.SubscriptionId ?? world.Subscriptions.Last().SubscriptionId;
            ApplyGroups(subId, s["resourceGroups"] as JsonArray);
        }
        if (root["resourceGroups"] is JsonArray topGroups) ApplyGroups(defaultSub, topGroups);

        foreach (var a in (root["roleAssignments"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var scope = ExpandScope(Str(a["scope"]) ?? "/subscriptions/" + defaultSub, defaultSub);
            var principal = Resolve(names, Str(a["principal"]) ?? throw new InvalidOperationException("roleAssignments[].principal is required."));
            world.AddRoleAssignment(scope, Str(a["role"])!, principal, Str(a["principalType"]), Str(a["name"]), Str(a["condition"]));
        }

        if (root["behaviours"] is JsonObject b) ApplyBehaviours(b);
    }

    string Resolve(Dictionary<string, string> names, string nameOrId)
    {
        if (names.TryGetValue(nameOrId, out var id)) return id;
        if (ResourceIds.IsGuid(nameOrId)) return nameOrId;
        // A resource ID or name of something carrying an identity: its system identity or the UAMI's principal.
        var res = nameOrId.StartsWith('/') ? world.GetResource(nameOrId)
            : world.ListResources().FirstOrDefault(r => Str(r["name"])!.Equals(nameOrId, StringComparison.OrdinalIgnoreCase));
        var pid = Str(res?["identity"]?["principalId"]) ?? Str(res?["properties"]?["principalId"])
            ?? Str(res?["properties"]?["identityProfile"]?["kubeletidentity"]?["objectId"]);
        return pid ?? throw new InvalidOperationException($"Unknown principal '{nameOrId}'.");
    }

    static string ExpandScope(string scope, string defaultSub) => scope.Replace("{subscriptionId}", defaultSub, StringComparison.OrdinalIgnoreCase);

    void ApplyGroups(string subId, JsonArray? groups)
    {
        foreach (var g in (groups ?? []).OfType<JsonObject>())
        {
            var rgName = Str(g["name"])!;
            var rg = world.AddResourceGroup(subId, rgName, Str(g["location"]), g["tags"]?.DeepClone() as JsonObject);
            var resources = (g["resources"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            // Identities first so other resources can attach them by name.
            foreach (var r in resources.OrderBy(r => ShortType(Str(r["type"])!).Equals(ResourceTypes.UserAssignedIdentity, StringComparison.OrdinalIgnoreCase) ? 0 : 1))
                AddResource(rg, r);
            if (g["generate"] is JsonArray gens)
                foreach (var gen in gens.OfType<JsonObject>()) Generate(rg, gen);
        }
    }

    static readonly Dictionary<string, string> ShortTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["registry"] = ResourceTypes.Registry, ["webApp"] = ResourceTypes.Site, ["functionApp"] = ResourceTypes.Site,
        ["containerGroup"] = ResourceTypes.ContainerGroup, ["vm"] = ResourceTypes.VirtualMachine, ["vmss"] = ResourceTypes.ScaleSet,
        ["userAssignedIdentity"] = ResourceTypes.UserAssignedIdentity, ["aks"] = ResourceTypes.ManagedCluster,
        ["containerApp"] = ResourceTypes.ContainerApp, ["managedEnvironment"] = ResourceTypes.ManagedEnvironment,
    };

    static string ShortType(string t) => ShortTypes.GetValueOrDefault(t) ?? t;

    void AddResource(ResourceGroup rg, JsonObject r)
    {
        var shortType = Str(r["type"]) ?? throw new InvalidOperationException("resources[].type is required.");
        var type = ShortType(shortType);
        var name = Str(r["name"]) ?? throw new InvalidOperationException("resources[].name is required.");
        var body = new JsonObject { ["location"] = Str(r["location"]) ?? rg.Location };
        foreach (var (k, v) in r)
            if (k is not ("type" or "name" or "slots" or "siteConfig" or "identity" or "location" or "powerState")) body[k] = v?.DeepClone();
        body["properties"] ??= new JsonObject();
        var props = (JsonObject)body["properties"]!;
        if (shortType.Equals("functionApp", StringComparison.OrdinalIgnoreCase)) body["kind"] ??= "functionapp,linux";
        if (r["siteConfig"] is JsonObject sc) props["siteConfig"] = sc.DeepClone();
        if (r["identity"] is JsonObject identity) body["identity"] = ExpandIdentity(rg, identity);
        var id = $"/subscriptions/{rg.SubscriptionId}/resourceGroups/{rg.Name}/providers/{type}/{name}";
        var outcome = ResourceOps.Write(world, id, body, patch: false, new WriteContext());
        if (outcome.Error is not null) throw new InvalidOperationException($"{shortType} '{name}': {outcome.Error.Message}");
        if (r["powerState"] is { } power) SeedPowerState(outcome.Entry!.Id, type, name, power);
        foreach (var slot in (r["slots"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var sb = new JsonObject { ["location"] = body["location"]!.DeepClone(), ["kind"] = body["kind"]?.DeepClone(), ["properties"] = new JsonObject() };
            if (slot["siteConfig"] is JsonObject ssc) ((JsonObject)sb["properties"]!)["siteConfig"] = ssc.DeepClone();
            if (slot["identity"] is JsonObject sid) sb["identity"] = ExpandIdentity(rg, sid);
            var so = ResourceOps.Write(world, $"{outcome.Entry!.Id}/slots/{Str(slot["name"])}", sb, false, new WriteContext());
            if (so.Error is not null) throw new InvalidOperationException($"slot '{Str(slot["name"])}': {so.Error.Message}");
        }
    }

    /// <summary>"powerState": "deallocated" (a VM, or every instance of a scale set) or, for a scale set,
    /// {"1": "stopped", …} by instance ID. Values: running, stopped, deallocated.</summary>
    void SeedPowerState(string id, string type, string name, JsonNode power)
    {
        bool scaleSet = type.Equals(ResourceTypes.ScaleSet, StringComparison.OrdinalIgnoreCase);
        if (!scaleSet && !type.Equals(ResourceTypes.VirtualMachine, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"'{name}': powerState is for vm and vmss resources only.");
        var instances = scaleSet ? Arm.ScaleSetInstances.InstanceIds(world.GetResource(id)!).ToList() : [id];
        var wanted = power is JsonObject byInstance
            ? byInstance.Select(kv => (Ids: (IReadOnlyList<string>)[Instance(kv.Key)], State: Str(kv.Value)))
            : [(Ids: (IReadOnlyList<string>)instances, State: Str(power))];
        foreach (var (ids, state) in wanted)
        {
            if (!PowerStates.IsKnown(state))
                throw new InvalidOperationException($"'{name}': powerState '{state}' is not one of running, stopped, deallocated.");
            world.SetPowerState(ids, state!);
        }

        string Instance(string instanceId)
        {
            if (!scaleSet) throw new InvalidOperationException($"'{name}': a VM's powerState is a string, not an object by instance ID.");
            return instances.FirstOrDefault(i => i.EndsWith("/virtualMachines/" + instanceId, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidOperationException($"'{name}': powerState names instance '{instanceId}', which the scale set (sku.capacity) does not have.");
        }
    }

    /// <summary>Identity in a scenario may name user-assigned identities by name (same group) or ID.</summary>
    JsonObject ExpandIdentity(ResourceGroup rg, JsonObject identity)
    {
        var copy = (JsonObject)identity.DeepClone();
        if (copy["userAssignedIdentities"] is JsonArray names)
        {
            var map = new JsonObject();
            foreach (var n in names) map[ExpandUami(rg, Str(n)!)] = new JsonObject();
            copy["userAssignedIdentities"] = map;
        }
        else if (copy["userAssignedIdentities"] is JsonObject m)
        {
            var map = new JsonObject();
            foreach (var (k, v) in m) map[ExpandUami(rg, k)] = v?.DeepClone();
            copy["userAssignedIdentities"] = map;
        }
        return copy;
    }

    static string ExpandUami(ResourceGroup rg, string nameOrId) => nameOrId.StartsWith('/')
        ? nameOrId
        : $"/subscriptions/{rg.SubscriptionId}/resourcegroups/{rg.Name}/providers/{ResourceTypes.UserAssignedIdentity}/{nameOrId}";

    /// <summary>{"type":"webApp","count":10000,"namePrefix":"app"}: many plain resources, cheaply.</summary>
    void Generate(ResourceGroup rg, JsonObject gen)
    {
        var type = Str(gen["type"]) ?? "webApp";
        var count = gen["count"]?.GetValue<int>() ?? 0;
        var prefix = Str(gen["namePrefix"]) ?? "app";
        var template = gen["template"] as JsonObject ?? new JsonObject();
        for (int i = 0; i < count; i++)
        {
            var r = (JsonObject)template.DeepClone();
            r["type"] = type;
            r["name"] = $"{prefix}{i:D5}";
            AddResource(rg, r);
        }
    }

    void ApplyBehaviours(JsonObject b)
    {
        static TimeSpan Sec(JsonNode? n) => TimeSpan.FromSeconds(n?.GetValue<double>() ?? 0);
        if (b["replicationDelaySeconds"] is { } rd) behaviours.ReplicationDelay = Sec(rd);
        if (b["latencyMs"] is { } lat) behaviours.Latency = TimeSpan.FromMilliseconds(lat.GetValue<double>());
        if (b["lroSeconds"] is JsonObject lro)
            foreach (var (k, v) in lro)
                if (k == "default") behaviours.LroDuration = Sec(v); else behaviours.LroDurations[k] = Sec(v);
        else if (b["lroSeconds"] is { } lroAll) behaviours.LroDuration = Sec(lroAll);
        if (b["throttling"] is JsonObject th)
        {
            var t = behaviours.Throttling;
            t.Enabled = th["enabled"]?.GetValue<bool>() ?? true;
            if (th["readCapacity"] is { } rc) t.ReadCapacity = rc.GetValue<int>();
            if (th["readRefillPerSecond"] is { } rr) t.ReadRefillPerSecond = rr.GetValue<double>();
            if (th["writeCapacity"] is { } wc) t.WriteCapacity = wc.GetValue<int>();
            if (th["writeRefillPerSecond"] is { } wr) t.WriteRefillPerSecond = wr.GetValue<double>();
            if (th["deleteCapacity"] is { } dc) t.DeleteCapacity = dc.GetValue<int>();
            if (th["deleteRefillPerSecond"] is { } dr) t.DeleteRefillPerSecond = dr.GetValue<double>();
        }
        foreach (var f in (b["faults"] as JsonArray ?? []).OfType<JsonObject>())
            behaviours.Faults.Add(new FaultRule
            {
                Method = Str(f["method"]), PathContains = Str(f["pathContains"]), Status = f["status"]?.GetValue<int>() ?? 500,
                Code = Str(f["code"]), Message = Str(f["message"]), Nth = f["nth"]?.GetValue<int>() ?? 1, Count = f["count"]?.GetValue<int>() ?? 1,
                RetryAfterSeconds = f["retryAfterSeconds"]?.GetValue<int>(),
            });
        if (b["argQuotaPerWindow"] is { } q) behaviours.ArgQuotaPerWindow = q.GetValue<int>();
        if (b["argThrottling"] is { } at) behaviours.ArgThrottlingEnabled = at.GetValue<bool>();
        if (b["graphDirectoryReadDenied"] is JsonArray gd)
            behaviours.GraphDirectoryReadDenied = gd.Select(x => Str(x)!).Select(n => n == "*" ? n : ResolvePrincipalName(n)).ToList();
    }

    // Behaviours are applied last, so principals from "principals" (or the operator) can be named.
    string ResolvePrincipalName(string nameOrId) =>
        nameOrId.Equals("operator", StringComparison.OrdinalIgnoreCase) ? world.Operator.ObjectId
        : world.Principals().FirstOrDefault(p => p.DisplayName.Equals(nameOrId, StringComparison.OrdinalIgnoreCase))?.ObjectId ?? nameOrId;
}

public sealed class ScenarioException(string message) : Exception(message);
