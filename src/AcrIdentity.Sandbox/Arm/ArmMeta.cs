using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>Microsoft.Resources: subscriptions, tenants, resource groups, providers, locations, cloud metadata.</summary>
static class ArmMeta
{
    public static readonly string[] SubscriptionVersions = ["2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2019-06-01", "2018-06-01", "2016-06-01", "2015-11-01", "2014-04-01"];
    public static readonly string[] ResourcesVersions = ["2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01", "2022-09-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-06-01", "2019-10-01", "2019-08-01", "2019-07-01", "2019-05-10", "2019-05-01", "2018-05-01", "2018-02-01", "2017-05-10", "2016-09-01", "2016-02-01"];
    public static readonly string[] Locations = ["westus", "eastus", "westeurope", "northeurope", "eastus2", "westus2", "centralus", "uksouth", "southeastasia", "australiaeast"];
    static readonly Dictionary<string, string> LocationNames = new()
    {
        ["westus"] = "West US", ["eastus"] = "East US", ["westeurope"] = "West Europe", ["northeurope"] = "North Europe", ["eastus2"] = "East US 2",
        ["westus2"] = "West US 2", ["centralus"] = "Central US", ["uksouth"] = "UK South", ["southeastasia"] = "Southeast Asia", ["australiaeast"] = "Australia East",
    };

    /// <summary>Checks api-version for Microsoft.Resources endpoints (InvalidApiVersionParameter).</summary>
    public static async Task<bool> CheckVersion(ArmRequest r, string[] supported)
    {
        if (supported.Contains(r.ApiVersion, StringComparer.OrdinalIgnoreCase)) return true;
        await ArmHttp.Error(r.Http, 400, "InvalidApiVersionParameter",
            $"The api-version '{r.ApiVersion}' is invalid. The supported versions are '{string.Join(",", supported)}'.");
        return false;
    }

    static JsonObject SubscriptionJson(Subscription s) => new()
    {
        ["id"] = s.Id, ["authorizationSource"] = "RoleBased", ["managedByTenants"] = new JsonArray(),
        ["subscriptionId"] = s.SubscriptionId, ["tenantId"] = s.TenantId, ["displayName"] = s.DisplayName, ["state"] = s.State,
        ["subscriptionPolicies"] = new JsonObject
        {
            ["locationPlacementId"] = "Public_2014-09-01", ["quotaId"] = "PayAsYouGo_2014-09-01", ["spendingLimit"] = "Off",
        },
    };

    public static async Task ListSubscriptions(ArmRequest r)
    {
        if (!HttpMethods.IsGet(r.Method)) { await ArmArea.NotFound(r); return; }
        if (!await CheckVersion(r, SubscriptionVersions)) return;
        var visible = r.World.Subscriptions.Where(s => r.World.HasAnyAccessIn(r.Caller.ObjectId, s.SubscriptionId))
            .Select(s => (JsonNode)SubscriptionJson(s)).ToList();
        var page = ArmHttp.Page(r, visible);
        page["count"] = new JsonObject { ["type"] = "Total", ["value"] = visible.Count };
        await ArmHttp.Json(r.Http, 200, page);
    }

    public static async Task GetSubscription(ArmRequest r, Subscription s)
    {
        if (!HttpMethods.IsGet(r.Method)) { await ArmArea.NotFound(r); return; }
        if (!await CheckVersion(r, SubscriptionVersions)) return;
        if (!r.World.HasAnyAccessIn(r.Caller.ObjectId, s.SubscriptionId))
        {
            await ArmAuthz.Require(r, "Microsoft.Resources/subscriptions/read", s.Id);
            return;
        }
        await ArmHttp.Json(r.Http, 200, SubscriptionJson(s));
    }

    public static async Task Tenants(ArmRequest r)
    {
        if (!await CheckVersion(r, SubscriptionVersions)) return;
        var w = r.World;
        var t = new JsonObject
        {
            ["id"] = "/tenants/" + w.TenantId, ["tenantId"] = w.TenantId, ["countryCode"] = "US", ["displayName"] = w.TenantDisplayName,
            ["domains"] = new JsonArray(w.DefaultDomain), ["tenantCategory"] = "Home", ["defaultDomain"] = w.DefaultDomain, ["tenantType"] = "AAD",
        };
        await ArmHttp.Json(r.Http, 200, new JsonObject { ["value"] = new JsonArray(t) });
    }

    public static async Task ListLocations(ArmRequest r, Subscription s)
    {
        if (!await CheckVersion(r, SubscriptionVersions)) return;
        var items = Locations.Select(l => (JsonNode)new JsonObject
        {
            ["id"] = $"{s.Id}/locations/{l}", ["name"] = l, ["displayName"] = LocationNames[l], ["regionalDisplayName"] = "(US) " + LocationNames[l],
            ["metadata"] = new JsonObject { ["regionType"] = "Physical", ["regionCategory"] = "Recommended" },
        });
        await ArmHttp.Json(r.Http, 200, new JsonObject { ["value"] = new JsonArray(items.ToArray()) });
    }

    public static JsonObject GroupJson(ResourceGroup g)
    {
        var o = new JsonObject
        {
            ["id"] = g.Id, ["name"] = g.Name, ["type"] = "Microsoft.Resources/resourceGroups", ["location"] = g.Location,
            ["tags"] = g.Tags.DeepClone(), ["properties"] = new JsonObject { ["provisioningState"] = "Succeeded" },
        };
        if (g.ManagedBy is not null) o["managedBy"] = g.ManagedBy;
        return o;
    }

    public static async Task ListResourceGroups(ArmRequest r, Subscription s)
    {
        if (!HttpMethods.IsGet(r.Method)) { await ArmArea.NotFound(r); return; }
        if (!await CheckVersion(r, ResourcesVersions)) return;
        var items = r.World.ResourceGroups(s.SubscriptionId)
            .Where(g => ArmAuthz.Allowed(r, "Microsoft.Resources/subscriptions/resourceGroups/read", g.Id))
            .Select(g => (JsonNode)GroupJson(g)).ToList();
        await ArmHttp.Json(r.Http, 200, ArmHttp.Page(r, items));
    }

    public static async Task ResourceGroup(ArmRequest r, Subscription s, string name)
    {
        if (!await CheckVersion(r, ResourcesVersions)) return;
        var w = r.World;
        var scope = $"{s.Id}/resourceGroups/{name}";
        var g = w.FindResourceGroup(s.SubscriptionId, name);
        var action = ArmAuthz.ActionFor("Microsoft.Resources/subscriptions/resourceGroups", r.Method);
        if (!await ArmAuthz.Require(r, action, g?.Id ?? scope)) return;
        switch (r.Method.ToUpperInvariant())
        {
            case "HEAD":
                r.Http.Response.StatusCode = g is null ? 404 : 204;
                ArmHttp.AddCommonHeaders(r.Http);
                return;
            case "GET":
                if (g is null) { await ArmHttp.Error(r.Http, 404, "ResourceGroupNotFound", $"Resource group '{name}' could not be found."); return; }
                await ArmHttp.Json(r.Http, 200, GroupJson(g));
                return;
            case "PUT":
            case "PATCH":
            {
                var (body, err) = await ArmHttp.ReadObject(r.Http);
                if (body is null) { await ArmHttp.Error(r.Http, 400, "InvalidRequestContent", err!); return; }
                if (g is null && r.Method == "PATCH") { await ArmHttp.Error(r.Http, 404, "ResourceGroupNotFound", $"Resource group '{name}' could not be found."); return; }
                var location = body["location"]?.GetValue<string>();
                if (g is null && location is null) { await ArmHttp.Error(r.Http, 400, "LocationRequired", "The location property is required for this definition."); return; }
                if (g is not null && location is not null && !location.Replace(" ", "").Equals(g.Location, StringComparison.OrdinalIgnoreCase))
                {
                    await ArmHttp.Error(r.Http, 409, "InvalidResourceGroupLocation",
                        $"Invalid resource group location '{location}'. The Resource group already exists in location '{g.Location}'.");
                    return;
                }
                var created = g is null;
                g = w.AddResourceGroup(s.SubscriptionId, name, location?.Replace(" ", "").ToLowerInvariant(), body["tags"] as JsonObject is { } t ? (JsonObject)t.DeepClone() : null,
                    body["managedBy"]?.GetValue<string>());
                await ArmHttp.Json(r.Http, created ? 201 : 200, GroupJson(g));
                return;
            }
            case "DELETE":
                if (g is null) { await ArmHttp.Error(r.Http, 404, "ResourceGroupNotFound", $"Resource group '{name}' could not be found."); return; }
                w.DeleteResourceGroup(s.SubscriptionId, g.Name);
                await ArmHttp.Json(r.Http, 200, null);
                return;
        }
        await ArmArea.NotFound(r);
    }

    /// <summary>Namespaces and their types (from the sandbox's type table plus RBAC and Resource Graph).</summary>
    static Dictionary<string, List<(string Type, string[] Versions)>> Namespaces()
    {
        var d = new Dictionary<string, List<(string, string[])>>(StringComparer.OrdinalIgnoreCase);
        void Add(string full, string[] versions)
        {
            var ns = full[..full.IndexOf('/')];
            if (!d.TryGetValue(ns, out var l)) d[ns] = l = [];
            l.Add((full[(ns.Length + 1)..], versions));
        }
        foreach (var t in ResourceTypes.All) Add(t.Type, t.ApiVersions);
        Add("Microsoft.Web/sites/config", ResourceTypes.ApiVersionsFor(ResourceTypes.Site)!);
        Add("Microsoft.Web/sites/slots/config", ResourceTypes.ApiVersionsFor(ResourceTypes.Site)!);
        Add("Microsoft.Compute/virtualMachines/runCommand", ResourceTypes.ApiVersionsFor(ResourceTypes.VirtualMachine)!);
        Add("Microsoft.Compute/virtualMachineScaleSets/virtualMachines", ResourceTypes.ApiVersionsFor(ResourceTypes.ScaleSet)!);
        Add("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand", ResourceTypes.ApiVersionsFor(ResourceTypes.ScaleSet)!);
        Add("Microsoft.Authorization/roleAssignments", ArmRbac.AssignmentVersions);
        Add("Microsoft.Authorization/roleDefinitions", ArmRbac.DefinitionVersions);
        Add("Microsoft.ResourceGraph/resources", Arg.ArgArea.ApiVersions);
        return d;
    }

    static JsonObject ProviderJson(Subscription s, string ns, List<(string Type, string[] Versions)> types)
    {
        var rts = new JsonArray();
        foreach (var (type, versions) in types)
        {
            var global = ns.Equals("Microsoft.Authorization", StringComparison.OrdinalIgnoreCase) || ns.Equals("Microsoft.ResourceGraph", StringComparison.OrdinalIgnoreCase);
            rts.Add(new JsonObject
            {
                ["resourceType"] = type,
                ["locations"] = global ? new JsonArray() : new JsonArray(Locations.Select(l => (JsonNode)LocationNames[l]).ToArray()),
                ["apiVersions"] = new JsonArray(versions.Select(v => (JsonNode)v).ToArray()),
                ["defaultApiVersion"] = versions.FirstOrDefault(v => !v.Contains("preview")) ?? versions[0],
                ["capabilities"] = global ? "None" : "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SystemAssignedResourceIdentity, SupportsTags, SupportsLocation",
            });
        }
        return new JsonObject
        {
            ["id"] = $"{s.Id}/providers/{ns}", ["namespace"] = ns, ["registrationState"] = "Registered",
            ["registrationPolicy"] = "RegistrationRequired", ["resourceTypes"] = rts,
        };
    }

    public static async Task ListProviders(ArmRequest r, Subscription s)
    {
        if (!await CheckVersion(r, ResourcesVersions)) return;
        var items = Namespaces().Select(kv => (JsonNode)ProviderJson(s, kv.Key, kv.Value)).ToList();
        await ArmHttp.Json(r.Http, 200, new JsonObject { ["value"] = new JsonArray(items.ToArray()) });
    }

    public static async Task GetProvider(ArmRequest r, Subscription s, string ns)
    {
        if (!await CheckVersion(r, ResourcesVersions)) return;
        var all = Namespaces();
        if (!all.TryGetValue(ns, out var types))
        {
            await ArmHttp.Error(r.Http, 404, "InvalidResourceNamespace", $"The resource namespace '{ns}' is invalid.");
            return;
        }
        var key = all.Keys.First(k => k.Equals(ns, StringComparison.OrdinalIgnoreCase));
        await ArmHttp.Json(r.Http, 200, ProviderJson(s, key, types));
    }

    /// <summary>/metadata/endpoints: a single cloud object for api-version 2015-01-01 (az cloud register),
    /// an array of clouds for the newer versions.</summary>
    public static async Task MetadataEndpoints(HttpContext http, SandboxContext ctx)
    {
        var arm = ctx.ArmBaseUri.ToString();
        var login = ctx.LoginEndpoint ?? arm;
        var audiences = new JsonArray("https://management.core.windows.net/", "https://management.azure.com/");
        var v = http.Request.Query["api-version"].FirstOrDefault() ?? "2015-01-01";
        if (v == "2015-01-01")
        {
            await ArmHttp.Json(http, 200, new JsonObject
            {
                ["galleryEndpoint"] = arm, ["graphEndpoint"] = "https://graph.windows.net/", ["portalEndpoint"] = arm,
                ["authentication"] = new JsonObject { ["loginEndpoint"] = login, ["audiences"] = audiences },
            });
            return;
        }
        var cloud = new JsonObject
        {
            ["name"] = "AzureSandbox", ["resourceManager"] = arm, ["portal"] = arm, ["gallery"] = arm,
            ["graph"] = "https://graph.windows.net/", ["graphAudience"] = "https://graph.windows.net/",
            ["microsoftGraphResourceId"] = ctx.Endpoints.MicrosoftGraphEndpoint ?? arm + "graph/", ["sqlManagement"] = "https://management.core.windows.net:8443/",
            ["batch"] = "https://batch.core.windows.net/", ["activeDirectoryDataLake"] = "https://datalake.azure.net/",
            ["vmImageAliasDoc"] = "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json",
            ["authentication"] = new JsonObject
            {
                ["loginEndpoint"] = login, ["audiences"] = audiences, ["tenant"] = "common", ["identityProvider"] = "AAD",
            },
            ["suffixes"] = new JsonObject
            {
                ["acrLoginServer"] = ctx.AcrLoginServerSuffix, ["keyVaultDns"] = "vault.azure.net", ["storage"] = "core.windows.net",
                ["sqlServerHostname"] = "database.windows.net", ["azureDataLakeStoreFileSystem"] = "azuredatalakestore.net",
                ["azureDataLakeAnalyticsCatalogAndJob"] = "azuredatalakeanalytics.net",
            },
        };
        await ArmHttp.Json(http, 200, new JsonArray(cloud));
    }
}
