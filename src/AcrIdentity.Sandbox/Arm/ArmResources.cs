using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>POST {resourceId}/{action} handlers by "{type}/{action}" (case-insensitive). The extension point
/// for e.g. Microsoft.Compute/virtualMachines/runCommand: the handler answers the whole request.</summary>
public static class ArmActions
{
    static readonly ConcurrentDictionary<string, Func<ArmRequest, ResourceEntryView, Task>> Handlers = new(StringComparer.OrdinalIgnoreCase);

    public static void Register(string resourceType, string action, Func<ArmRequest, ResourceEntryView, Task> handler) =>
        Handlers[$"{resourceType}/{action}"] = handler;

    internal static Func<ArmRequest, ResourceEntryView, Task>? Find(string resourceType, string action) =>
        Handlers.GetValueOrDefault($"{resourceType}/{action}");

    static readonly ConcurrentDictionary<string, Func<ArmRequest, JsonObject, IReadOnlyList<JsonObject>>> Children = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Child resources the world does not store but derives from their parent, e.g. a scale set's
    /// virtualMachines (its instances, from sku.capacity): GET of the collection and of one child, and POST
    /// actions on a child, are answered from <paramref name="render"/> (parent rendered → children rendered).</summary>
    public static void RegisterChildren(string parentType, string collection, Func<ArmRequest, JsonObject, IReadOnlyList<JsonObject>> render) =>
        Children[$"{parentType}/{collection}"] = render;

    internal static IReadOnlyList<JsonObject>? DerivedChildren(ArmRequest r, string parentType, string collection, JsonObject? parent) =>
        parent is not null && Children.TryGetValue($"{parentType}/{collection}", out var render) ? render(r, parent) : null;

    /// <summary>A derived child by its ID (null when the ID is not one, or no such child exists).</summary>
    internal static JsonObject? FindDerived(ArmRequest r, string id)
    {
        var parentId = ResourceIds.ParentOf(id);
        var parentType = parentId is null ? null : ResourceIds.TypeOf(parentId);
        if (parentType is null) return null;
        var seg = id.TrimEnd('/').Split('/');
        var children = DerivedChildren(r, parentType, seg[^2], r.World.GetResource(parentId!));
        return children?.FirstOrDefault(c => ResourceIds.Same(c["id"]?.GetValue<string>(), id));
    }
}

/// <summary>The resource an action runs on (a rendered copy).</summary>
public sealed record ResourceEntryView(string Id, string Type, JsonObject Resource);

static class ArmResources
{
    static string Ns(string type) => type[..type.IndexOf('/')];
    static string Tail(string type) => type[(type.IndexOf('/') + 1)..];

    /// <summary>api-version check for a resource type (InvalidResourceType / NoRegisteredProviderFound).</summary>
    public static async Task<bool> CheckVersion(ArmRequest r, string type, string? location)
    {
        var versions = ResourceTypes.ApiVersionsFor(type);
        if (versions is null)
        {
            await ArmHttp.Error(r.Http, 404, "InvalidResourceType",
                $"The resource type '{Tail(type)}' could not be found in the namespace '{Ns(type)}' for api version '{r.ApiVersion}'.");
            return false;
        }
        if (versions.Contains(r.ApiVersion, StringComparer.OrdinalIgnoreCase)) return true;
        await ArmHttp.Error(r.Http, 400, "NoRegisteredProviderFound",
            $"No registered resource provider found for location '{location ?? r.World.DefaultLocation}' and API version '{r.ApiVersion}' for type '{Tail(type)}'. " +
            $"The supported api-versions are '{string.Join(", ", versions)}'. The supported locations are '{string.Join(", ", ArmMeta.Locations)}'.");
        return false;
    }

    public static async Task Handle(ArmRequest r, Subscription sub)
    {
        var s = r.Seg;
        var rgName = s[3];
        var rest = s.Skip(6).ToArray();
        var rg = r.World.FindResourceGroup(sub.SubscriptionId, rgName);
        if (rest.Length == 1) { await ListByType(r, sub, rgName, $"{s[5]}/{rest[0]}"); return; }

        var path = ResourceIds.Normalize(r.Path);
        if (rest.Length % 2 == 0)
        {
            var type = ResourceIds.TypeOf(path)!;
            if (type.Equals("Microsoft.Web/sites/config", StringComparison.OrdinalIgnoreCase)
                || type.Equals("Microsoft.Web/sites/slots/config", StringComparison.OrdinalIgnoreCase))
            {
                await SiteConfig(r, rg, ResourceIds.ParentOf(path)!, ResourceIds.NameOf(path));
                return;
            }
            if (HttpMethods.IsGet(r.Method) && ArmActions.FindDerived(r, path) is { } derived)
            {
                if (!await ArmAuthz.Require(r, type + "/read", path)) return;
                await ArmHttp.Json(r.Http, 200, derived);
                return;
            }
            await Resource(r, rg, rgName, path, type);
            return;
        }

        // Odd: {resource}/{collection-or-action}
        var parentId = path[..path.LastIndexOf('/')];
        var last = rest[^1];
        var parentType = ResourceIds.TypeOf(parentId)!;
        var parentEntry = r.World.GetResource(parentId) ?? ArmActions.FindDerived(r, parentId);
        if (!await CheckVersion(r, parentType, parentEntry?["location"]?.GetValue<string>() ?? rg?.Location)) return;
        if (rg is null) { await ArmHttp.Error(r.Http, 404, "ResourceGroupNotFound", $"Resource group '{rgName}' could not be found."); return; }
        // App settings are read with POST …/config/appsettings/list (az webapp config set reads them first).
        if (HttpMethods.IsPost(r.Method) && last.Equals("list", StringComparison.OrdinalIgnoreCase)
            && (parentType.Equals("Microsoft.Web/sites/config", StringComparison.OrdinalIgnoreCase)
                || parentType.Equals("Microsoft.Web/sites/slots/config", StringComparison.OrdinalIgnoreCase)))
        {
            var siteId = ResourceIds.ParentOf(parentId)!;
            if (!await ArmAuthz.Require(r, parentType + "/list/action", parentId)) return;
            var reply = AppSettings(r.World, siteId, ResourceIds.NameOf(parentId), null);
            if (reply is null) { await NotFoundResource(r, siteId, rgName); return; }
            await ArmHttp.Json(r.Http, 200, reply);
            return;
        }
        if (HttpMethods.IsPost(r.Method))
        {
            var action = $"{parentType}/{last}/action";
            if (!await ArmAuthz.Require(r, action, parentId)) return;
            if (parentEntry is null) { await NotFoundResource(r, parentId, rgName); return; }
            var handler = ArmActions.Find(parentType, last);
            if (handler is null)
            {
                await ArmHttp.Error(r.Http, 404, "NotFound", $"The action '{last}' on resource type '{parentType}' is not supported by the sandbox.");
                return;
            }
            await handler(r, new ResourceEntryView(parentEntry["id"]!.GetValue<string>(), parentType, parentEntry));
            return;
        }
        if (HttpMethods.IsGet(r.Method))
        {
            var childType = $"{parentType}/{last}";
            if (!await ArmAuthz.Require(r, childType + "/read", parentId)) return;
            if (parentEntry is null) { await NotFoundResource(r, parentId, rgName); return; }
            var items = (ArmActions.DerivedChildren(r, parentType, last, parentEntry) ?? r.World.ListResources(childType)
                .Where(o => ResourceIds.Same(ResourceIds.ParentOf(o["id"]!.GetValue<string>()), parentId)).ToList())
                .Select(o => (JsonNode)o).ToList();
            await ArmHttp.Json(r.Http, 200, ArmHttp.Page(r, items));
            return;
        }
        await ArmArea.NotFound(r);
    }

    static Task NotFoundResource(ArmRequest r, string id, string rgName) =>
        ArmHttp.Error(r.Http, 404, "ResourceNotFound",
            $"The Resource '{ResourceIds.TypeOf(id)}/{ResourceIds.NameOf(id)}' under resource group '{rgName}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix");

    static async Task Resource(ArmRequest r, ResourceGroup? rg, string rgName, string id, string type)
    {
        var w = r.World;
        var current = w.GetResource(id);
        if (!await CheckVersion(r, type, current?["location"]?.GetValue<string>() ?? rg?.Location)) return;
        var spec = ResourceTypes.Find(type);
        if (spec is null)
        {
            await ArmHttp.Error(r.Http, 404, "InvalidResourceType",
                $"The resource type '{Tail(type)}' could not be found in the namespace '{Ns(type)}' for api version '{r.ApiVersion}'.");
            return;
        }
        var action = ArmAuthz.ActionFor(spec.Type, r.Method);
        if (!await ArmAuthz.Require(r, action, current?["id"]?.GetValue<string>() ?? id)) return;
        if (rg is null) { await ArmHttp.Error(r.Http, 404, "ResourceGroupNotFound", $"Resource group '{rgName}' could not be found."); return; }

        switch (r.Method.ToUpperInvariant())
        {
            case "GET":
            case "HEAD":
                if (current is null) { await NotFoundResource(r, id, rgName); return; }
                // az vm get-instance-view: GET {vm}?$expand=instanceView shows the power state.
                if (spec.Type == ResourceTypes.VirtualMachine && current["properties"] is JsonObject vmProps
                    && (r.Query("$expand") ?? "").Contains("instanceView", StringComparison.OrdinalIgnoreCase))
                    vmProps["instanceView"] = MachinePowerArea.InstanceView(w, current["id"]!.GetValue<string>());
                await ArmHttp.Json(r.Http, 200, current);
                return;
            case "PUT":
            case "PATCH":
            {
                var (body, err) = await ArmHttp.ReadObject(r.Http);
                if (body is null) { await ArmHttp.Error(r.Http, 400, "InvalidRequestContent", err!); return; }
                bool patch = HttpMethods.IsPatch(r.Method);
                var duration = r.Ctx.Behaviours.LroDurationFor(spec.LroKind);
                var outcome = ResourceOps.Write(w, id, body, patch, new WriteContext
                {
                    RegistryFrontEnd = r.Ctx.RegistryFrontEnd,
                    LroDuration = duration,
                    CallerObjectId = r.Caller.ObjectId,
                    CheckLinkedIdentities = ids => LinkedCheck(r, spec.Type, id, ids),
                });
                if (outcome.Error is not null) { await ArmHttp.Error(r.Http, outcome.Error); return; }
                var entry = outcome.Entry!;
                var rendered = w.GetResource(entry.Id)!;
                var lro = patch ? spec.PatchLro : spec.PutLro;
                var location = rendered["location"]?.GetValue<string>() ?? rg.Location;
                var headers = new Dictionary<string, string>();
                int status = spec.Type is ResourceTypes.Site or ResourceTypes.Slot ? 200 : outcome.Created ? 201 : 200;
                Task? ready = null;
                if (spec.Type == ResourceTypes.Registry && outcome.Created && r.Ctx.RegistryFrontEnd is { } front)
                {
                    // A new registry is "Creating" until its process answers.
                    ready = front.WaitReadyAsync(entry.Id);
                    if (!ready.IsCompleted)
                    {
                        w.BeginBusy(entry.Id, "Creating");
                        _ = ready.ContinueWith(t => w.EndBusy(entry.Id, failed: t.IsFaulted || t.IsCanceled), TaskScheduler.Default);
                        rendered = w.GetResource(entry.Id)!;
                    }
                }
                if (lro != LroStyle.None)
                {
                    var op = ArmLro.Start(r, entry.Id, Ns(spec.Type), location, entry.BusyUntil, deleting: false, ready);
                    if (lro == LroStyle.AsyncOperation)
                    {
                        headers["Azure-AsyncOperation"] = op.StatusUrl;
                        if (entry.BusyUntil is not null || ready is { IsCompleted: false }) headers["Retry-After"] = "1";
                    }
                    else if (entry.BusyUntil is not null)
                    {
                        headers["Location"] = op.ResultUrl;
                        headers["Retry-After"] = "1";
                        await ArmHttp.Json(r.Http, 202, null, headers);
                        return;
                    }
                }
                await ArmHttp.Json(r.Http, status, rendered, headers);
                return;
            }
            case "DELETE":
            {
                if (current is null) { await ArmHttp.Json(r.Http, 204, null); return; }
                var duration = r.Ctx.Behaviours.LroDurationFor(spec.LroKind);
                var wasRegistry = spec.Type == ResourceTypes.Registry;
                w.DeleteResource(id);
                if (wasRegistry) r.Ctx.RegistryFrontEnd?.RegistryRemoved(current["id"]!.GetValue<string>());
                if (spec.DeleteLro != LroStyle.None && duration > TimeSpan.Zero)
                {
                    var op = ArmLro.Start(r, current["id"]!.GetValue<string>(), Ns(spec.Type), current["location"]?.GetValue<string>() ?? rg.Location,
                        DateTimeOffset.UtcNow + duration, deleting: true);
                    await ArmHttp.Json(r.Http, 202, null, new Dictionary<string, string>
                    {
                        ["Azure-AsyncOperation"] = op.StatusUrl, ["Location"] = op.ResultUrl, ["Retry-After"] = "1",
                    });
                    return;
                }
                await ArmHttp.Json(r.Http, 200, null);
                return;
            }
        }
        await ArmArea.NotFound(r);
    }

    static WorldError? LinkedCheck(ArmRequest r, string type, string id, IReadOnlyList<string> identityIds)
    {
        const string assign = "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"; // the literal action ARM checks
        var denied = identityIds.Where(i => !r.World.IsAllowed(r.Caller.ObjectId, assign, i)).ToList();
        if (denied.Count == 0) return null;
        return new WorldError(403, "LinkedAuthorizationFailed",
            $"The client '{r.Caller.AppId ?? r.Caller.ObjectId}' with object id '{r.Caller.ObjectId}' has permission to perform action '{type}/write' on scope '{id}'; " +
            $"however, it does not have permission to perform action(s) '{assign}' on the linked scope(s) '{string.Join(",", denied)}' (respectively) or the linked scope(s) are invalid.");
    }

    static async Task SiteConfig(ArmRequest r, ResourceGroup? rg, string siteId, string name)
    {
        if (!await CheckVersion(r, ResourceTypes.Site, rg?.Location)) return;
        var configType = ResourceIds.TypeOf(siteId) + "/config";
        if (!await ArmAuthz.Require(r, ArmAuthz.ActionFor(configType, r.Method), siteId + "/config/" + name)) return;
        if (rg is null) { await ArmHttp.Error(r.Http, 404, "ResourceGroupNotFound", $"Resource group '{r.Seg[3]}' could not be found."); return; }
        var w = r.World;
        JsonObject? reply = null;
        bool found;
        JsonObject? body = null;
        if (HttpMethods.IsPut(r.Method) || HttpMethods.IsPatch(r.Method))
        {
            string? err;
            (body, err) = await ArmHttp.ReadObject(r.Http);
            if (body is null) { await ArmHttp.Error(r.Http, 400, "InvalidRequestContent", err!); return; }
        }
        lock (w.Gate)
        {
            var site = w.Entry(siteId);
            found = site is not null && site.Type is ResourceTypes.Site or ResourceTypes.Slot;
            if (found && name.Equals("appsettings", StringComparison.OrdinalIgnoreCase) && HttpMethods.IsPut(r.Method))
                reply = AppSettings(w, siteId, name, body?["properties"] as JsonObject ?? new JsonObject());
            else if (found && name.Equals("web", StringComparison.OrdinalIgnoreCase))
            {
                site!.SiteConfig ??= ResourceOps.DefaultSiteConfig();
                if (body?["properties"] is JsonObject props) ResourceOps.MergeNonNull(site.SiteConfig, props);
                reply = ResourceOps.RenderSiteConfig(site);
            }
        }
        if (body is not null && reply is not null) w.RaiseChanged();
        if (!found)
        {
            await ArmHttp.Error(r.Http, 404, "ResourceNotFound",
                $"The Resource '{ResourceIds.TypeOf(siteId)}/{ResourceIds.NameOf(siteId)}' under resource group '{r.Seg[3]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix");
            return;
        }
        if (reply is null) { await ArmHttp.Error(r.Http, 404, "NotFound", $"Configuration '{name}' is not supported by the sandbox."); return; }
        if (HttpMethods.IsGet(r.Method) || HttpMethods.IsPut(r.Method) || HttpMethods.IsPatch(r.Method)) await ArmHttp.Json(r.Http, 200, reply);
        else await ArmArea.NotFound(r);
    }

    /// <summary>config/appsettings of a site or slot; replaces them when <paramref name="replace"/> is given.
    /// Null when the site does not exist.</summary>
    static JsonObject? AppSettings(World.World w, string siteId, string name, JsonObject? replace)
    {
        lock (w.Gate)
        {
            var site = w.Entry(siteId);
            if (site is null || site.Type is not (ResourceTypes.Site or ResourceTypes.Slot)) return null;
            site.SiteConfig ??= ResourceOps.DefaultSiteConfig();
            if (replace is not null)
            {
                var settings = new JsonObject();
                foreach (var (k, v) in replace) if (v is not null) settings[k] = v.ToString();
                site.SiteConfig["appSettings"] = settings;
            }
            return new JsonObject
            {
                ["id"] = site.Id + "/config/" + name, ["name"] = name,
                ["type"] = site.Type == ResourceTypes.Slot ? "Microsoft.Web/sites/slots/config" : "Microsoft.Web/sites/config",
                ["location"] = site.Body["location"]?.DeepClone(),
                ["properties"] = (site.SiteConfig["appSettings"] as JsonObject)?.DeepClone() ?? new JsonObject(),
            };
        }
    }

    /// <summary>Visible to the caller: needs {type}/read at the resource (or above).</summary>
    static IEnumerable<JsonObject> Readable(ArmRequest r, IEnumerable<JsonObject> items)
    {
        var canRead = ArmAuthz.ReadChecker(r);
        return items.Where(o => canRead(o["type"]!.GetValue<string>() + "/read", o["id"]!.GetValue<string>()));
    }

    public static async Task ListByType(ArmRequest r, Subscription sub, string? rg, string type)
    {
        if (!HttpMethods.IsGet(r.Method)) { await ArmArea.NotFound(r); return; }
        if (!await CheckVersion(r, type, null)) return;
        if (rg is not null && r.World.FindResourceGroup(sub.SubscriptionId, rg) is null)
        {
            await ArmHttp.Error(r.Http, 404, "ResourceGroupNotFound", $"Resource group '{rg}' could not be found.");
            return;
        }
        // Filter on the stored entries and render only the page (10,000-app audits page through this).
        var canRead = ArmAuthz.ReadChecker(r);
        var entries = r.World.EntriesSnapshot()
            .Where(e => e.Type.Equals(type, StringComparison.OrdinalIgnoreCase) && e.SubscriptionId.Equals(sub.SubscriptionId, StringComparison.OrdinalIgnoreCase)
                && (rg is null || e.ResourceGroup.Equals(rg, StringComparison.OrdinalIgnoreCase))
                && canRead(e.Type + "/read", e.Id))
            .ToList();
        await ArmHttp.Json(r.Http, 200, ArmHttp.Page(r, entries, e => r.World.Render(e)));
    }

    static bool InScope(JsonObject o, string sub, string? rg)
    {
        var id = o["id"]!.GetValue<string>();
        return string.Equals(ResourceIds.SubscriptionOf(id), sub, StringComparison.OrdinalIgnoreCase)
            && (rg is null || string.Equals(ResourceIds.ResourceGroupOf(id), rg, StringComparison.OrdinalIgnoreCase));
    }

    static readonly Regex FilterClause = new(@"^\s*(resourceType|name|location)\s+eq\s+'([^']*)'\s*$", RegexOptions.IgnoreCase);
    static readonly Regex SubstringOf = new(@"^\s*substringof\(\s*'([^']*)'\s*,\s*name\s*\)\s*$", RegexOptions.IgnoreCase);

    /// <summary>GET /subscriptions/{s}[/resourceGroups/{rg}]/resources with a small $filter (az finds registries by name this way).</summary>
    public static async Task ListGeneric(ArmRequest r, Subscription sub, string? rg)
    {
        if (!HttpMethods.IsGet(r.Method)) { await ArmArea.NotFound(r); return; }
        if (!await ArmMeta.CheckVersion(r, ArmMeta.ResourcesVersions)) return;
        if (rg is not null && r.World.FindResourceGroup(sub.SubscriptionId, rg) is null)
        {
            await ArmHttp.Error(r.Http, 404, "ResourceGroupNotFound", $"Resource group '{rg}' could not be found.");
            return;
        }
        var preds = new List<Func<JsonObject, bool>>();
        var filter = r.Query("$filter");
        if (!string.IsNullOrWhiteSpace(filter))
            foreach (var clause in Regex.Split(filter, @"\s+and\s+", RegexOptions.IgnoreCase))
            {
                var m = FilterClause.Match(clause);
                if (m.Success)
                {
                    var field = m.Groups[1].Value.ToLowerInvariant();
                    var value = m.Groups[2].Value;
                    preds.Add(field switch
                    {
                        "resourcetype" => o => string.Equals(o["type"]?.GetValue<string>(), value, StringComparison.OrdinalIgnoreCase),
                        "name" => o => string.Equals(o["name"]?.GetValue<string>(), value, StringComparison.OrdinalIgnoreCase),
                        _ => o => string.Equals(o["location"]?.GetValue<string>(), value, StringComparison.OrdinalIgnoreCase),
                    });
                    continue;
                }
                var sm = SubstringOf.Match(clause);
                if (sm.Success)
                {
                    var v = sm.Groups[1].Value;
                    preds.Add(o => o["name"]?.GetValue<string>().Contains(v, StringComparison.OrdinalIgnoreCase) == true);
                    continue;
                }
                await ArmHttp.Error(r.Http, 400, "InvalidFilterInQueryString",
                    $"Invalid $filter '{filter}' specified in the query string.");
                return;
            }
        var items = r.World.ListResources().Where(o => InScope(o, sub.SubscriptionId, rg) && preds.All(p => p(o)));
        var generic = Readable(r, items).Select(o =>
        {
            var g = new JsonObject();
            foreach (var k in new[] { "id", "name", "type", "sku", "kind", "location", "tags", "identity", "managedBy" })
                if (o[k] is { } v) g[k] = v.DeepClone();
            return (JsonNode)g;
        }).ToList();
        await ArmHttp.Json(r.Http, 200, ArmHttp.Page(r, generic));
    }

    public static async Task CheckNameAvailability(ArmRequest r, Subscription sub, string ns)
    {
        if (!HttpMethods.IsPost(r.Method) || !ns.Equals("Microsoft.ContainerRegistry", StringComparison.OrdinalIgnoreCase)) { await ArmArea.NotFound(r); return; }
        if (!await CheckVersion(r, ResourceTypes.Registry, null)) return;
        var (body, err) = await ArmHttp.ReadObject(r.Http);
        if (body is null) { await ArmHttp.Error(r.Http, 400, "InvalidRequestContent", err!); return; }
        var name = body["name"]?.GetValue<string>() ?? "";
        var taken = r.World.FindRegistry(name) is not null;
        var valid = name.Length is >= 5 and <= 50 && name.All(char.IsAsciiLetterOrDigit);
        var reply = new JsonObject { ["nameAvailable"] = valid && !taken };
        if (!valid) { reply["reason"] = "Invalid"; reply["message"] = "The specified resource name is invalid. It can contain only alpha numeric characters and must be between 5 and 50 characters."; }
        else if (taken) { reply["reason"] = "AlreadyExists"; reply["message"] = $"The registry {name} is already in use."; }
        await ArmHttp.Json(r.Http, 200, reply);
    }
}
