using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.World;

/// <summary>An ARM error decided by the world (status, code, message).</summary>
public sealed record WorldError(int Status, string Code, string Message);

/// <summary>What a write may need from outside the world.</summary>
public sealed class WriteContext
{
    public IRegistryFrontEnd? RegistryFrontEnd { get; init; }
    /// <summary>How long the write keeps the resource "Creating"/"Updating" (0 = done at once).</summary>
    public TimeSpan LroDuration { get; init; }
    /// <summary>Checks the caller may attach these user-assigned identities (linked authorization); null = allowed.</summary>
    public Func<IReadOnlyList<string>, WorldError?>? CheckLinkedIdentities { get; init; }
    public string? CallerObjectId { get; init; }
}

public sealed record WriteOutcome(bool Created, ResourceEntry? Entry, WorldError? Error)
{
    public static WriteOutcome Fail(int status, string code, string message) => new(false, null, new WorldError(status, code, message));
}

/// <summary>ARM write semantics shared by the ARM endpoints and the scenario loader: PUT replaces, PATCH merges
/// (RFC 7396), identities are created and deleted with their principals, computed properties are kept.</summary>
public static class ResourceOps
{
    static readonly HashSet<string> Envelope = new(StringComparer.OrdinalIgnoreCase) { "id", "name", "type", "identity", "systemData", "etag" };

    public static WriteOutcome Write(World w, string resourceId, JsonObject body, bool patch, WriteContext c)
    {
        WriteOutcome outcome;
        lock (w.Gate) outcome = WriteLocked(w, ResourceIds.Normalize(resourceId), body, patch, c);
        if (outcome.Error is null) w.RaiseChanged();
        return outcome;
    }

    static WriteOutcome WriteLocked(World w, string id, JsonObject body, bool patch, WriteContext c)
    {
        var type = ResourceIds.TypeOf(id) ?? "";
        var spec = ResourceTypes.Find(type);
        if (spec is null) return WriteOutcome.Fail(400, "InvalidResourceType", $"The resource type '{type}' is not supported by the sandbox.");
        var sub = ResourceIds.SubscriptionOf(id);
        var rgName = ResourceIds.ResourceGroupOf(id);
        if (sub is null || w.FindSubscription(sub) is null)
            return WriteOutcome.Fail(404, "SubscriptionNotFound", $"The subscription '{sub}' could not be found.");
        var rg = rgName is null ? null : w.FindResourceGroup(sub, rgName);
        if (rg is null) return WriteOutcome.Fail(404, "ResourceGroupNotFound", $"Resource group '{rgName}' could not be found.");
        var parentId = ResourceIds.ParentOf(id);
        ResourceEntry? parent = null;
        if (parentId is not null && (parent = w.Entry(parentId)) is null)
            return WriteOutcome.Fail(404, "ParentResourceNotFound",
                $"Can not perform requested operation on nested resource. Parent resource '{ResourceIds.NameOf(parentId)}' not found.");

        var existing = w.Entry(id);
        if (patch && existing is null)
            return WriteOutcome.Fail(404, "ResourceNotFound",
                $"The Resource '{TypeForMessage(id)}' under resource group '{rgName}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix");

        JsonObject next;
        if (patch)
        {
            next = (JsonObject)existing!.Body.DeepClone();
            var copy = (JsonObject)body.DeepClone();
            copy.Remove("identity");
            if (spec.Type is ResourceTypes.Site or ResourceTypes.Slot && copy["properties"] is JsonObject pp && pp["siteConfig"] is JsonObject sc)
            {
                pp.Remove("siteConfig");
                MergeNonNull(existing.SiteConfig ??= DefaultSiteConfig(), sc);
            }
            MergePatch(next, copy);
        }
        else
        {
            next = new JsonObject();
            foreach (var (k, v) in body)
                if (!Envelope.Contains(k)) next[k] = v?.DeepClone();
            if (next["location"] is null)
            {
                if (spec.Type is ResourceTypes.Slot && parent is not null) next["location"] = parent.Body["location"]?.DeepClone();
                else return WriteOutcome.Fail(400, "LocationRequired", "The location property is required for this definition.");
            }
        }
        next.Remove("id"); next.Remove("name"); next.Remove("type");

        var storedId = existing?.Id ?? StoredId(id, spec.Type, rg, parent);
        var name = ResourceIds.NameOf(storedId);
        var shaped = new JsonObject
        {
            ["id"] = storedId,
            ["name"] = spec.Type == ResourceTypes.Slot ? $"{ResourceIds.NameOf(parent!.Id)}/{name}" : name,
            ["type"] = spec.Type,
        };
        foreach (var (k, v) in next) shaped[k] = v?.DeepClone();
        if (shaped["properties"] is not JsonObject) shaped["properties"] = new JsonObject();
        shaped["tags"] ??= new JsonObject();

        var entry = existing ?? new ResourceEntry
        {
            Id = storedId, Type = spec.Type, Name = name, SubscriptionId = rg.SubscriptionId, ResourceGroup = rg.Name,
            Body = shaped, CreatedAt = w.Now,
        };

        // Checks that reject the write come before anything (principals) is created.
        if (PreValidate(w, spec, ResourceIds.NameOf(storedId), existing, shaped, body) is { } invalid) return new WriteOutcome(false, null, invalid);

        if (spec.CarriesIdentity)
        {
            var requested = body.ContainsKey("identity") ? body["identity"] : existing?.Body["identity"]?.DeepClone();
            bool hasRequest = body.ContainsKey("identity");
            var err = IdentityOps.Apply(w, entry, existing?.Body["identity"] as JsonObject, requested, hasRequest, patch, shaped, c);
            if (err is not null) return new WriteOutcome(false, null, err);
        }

        var typeErr = Shape(w, spec, entry, existing, shaped, body, patch, rg, c);
        if (typeErr is not null) return new WriteOutcome(false, null, typeErr);

        entry.Body = shaped;
        if (c.LroDuration > TimeSpan.Zero && spec.LroKind is not null)
        {
            entry.BusyUntil = w.Now + c.LroDuration;
            entry.BusyState = existing is null ? "Creating" : "Updating";
        }
        w.Resources[entry.Id] = entry;
        return new WriteOutcome(existing is null, entry, null);
    }

    static string TypeForMessage(string id) => $"{ResourceIds.TypeOf(id)}/{ResourceIds.NameOf(id)}";

    /// <summary>The ID to store: the caller's name casing, the resource group's stored casing, and lowercase
    /// "resourcegroups" for the types whose IDs Azure returns that way.</summary>
    static string StoredId(string requestedId, string type, ResourceGroup rg, ResourceEntry? parent)
    {
        var name = ResourceIds.NameOf(requestedId);
        if (parent is not null)
        {
            var seg = ResourceIds.Normalize(requestedId).Split('/');
            return $"{parent.Id}/{seg[^2]}/{name}";
        }
        var rgSegment = type is ResourceTypes.UserAssignedIdentity ? "resourcegroups" : "resourceGroups";
        return $"/subscriptions/{rg.SubscriptionId}/{rgSegment}/{rg.Name}/providers/{type}/{name}";
    }

    /// <summary>RFC 7396: objects merge recursively, null deletes, anything else (arrays too) replaces.</summary>
    public static void MergePatch(JsonObject target, JsonObject patch)
    {
        foreach (var (k, v) in patch.ToList())
        {
            if (v is null) { target.Remove(k); continue; }
            if (v is JsonObject po && target[k] is JsonObject to) { MergePatch(to, po); continue; }
            target[k] = v.DeepClone();
        }
    }

    /// <summary>App Service style: non-null values overwrite, nulls are ignored.</summary>
    public static void MergeNonNull(JsonObject target, JsonObject source)
    {
        foreach (var (k, v) in source)
            if (v is not null) target[k] = v.DeepClone();
    }

    public static JsonObject DefaultSiteConfig() => new()
    {
        ["numberOfWorkers"] = 1, ["netFrameworkVersion"] = "v4.0", ["linuxFxVersion"] = "", ["windowsFxVersion"] = null,
        ["requestTracingEnabled"] = false, ["remoteDebuggingEnabled"] = false, ["httpLoggingEnabled"] = false,
        ["acrUseManagedIdentityCreds"] = false, ["acrUserManagedIdentityID"] = null, ["logsDirectorySizeLimit"] = 35,
        ["detailedErrorLoggingEnabled"] = false, ["use32BitWorkerProcess"] = true, ["webSocketsEnabled"] = false,
        ["alwaysOn"] = false, ["appCommandLine"] = "", ["managedPipelineMode"] = "Integrated", ["loadBalancing"] = "LeastRequests",
        ["http20Enabled"] = false, ["minTlsVersion"] = "1.2", ["scmMinTlsVersion"] = "1.2", ["ftpsState"] = "FtpsOnly",
        ["vnetRouteAllEnabled"] = false, ["vnetImagePullEnabled"] = false, ["publicNetworkAccess"] = null,
    };

    static WorldError? Shape(World w, ResourceTypeSpec spec, ResourceEntry entry, ResourceEntry? existing, JsonObject shaped,
        JsonObject body, bool patch, ResourceGroup rg, WriteContext c)
    {
        var props = (JsonObject)shaped["properties"]!;
        var old = existing?.Body["properties"] as JsonObject;
        void Keep(string key, JsonNode? fallback)
        {
            if (old?[key] is { } v) props[key] = v.DeepClone();
            else if (props[key] is null && fallback is not null) props[key] = fallback;
        }
        void Default(string key, JsonNode? value) { if (props[key] is null) props[key] = value; }
        var location = shaped["location"]?.GetValue<string>() ?? w.DefaultLocation;

        switch (spec.Type)
        {
            case ResourceTypes.Registry:
            {
                var name = entry.Name;
                shaped["sku"] ??= new JsonObject { ["name"] = "Standard", ["tier"] = "Standard" };
                if (shaped["sku"] is JsonObject sku && sku["tier"] is null) sku["tier"] = sku["name"]?.DeepClone();
                var login = old?["loginServer"]?.GetValue<string>()
                    ?? c.RegistryFrontEnd?.AssignLoginServer(entry.Id, name)
                    ?? $"{name.ToLowerInvariant()}.azurecr.io";
                props["loginServer"] = login;
                Keep("creationDate", w.Now.UtcDateTime.ToString("O"));
                props["provisioningState"] = "Succeeded";
                Default("adminUserEnabled", false);
                Default("networkRuleSet", new JsonObject { ["defaultAction"] = "Allow", ["ipRules"] = new JsonArray() });
                Default("policies", new JsonObject
                {
                    ["quarantinePolicy"] = new JsonObject { ["status"] = "disabled" },
                    ["trustPolicy"] = new JsonObject { ["type"] = "Notary", ["status"] = "disabled" },
                    ["retentionPolicy"] = new JsonObject { ["days"] = 7, ["status"] = "disabled" },
                    ["exportPolicy"] = new JsonObject { ["status"] = "enabled" },
                    ["azureADAuthenticationAsArmPolicy"] = new JsonObject { ["status"] = "enabled" },
                    ["softDeletePolicy"] = new JsonObject { ["retentionDays"] = 7, ["status"] = "disabled" },
                });
                if (props["policies"] is JsonObject pol && pol["azureADAuthenticationAsArmPolicy"] is null)
                    pol["azureADAuthenticationAsArmPolicy"] = new JsonObject { ["status"] = "enabled" };
                Default("encryption", new JsonObject { ["status"] = "disabled" });
                Default("dataEndpointEnabled", false);
                Default("dataEndpointHostNames", new JsonArray());
                Default("privateEndpointConnections", new JsonArray());
                Default("publicNetworkAccess", "Enabled");
                Default("networkRuleBypassOptions", "AzureServices");
                Default("networkRuleBypassAllowedForTasks", false);
                Default("zoneRedundancy", "Disabled");
                Default("anonymousPullEnabled", false);
                Default("roleAssignmentMode", "LegacyRegistryPermissions");
                // Scenario-only member: the images the registry area pushes at start.
                if (body["images"] is JsonArray imgs)
                {
                    entry.Images.Clear();
                    entry.Images.AddRange(imgs.Select(i => i!.GetValue<string>()));
                }
                shaped.Remove("images");
                break;
            }
            case ResourceTypes.Site:
            case ResourceTypes.Slot:
            {
                shaped["kind"] ??= existing?.Body["kind"]?.DeepClone() ?? "app";
                var kind = shaped["kind"]!.GetValue<string>();
                var hostName = spec.Type == ResourceTypes.Slot
                    ? $"{ResourceIds.NameOf(ResourceIds.ParentOf(entry.Id)!)}-{entry.Name}.azurewebsites.net".ToLowerInvariant()
                    : $"{entry.Name}.azurewebsites.net".ToLowerInvariant();
                entry.SiteConfig ??= DefaultSiteConfig();
                if (props["siteConfig"] is JsonObject sc) MergeNonNull(entry.SiteConfig, sc);
                props.Remove("siteConfig");
                Default("state", "Running");
                props["hostNames"] = new JsonArray(hostName);
                props["enabledHostNames"] = new JsonArray(hostName, hostName.Replace(".azurewebsites.net", ".scm.azurewebsites.net"));
                props["defaultHostName"] = hostName;
                props["repositorySiteName"] = entry.Name;
                Default("reserved", kind.Contains("linux", StringComparison.OrdinalIgnoreCase));
                Default("isXenon", kind.Contains("windows", StringComparison.OrdinalIgnoreCase) && kind.Contains("container", StringComparison.OrdinalIgnoreCase));
                Default("hyperV", props["isXenon"]?.DeepClone());
                Default("httpsOnly", false);
                Default("enabled", true);
                Default("clientAffinityEnabled", true);
                Default("resourceGroup", rg.Name);
                Default("serverFarmId", $"/subscriptions/{rg.SubscriptionId}/resourceGroups/{rg.Name}/providers/Microsoft.Web/serverfarms/{entry.Name}-plan");
                Keep("outboundIpAddresses", "20.0.0.1,20.0.0.2");
                Default("usageState", "Normal");
                Default("availabilityState", "Normal");
                Default("vnetImagePullEnabled", false);
                break;
            }
            case ResourceTypes.ContainerGroup:
            {
                Default("osType", "Linux");
                Default("restartPolicy", "Always");
                Default("sku", "Standard");
                Default("containers", new JsonArray());
                if (props["imageRegistryCredentials"] is JsonArray creds)
                    foreach (var cr in creds.OfType<JsonObject>()) cr.Remove("password");
                props["provisioningState"] = "Succeeded";
                props["instanceView"] = new JsonObject { ["state"] = "Running", ["events"] = new JsonArray() };
                foreach (var ct in ((JsonArray)props["containers"]!).OfType<JsonObject>())
                    if (ct["properties"] is JsonObject cp)
                        cp["instanceView"] = new JsonObject
                        {
                            ["restartCount"] = 0,
                            ["currentState"] = new JsonObject { ["state"] = "Running", ["startTime"] = w.Now.UtcDateTime.ToString("O"), ["detailStatus"] = "" },
                            ["events"] = new JsonArray(),
                        };
                break;
            }
            case ResourceTypes.VirtualMachine:
            case ResourceTypes.ScaleSet:
                Keep(spec.Type == ResourceTypes.VirtualMachine ? "vmId" : "uniqueId", Guid.NewGuid().ToString());
                props["provisioningState"] = "Succeeded";
                Keep("timeCreated", w.Now.UtcDateTime.ToString("O"));
                break;
            case ResourceTypes.UserAssignedIdentity:
            {
                if (existing is null)
                {
                    var p = w.CreateManagedIdentityPrincipalLocked(entry.Name, entry.Id, userAssigned: true);
                    props["tenantId"] = w.TenantId;
                    props["principalId"] = p.ObjectId;
                    props["clientId"] = p.AppId;
                }
                else
                {
                    props["tenantId"] = old!["tenantId"]?.DeepClone();
                    props["principalId"] = old["principalId"]?.DeepClone();
                    props["clientId"] = old["clientId"]?.DeepClone();
                }
                Default("isolationScope", "None");
                break;
            }
            case ResourceTypes.ManagedCluster:
            {
                if (shaped["identity"] is null)
                {
                    var err = IdentityOps.Apply(w, entry, null, new JsonObject { ["type"] = "SystemAssigned" }, true, false, shaped, c);
                    if (err is not null) return err;
                }
                var nodeRg = old?["nodeResourceGroup"]?.GetValue<string>() ?? $"MC_{rg.Name}_{entry.Name}_{location}";
                props["nodeResourceGroup"] = nodeRg;
                Keep("kubernetesVersion", "1.30.6");
                Keep("currentKubernetesVersion", props["kubernetesVersion"]?.DeepClone());
                Keep("dnsPrefix", $"{entry.Name}-dns");
                props["fqdn"] = $"{props["dnsPrefix"]}-{entry.Name.GetHashCode() & 0xffff:x4}.hcp.{location}.azmk8s.io";
                props["provisioningState"] = "Succeeded";
                Default("agentPoolProfiles", new JsonArray(new JsonObject
                {
                    ["name"] = "nodepool1", ["count"] = 1, ["vmSize"] = "Standard_DS2_v2", ["osType"] = "Linux", ["mode"] = "System",
                }));
                if (old?["identityProfile"] is JsonObject ip) props["identityProfile"] = ip.DeepClone();
                else
                {
                    var mc = w.AddResourceGroup(rg.SubscriptionId, nodeRg, location, managedBy: entry.Id);
                    var uami = CreateIdentityLocked(w, mc, $"{entry.Name}-agentpool", location);
                    var up = (JsonObject)uami.Body["properties"]!;
                    props["identityProfile"] = new JsonObject
                    {
                        ["kubeletidentity"] = new JsonObject
                        {
                            ["resourceId"] = uami.Id, ["clientId"] = up["clientId"]!.DeepClone(), ["objectId"] = up["principalId"]!.DeepClone(),
                        },
                    };
                }
                break;
            }
            case ResourceTypes.ContainerApp:
            {
                Default("configuration", new JsonObject());
                var conf = (JsonObject)props["configuration"]!;
                if (conf["registries"] is null) conf["registries"] = new JsonArray();
                Default("template", new JsonObject { ["containers"] = new JsonArray() });
                props["provisioningState"] = "Succeeded";
                Default("runningStatus", "Running");
                Keep("latestRevisionName", $"{entry.Name}--{Guid.NewGuid().ToString("N")[..7]}");
                Default("latestRevisionFqdn", $"{entry.Name}.sandbox.{location}.azurecontainerapps.io");
                Default("managedEnvironmentId", $"/subscriptions/{rg.SubscriptionId}/resourceGroups/{rg.Name}/providers/Microsoft.App/managedEnvironments/{rg.Name}-env");
                Default("workloadProfileName", "Consumption");
                break;
            }
            default:
                Default("provisioningState", "Succeeded");
                break;
        }
        return null;
    }

    static WorldError? PreValidate(World w, ResourceTypeSpec spec, string name, ResourceEntry? existing, JsonObject shaped, JsonObject body)
    {
        if (spec.Type == ResourceTypes.Registry && existing is null)
        {
            if (name.Length is < 5 or > 50 || !name.All(char.IsAsciiLetterOrDigit))
                return new WorldError(400, "RegistryNameNotValid",
                    $"Registry name '{name}' is not valid. It can contain only alpha numeric characters and must be between 5 and 50 characters.");
            if (w.Resources.Values.Any(r => r.Type == ResourceTypes.Registry && r.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
                return new WorldError(409, "AlreadyInUse", $"The registry DNS name {name.ToLowerInvariant()}.azurecr.io is already in use.");
        }
        if (spec.Type == ResourceTypes.ContainerGroup)
        {
            var os = shaped["properties"]?["osType"]?.GetValue<string>() ?? "Linux";
            var identity = body.ContainsKey("identity") ? body["identity"] : existing?.Body["identity"];
            var idType = identity?["type"]?.GetValue<string>() ?? "None";
            if (os.Equals("Windows", StringComparison.OrdinalIgnoreCase) && !idType.Equals("None", StringComparison.OrdinalIgnoreCase))
                return new WorldError(400, "IdentityNotSupportedOnWindows", "Managed service identity is not supported for Windows container groups.");
        }
        return null;
    }

    /// <summary>Creates a user-assigned identity resource (and its principal) under the lock.</summary>
    internal static ResourceEntry CreateIdentityLocked(World w, ResourceGroup rg, string name, string location)
    {
        var id = $"/subscriptions/{rg.SubscriptionId}/resourcegroups/{rg.Name}/providers/{ResourceTypes.UserAssignedIdentity}/{name}";
        var existing = w.Entry(id);
        if (existing is not null) return existing;
        var p = w.CreateManagedIdentityPrincipalLocked(name, id, userAssigned: true);
        var e = new ResourceEntry
        {
            Id = id, Type = ResourceTypes.UserAssignedIdentity, Name = name, SubscriptionId = rg.SubscriptionId, ResourceGroup = rg.Name,
            CreatedAt = w.Now,
            Body = new JsonObject
            {
                ["id"] = id, ["name"] = name, ["type"] = ResourceTypes.UserAssignedIdentity, ["location"] = location, ["tags"] = new JsonObject(),
                ["properties"] = new JsonObject
                {
                    ["tenantId"] = w.TenantId, ["principalId"] = p.ObjectId, ["clientId"] = p.AppId, ["isolationScope"] = "None",
                },
            },
        };
        w.Resources[id] = e;
        return e;
    }

    /// <summary>The resource as ARM returns it now (computed state filled in). Call under the world's lock.</summary>
    public static JsonObject Render(World w, ResourceEntry e)
    {
        var o = (JsonObject)e.Body.DeepClone();
        var props = o["properties"] as JsonObject;
        if (props is not null && e.BusyUntil is { } until)
        {
            if (w.Now < until) props["provisioningState"] = e.BusyState ?? "Updating";
            else { e.BusyUntil = null; props["provisioningState"] = "Succeeded"; }
        }
        if (props is not null && (e.Type == ResourceTypes.Site || e.Type == ResourceTypes.Slot) && e.SiteConfig is not null)
        {
            var sc = (JsonObject)e.SiteConfig.DeepClone();
            sc.Remove("appSettings");
            props["siteConfig"] = sc;
        }
        if (props?["configuration"]?["secrets"] is JsonArray secrets)
            foreach (var s in secrets.OfType<JsonObject>()) s.Remove("value");
        return o;
    }

    /// <summary>config/web of a site or slot as ARM returns it.</summary>
    public static JsonObject RenderSiteConfig(ResourceEntry site)
    {
        return new JsonObject
        {
            ["id"] = site.Id + "/config/web",
            ["name"] = "web",
            ["type"] = site.Type == ResourceTypes.Slot ? "Microsoft.Web/sites/slots/config" : "Microsoft.Web/sites/config",
            ["location"] = site.Body["location"]?.DeepClone(),
            ["properties"] = (site.SiteConfig ?? DefaultSiteConfig()).DeepClone(),
        };
    }
}
