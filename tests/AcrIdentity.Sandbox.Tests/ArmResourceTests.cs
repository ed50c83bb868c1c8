using System.Net;
using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Tests;

public sealed class ArmResourceTests(ArmFixture f) : IClassFixture<ArmFixture>
{
    readonly ArmHarness H = f.H;
    const string Acr = "api-version=2025-11-01";
    const string Web = "api-version=2024-11-01";
    const string Vm = "api-version=2024-11-01";
    const string Msi = "api-version=2023-01-31";

    [Fact]
    public async Task Subscriptions_and_tenants_list_for_operator()
    {
        var (status, body, _) = await H.GetAsync("/subscriptions?api-version=2022-12-01");
        Assert.Equal(200, status);
        var sub = body!["value"]!.AsArray().Single()!;
        Assert.Equal(H.Sub, sub["subscriptionId"]!.GetValue<string>());
        Assert.Equal(H.World.TenantId, sub["tenantId"]!.GetValue<string>());
        Assert.Equal("Enabled", sub["state"]!.GetValue<string>());

        (status, body, _) = await H.GetAsync($"/subscriptions/{H.Sub}?api-version=2019-11-01");
        Assert.Equal(200, status);
        Assert.Equal("/subscriptions/" + H.Sub, body!["id"]!.GetValue<string>());

        (status, body, _) = await H.GetAsync("/tenants?api-version=2022-12-01");
        Assert.Equal(200, status);
        Assert.Equal(H.World.TenantId, body!["value"]![0]!["tenantId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Subscription_list_is_empty_for_a_principal_without_roles()
    {
        var (status, body, _) = await H.GetAsync("/subscriptions?api-version=2022-12-01", "noaccess-app");
        Assert.Equal(200, status);
        Assert.Empty(body!["value"]!.AsArray());
    }

    [Fact]
    public async Task Missing_token_is_401_AuthenticationFailed()
    {
        var (status, body, resp) = await H.SendAsync(HttpMethod.Get, $"/subscriptions/{H.Sub}?api-version=2022-12-01", auth: false);
        Assert.Equal(401, status);
        Assert.Equal("AuthenticationFailed", ArmHarness.Code(body));
        Assert.True(resp.Headers.WwwAuthenticate.Count > 0);
    }

    [Fact]
    public async Task Api_version_is_checked_per_type()
    {
        var (status, body, _) = await H.GetAsync(H.RegistryId + "?api-version=2099-01-01");
        Assert.Equal(400, status);
        Assert.Equal("NoRegisteredProviderFound", ArmHarness.Code(body));
        Assert.Contains("2025-11-01", ArmHarness.Message(body));
        Assert.Contains("for type 'registries'", ArmHarness.Message(body));

        (status, body, _) = await H.GetAsync(H.RegistryId);
        Assert.Equal(400, status);
        Assert.Equal("MissingApiVersionParameter", ArmHarness.Code(body));

        (status, body, _) = await H.GetAsync($"{H.RgId}?api-version=1999-01-01");
        Assert.Equal(400, status);
        Assert.Equal("InvalidApiVersionParameter", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Registry_matches_ids_case_insensitively_and_keeps_stored_casing()
    {
        var odd = $"/SUBSCRIPTIONS/{H.Sub}/resourcegroups/MYRESOURCEGROUP/providers/microsoft.containerregistry/REGISTRIES/mycontainerregistry?{Acr}";
        var (status, body, resp) = await H.GetAsync(odd);
        Assert.Equal(200, status);
        Assert.Equal(H.RegistryId, body!["id"]!.GetValue<string>());
        Assert.Equal("myContainerRegistry", body["name"]!.GetValue<string>());
        Assert.Equal("Microsoft.ContainerRegistry/registries", body["type"]!.GetValue<string>());
        var p = body["properties"]!;
        Assert.Equal("Enabled", p["publicNetworkAccess"]!.GetValue<string>());
        Assert.Equal("AzureServices", p["networkRuleBypassOptions"]!.GetValue<string>());
        Assert.Equal("LegacyRegistryPermissions", p["roleAssignmentMode"]!.GetValue<string>());
        Assert.False(p["adminUserEnabled"]!.GetValue<bool>());
        Assert.False(p["anonymousPullEnabled"]!.GetValue<bool>());
        Assert.Equal("enabled", p["policies"]!["azureADAuthenticationAsArmPolicy"]!["status"]!.GetValue<string>());
        Assert.Equal("Allow", p["networkRuleSet"]!["defaultAction"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(p["loginServer"]!.GetValue<string>()));
        Assert.True(resp.Headers.Contains("x-ms-ratelimit-remaining-subscription-reads"));
        Assert.Equal(new[] { "aci-helloworld:v1", "hello-world:v1" }, H.World.FindRegistry("myContainerRegistry")!.Images);
    }

    [Fact]
    public async Task Missing_resource_and_group_are_404_with_arm_codes()
    {
        var (status, body, _) = await H.GetAsync($"{H.RgId}/providers/Microsoft.ContainerRegistry/registries/nope12345?{Acr}");
        Assert.Equal(404, status);
        Assert.Equal("ResourceNotFound", ArmHarness.Code(body));
        Assert.Contains("Microsoft.ContainerRegistry/registries/nope12345", ArmHarness.Message(body));

        (status, body, _) = await H.GetAsync($"/subscriptions/{H.Sub}/resourceGroups/noSuchGroup/providers/Microsoft.Web/sites/x?{Web}");
        Assert.Equal(404, status);
        Assert.Equal("ResourceGroupNotFound", ArmHarness.Code(body));

        (status, body, _) = await H.GetAsync($"/subscriptions/{Guid.NewGuid()}/resourceGroups?api-version=2021-04-01");
        Assert.Equal(404, status);
        Assert.Equal("SubscriptionNotFound", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Generic_resource_list_finds_the_registry_by_type_like_az_acr()
    {
        var (status, body, _) = await H.GetAsync(
            $"/subscriptions/{H.Sub}/resources?$filter=resourceType eq 'Microsoft.ContainerRegistry/registries'&api-version=2021-04-01");
        Assert.Equal(200, status);
        var items = body!["value"]!.AsArray();
        Assert.All(items, i => Assert.Equal("Microsoft.ContainerRegistry/registries", i!["type"]!.GetValue<string>()));
        var item = items.Single(i => i!["id"]!.GetValue<string>() == H.RegistryId)!;
        Assert.Null(item["properties"]);

        (status, body, _) = await H.GetAsync($"/subscriptions/{H.Sub}/resources?$filter=bogus(1)&api-version=2021-04-01");
        Assert.Equal(400, status);
        Assert.Equal("InvalidFilterInQueryString", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Provider_lists_resource_types_with_api_versions()
    {
        var (status, body, _) = await H.GetAsync($"/subscriptions/{H.Sub}/providers/microsoft.containerregistry?api-version=2021-04-01");
        Assert.Equal(200, status);
        Assert.Equal("Microsoft.ContainerRegistry", body!["namespace"]!.GetValue<string>());
        var registries = body["resourceTypes"]!.AsArray().Single(t => t!["resourceType"]!.GetValue<string>() == "registries")!;
        Assert.Equal("2025-11-01", registries["apiVersions"]![0]!.GetValue<string>());
        Assert.Equal("Registered", body["registrationState"]!.GetValue<string>());

        (status, body, _) = await H.GetAsync($"/subscriptions/{H.Sub}/providers/Microsoft.Nothing?api-version=2021-04-01");
        Assert.Equal(404, status);
        Assert.Equal("InvalidResourceNamespace", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Metadata_endpoints_serve_both_shapes_without_a_token()
    {
        var resp = await H.Http.GetAsync(H.Arm + "/metadata/endpoints?api-version=2015-01-01");
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        var old = JsonNode.Parse(await resp.Content.ReadAsStringAsync())!;
        Assert.Equal("https://management.core.windows.net/", old["authentication"]!["audiences"]![0]!.GetValue<string>());
        Assert.NotNull(old["authentication"]!["loginEndpoint"]);

        resp = await H.Http.GetAsync(H.Arm + "/metadata/endpoints?api-version=2022-09-01");
        var clouds = JsonNode.Parse(await resp.Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal(H.Arm + "/", clouds[0]!["resourceManager"]!.GetValue<string>());
        Assert.NotNull(clouds[0]!["suffixes"]!["acrLoginServer"]);
    }

    [Fact]
    public async Task Resource_group_put_201_then_200_and_delete()
    {
        var path = $"/subscriptions/{H.Sub}/resourcegroups/rg-put-test?api-version=2021-04-01";
        var (status, body, _) = await H.PutAsync(path, new JsonObject { ["location"] = "eastus" });
        Assert.Equal(201, status);
        Assert.Equal($"/subscriptions/{H.Sub}/resourceGroups/rg-put-test", body!["id"]!.GetValue<string>());
        (status, _, _) = await H.PutAsync(path, new JsonObject { ["location"] = "eastus" });
        Assert.Equal(200, status);
        (status, body, _) = await H.PutAsync(path, new JsonObject { ["location"] = "westeurope" });
        Assert.Equal(409, status);
        Assert.Equal("InvalidResourceGroupLocation", ArmHarness.Code(body));
        (status, _, _) = await H.DeleteAsync(path);
        Assert.Equal(200, status);
        (status, body, _) = await H.GetAsync(path);
        Assert.Equal(404, status);
        Assert.Equal("ResourceGroupNotFound", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Web_app_system_identity_patch_creates_and_removes_the_principal()
    {
        var app = await NewWebApp("idapp1");
        var (status, body, _) = await H.PatchAsync(app + "?" + Web, new JsonObject { ["identity"] = new JsonObject { ["type"] = "SystemAssigned" } });
        Assert.Equal(200, status);
        var pid = body!["identity"]!["principalId"]!.GetValue<string>();
        Assert.True(Guid.TryParse(pid, out _));
        Assert.Equal(H.World.TenantId, body["identity"]!["tenantId"]!.GetValue<string>());
        var principal = H.World.FindPrincipal(pid)!;
        Assert.Equal("ServicePrincipal", principal.PrincipalType);
        Assert.True(principal.IsManagedIdentity);
        Assert.NotEqual(principal.ObjectId, principal.AppId);

        // Same type again keeps the same principal.
        (_, body, _) = await H.PatchAsync(app + "?" + Web, new JsonObject { ["identity"] = new JsonObject { ["type"] = "SystemAssigned" } });
        Assert.Equal(pid, body!["identity"]!["principalId"]!.GetValue<string>());

        H.World.AddRoleAssignment(H.RegistryId, "AcrPull", pid);
        (status, body, _) = await H.PatchAsync(app + "?" + Web, new JsonObject { ["identity"] = new JsonObject { ["type"] = "None" } });
        Assert.Equal(200, status);
        Assert.Equal("None", body!["identity"]!["type"]!.GetValue<string>());
        Assert.Null(H.World.FindPrincipal(pid));
        // The assignment stays behind, orphaned, as in Azure.
        Assert.Contains(H.World.RoleAssignments(), a => a.PrincipalId == pid);
    }

    [Fact]
    public async Task Web_app_put_with_user_assigned_identity_fills_principal_and_client_ids()
    {
        var app = await NewWebApp("idapp2");
        var uami = $"/subscriptions/{H.Sub}/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/myACRId";
        var (_, site, _) = await H.GetAsync(app + "?" + Web);
        site!["identity"] = new JsonObject
        {
            ["type"] = "SystemAssigned, UserAssigned",
            ["userAssignedIdentities"] = new JsonObject { [uami] = new JsonObject() },
        };
        var (status, body, _) = await H.PutAsync(app + "?" + Web, site);
        Assert.Equal(200, status);
        var entry = body!["identity"]!["userAssignedIdentities"]![uami]!;
        var (_, id, _) = await H.GetAsync(uami + "?" + Msi);
        Assert.Equal(id!["properties"]!["principalId"]!.GetValue<string>(), entry["principalId"]!.GetValue<string>());
        Assert.Equal(id["properties"]!["clientId"]!.GetValue<string>(), entry["clientId"]!.GetValue<string>());
        Assert.Equal("SystemAssigned, UserAssigned", body["identity"]!["type"]!.GetValue<string>());
        Assert.NotNull(body["identity"]!["principalId"]);
    }

    [Fact]
    public async Task Web_config_put_and_patch_round_trip_acr_settings()
    {
        var app = await NewWebApp("cfgapp");
        var (status, body, _) = await H.GetAsync(app + "/config/web?" + Web);
        Assert.Equal(200, status);
        Assert.False(body!["properties"]!["acrUseManagedIdentityCreds"]!.GetValue<bool>());
        Assert.Equal("Microsoft.Web/sites/config", body["type"]!.GetValue<string>());

        (status, body, _) = await H.PatchAsync(app + "/config/web?" + Web,
            new JsonObject { ["properties"] = new JsonObject { ["acrUseManagedIdentityCreds"] = true, ["acrUserManagedIdentityID"] = "cid" } });
        Assert.Equal(200, status);
        Assert.True(body!["properties"]!["acrUseManagedIdentityCreds"]!.GetValue<bool>());
        // A PUT with nulls leaves the other settings alone (App Service ignores null config values).
        (status, body, _) = await H.PutAsync(app + "/config/web?" + Web,
            new JsonObject { ["properties"] = new JsonObject { ["linuxFxVersion"] = "DOCKER|x/y:1", ["acrUserManagedIdentityID"] = null } });
        Assert.Equal(200, status);
        Assert.Equal("cid", body!["properties"]!["acrUserManagedIdentityID"]!.GetValue<string>());
        (_, body, _) = await H.GetAsync(app + "?" + Web);
        Assert.Equal("DOCKER|x/y:1", body!["properties"]!["siteConfig"]!["linuxFxVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task App_settings_are_written_with_put_and_read_with_list()
    {
        var app = await NewWebApp("settingsapp");
        var (status, body, _) = await H.SendAsync(HttpMethod.Post, app + "/config/appsettings/list?" + Web, new JsonObject());
        Assert.Equal(200, status);
        Assert.Empty(body!["properties"]!.AsObject());
        (status, _, _) = await H.PutAsync(app + "/config/appsettings?" + Web,
            new JsonObject { ["properties"] = new JsonObject { ["DOCKER_REGISTRY_SERVER_URL"] = "https://x", ["WEBSITES_PORT"] = "80" } });
        Assert.Equal(200, status);
        (status, body, _) = await H.SendAsync(HttpMethod.Post, app + "/config/appsettings/list?" + Web, new JsonObject());
        Assert.Equal("https://x", body!["properties"]!["DOCKER_REGISTRY_SERVER_URL"]!.GetValue<string>());
        (status, _, _) = await H.SendAsync(HttpMethod.Post, app + "/config/appsettings/list?" + Web, new JsonObject(), "reader-app");
        Assert.Equal(403, status);
    }

    [Fact]
    public async Task Seed_web_app_points_at_the_registry_login_server()
    {
        var (_, body, _) = await H.GetAsync($"{H.RgId}/providers/Microsoft.Web/sites/myLinuxApp/config/web?{Web}");
        var login = H.World.FindRegistry("myContainerRegistry")!.LoginServer;
        Assert.Equal($"DOCKER|{login}/aci-helloworld:v1", body!["properties"]!["linuxFxVersion"]!.GetValue<string>());
        var (_, win, _) = await H.GetAsync($"{H.RgId}/providers/Microsoft.Web/sites/myWindowsApp?{Web}");
        Assert.Equal("app,container,windows", win!["kind"]!.GetValue<string>());
        Assert.Null(win["identity"]?["principalId"]);
    }

    [Fact]
    public async Task Slots_are_listed_and_carry_their_own_identity()
    {
        var app = await NewWebApp("slotapp");
        var (status, slot, _) = await H.PutAsync(app + "/slots/staging?" + Web,
            new JsonObject { ["location"] = "westus", ["identity"] = new JsonObject { ["type"] = "SystemAssigned" } });
        Assert.Equal(200, status);
        Assert.Equal("slotapp/staging", slot!["name"]!.GetValue<string>());
        Assert.Equal("Microsoft.Web/sites/slots", slot["type"]!.GetValue<string>());
        var (_, list, _) = await H.GetAsync(app + "/slots?" + Web);
        Assert.Single(list!["value"]!.AsArray());
        var (_, cfg, _) = await H.GetAsync(app + "/slots/staging/config/web?" + Web);
        Assert.Equal("Microsoft.Web/sites/slots/config", cfg!["type"]!.GetValue<string>());
        (status, var err, _) = await H.PutAsync($"{H.RgId}/providers/Microsoft.Web/sites/nosite/slots/s?{Web}", new JsonObject { ["location"] = "westus" });
        Assert.Equal(404, status);
        Assert.Equal("ParentResourceNotFound", ArmHarness.Code(err));
    }

    [Fact]
    public async Task User_assigned_identity_put_is_201_then_200_with_lowercase_resourcegroups()
    {
        var path = $"{H.RgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-put?{Msi}";
        var (status, body, _) = await H.PutAsync(path, new JsonObject { ["location"] = "westus" });
        Assert.Equal(201, status);
        Assert.Contains("/resourcegroups/myResourceGroup/", body!["id"]!.GetValue<string>());
        var clientId = body["properties"]!["clientId"]!.GetValue<string>();
        var principalId = body["properties"]!["principalId"]!.GetValue<string>();
        Assert.NotEqual(clientId, principalId);
        (status, body, _) = await H.PutAsync(path, new JsonObject { ["location"] = "westus", ["tags"] = new JsonObject { ["a"] = "b" } });
        Assert.Equal(200, status);
        Assert.Equal(principalId, body!["properties"]!["principalId"]!.GetValue<string>());
        Assert.Equal(clientId, H.World.FindPrincipal(principalId)!.AppId);

        (status, _, _) = await H.DeleteAsync(path);
        Assert.Equal(200, status);
        Assert.Null(H.World.FindPrincipal(principalId));
        (status, _, _) = await H.DeleteAsync(path);
        Assert.Equal(204, status);
    }

    [Fact]
    public async Task Vm_identity_patch_is_an_lro_and_null_removes_a_user_assigned_identity()
    {
        H.Host.Behaviours.LroDurations["virtualMachines"] = TimeSpan.FromMilliseconds(600);
        try
        {
            var vm = $"{H.RgId}/providers/Microsoft.Compute/virtualMachines/lroVM";
            var (status, _, _) = await H.PutAsync(vm + "?" + Vm, new JsonObject { ["location"] = "westus", ["properties"] = new JsonObject() });
            Assert.Equal(201, status);
            var u1 = (await NewIdentity("vmid1")); var u2 = (await NewIdentity("vmid2"));
            var (st, body, resp) = await H.PatchAsync(vm + "?" + Vm, new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["type"] = "SystemAssigned, UserAssigned",
                    ["userAssignedIdentities"] = new JsonObject { [u1] = new JsonObject(), [u2] = new JsonObject() },
                },
            });
            Assert.Equal(200, st);
            Assert.Equal("Updating", body!["properties"]!["provisioningState"]!.GetValue<string>());
            var op = resp.Headers.GetValues("Azure-AsyncOperation").Single();
            var (_, opBody, _) = await H.GetAsync(op);
            Assert.Equal("InProgress", opBody!["status"]!.GetValue<string>());
            await Task.Delay(700);
            (_, opBody, _) = await H.GetAsync(op);
            Assert.Equal("Succeeded", opBody!["status"]!.GetValue<string>());
            (_, body, _) = await H.GetAsync(vm + "?" + Vm);
            Assert.Equal("Succeeded", body!["properties"]!["provisioningState"]!.GetValue<string>());
            Assert.Equal(2, body["identity"]!["userAssignedIdentities"]!.AsObject().Count);

            (_, body, _) = await H.PatchAsync(vm + "?" + Vm, new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["type"] = "SystemAssigned, UserAssigned",
                    ["userAssignedIdentities"] = new JsonObject { [u1] = null },
                },
            });
            var remaining = body!["identity"]!["userAssignedIdentities"]!.AsObject();
            Assert.Single(remaining);
            Assert.True(remaining.ContainsKey(u2));
        }
        finally { H.Host.Behaviours.LroDurations.Clear(); }
    }

    [Fact]
    public async Task Container_group_put_is_an_lro_with_201()
    {
        var cg = $"{H.RgId}/providers/Microsoft.ContainerInstance/containerGroups/cg-lro?api-version=2023-05-01";
        var uami = await NewIdentity("cgid");
        var (status, body, resp) = await H.PutAsync(cg, new JsonObject
        {
            ["location"] = "westus",
            ["identity"] = new JsonObject { ["type"] = "UserAssigned", ["userAssignedIdentities"] = new JsonObject { [uami] = new JsonObject() } },
            ["properties"] = new JsonObject
            {
                ["osType"] = "Linux",
                ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["properties"] = new JsonObject { ["image"] = "x/y:1" } }),
                ["imageRegistryCredentials"] = new JsonArray(new JsonObject { ["server"] = "x", ["identity"] = uami }),
            },
        });
        Assert.Equal(201, status);
        Assert.True(resp.Headers.Contains("Azure-AsyncOperation"));
        Assert.Equal(uami, body!["properties"]!["imageRegistryCredentials"]![0]!["identity"]!.GetValue<string>());

        var principalsBefore = H.World.Principals(includeDeleted: true).Count;
        (status, body, _) = await H.PutAsync(cg.Replace("cg-lro", "cg-win"), new JsonObject
        {
            ["location"] = "westus",
            ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
            ["properties"] = new JsonObject { ["osType"] = "Windows", ["containers"] = new JsonArray() },
        });
        Assert.Equal(400, status);
        Assert.Equal("IdentityNotSupportedOnWindows", ArmHarness.Code(body));
        // A rejected write leaves no principal behind.
        Assert.Equal(principalsBefore, H.World.Principals(includeDeleted: true).Count);
    }

    [Fact]
    public async Task Aks_kubelet_identity_is_a_real_user_assigned_identity_in_the_node_group()
    {
        var (status, aks, _) = await H.GetAsync($"{H.RgId}/providers/Microsoft.ContainerService/managedClusters/myAKSCluster?api-version=2025-05-01");
        Assert.Equal(200, status);
        var kubelet = aks!["properties"]!["identityProfile"]!["kubeletidentity"]!;
        var resourceId = kubelet["resourceId"]!.GetValue<string>();
        Assert.Contains("/resourcegroups/MC_myResourceGroup_myAKSCluster_westus/", resourceId);
        var (st, uami, _) = await H.GetAsync(resourceId + "?" + Msi);
        Assert.Equal(200, st);
        Assert.Equal(kubelet["objectId"]!.GetValue<string>(), uami!["properties"]!["principalId"]!.GetValue<string>());
        Assert.Equal(kubelet["clientId"]!.GetValue<string>(), uami["properties"]!["clientId"]!.GetValue<string>());
        Assert.Equal("SystemAssigned", aks["identity"]!["type"]!.GetValue<string>());
        var (_, mc, _) = await H.GetAsync($"/subscriptions/{H.Sub}/resourceGroups/MC_myResourceGroup_myAKSCluster_westus?api-version=2021-04-01");
        Assert.Equal(aks["id"]!.GetValue<string>(), mc!["managedBy"]!.GetValue<string>());
    }

    [Fact]
    public async Task Container_app_patch_is_a_merge_patch()
    {
        var ca = $"{H.RgId}/providers/Microsoft.App/containerApps/myContainerApp?api-version=2025-07-01";
        var (status, body, _) = await H.PatchAsync(ca, new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["configuration"] = new JsonObject
                {
                    ["registries"] = new JsonArray(new JsonObject { ["server"] = "r.example", ["identity"] = "system" }),
                },
            },
        });
        Assert.Equal(200, status);
        var conf = body!["properties"]!["configuration"]!;
        Assert.Equal("system", conf["registries"]![0]!["identity"]!.GetValue<string>());
        // Untouched members survive the merge.
        Assert.Equal(80, conf["ingress"]!["targetPort"]!.GetValue<int>());
        Assert.NotNull(body["properties"]!["template"]!["containers"]![0]);
    }

    [Fact]
    public async Task Unknown_user_assigned_identity_is_rejected()
    {
        var app = await NewWebApp("badid");
        var (status, body, _) = await H.PatchAsync(app + "?" + Web, new JsonObject
        {
            ["identity"] = new JsonObject
            {
                ["type"] = "UserAssigned",
                ["userAssignedIdentities"] = new JsonObject { [$"{H.RgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ghost"] = new JsonObject() },
            },
        });
        Assert.Equal(400, status);
        Assert.Equal("InvalidUserAssignedIdentity", ArmHarness.Code(body));
    }

    [Fact]
    public async Task Registry_put_is_201_with_async_operation_and_name_checks()
    {
        var path = $"{H.RgId}/providers/Microsoft.ContainerRegistry/registries/newRegistry01?{Acr}";
        var (status, body, resp) = await H.PutAsync(path, new JsonObject { ["location"] = "westus", ["sku"] = new JsonObject { ["name"] = "Premium" } });
        Assert.Equal(201, status);
        Assert.True(resp.Headers.Contains("Azure-AsyncOperation"));
        Assert.Equal("Premium", body!["sku"]!["tier"]!.GetValue<string>());
        (status, body, _) = await H.PutAsync(path.Replace("newRegistry01", "a-b"), new JsonObject { ["location"] = "westus" });
        Assert.Equal(400, status);
        Assert.Equal("RegistryNameNotValid", ArmHarness.Code(body));
        (status, body, _) = await H.SendAsync(HttpMethod.Post, $"/subscriptions/{H.Sub}/providers/Microsoft.ContainerRegistry/checkNameAvailability?{Acr}",
            new JsonObject { ["name"] = "newregistry01", ["type"] = "Microsoft.ContainerRegistry/registries" });
        Assert.Equal(200, status);
        Assert.False(body!["nameAvailable"]!.GetValue<bool>());
        Assert.Equal("AlreadyExists", body["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reader_can_read_but_not_write_and_a_stranger_can_do_neither()
    {
        var (status, _, _) = await H.GetAsync(H.RegistryId + "?" + Acr, "reader-app");
        Assert.Equal(200, status);
        var (st, body, _) = await H.PatchAsync(H.RegistryId + "?" + Acr, new JsonObject { ["tags"] = new JsonObject { ["x"] = "y" } }, "reader-app");
        Assert.Equal(403, st);
        Assert.Equal("AuthorizationFailed", ArmHarness.Code(body));
        var reader = H.Principal("reader-app");
        Assert.Equal($"The client '{reader.AppId}' with object id '{reader.ObjectId}' does not have authorization to perform action " +
                     $"'Microsoft.ContainerRegistry/registries/write' over scope '{H.RegistryId}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            ArmHarness.Message(body));
        (st, body, _) = await H.GetAsync(H.RegistryId + "?" + Acr, "noaccess-app");
        Assert.Equal(403, st);
        Assert.Contains("Microsoft.ContainerRegistry/registries/read", ArmHarness.Message(body));
    }

    [Fact]
    public async Task Attaching_someone_elses_identity_needs_managed_identity_operator()
    {
        var app = await NewWebApp("linkedapp");
        var uami = await NewIdentity("linkedid");
        var contributor = H.World.AddServicePrincipal("contrib-app", secret: "c-secret");
        H.World.AddRoleAssignment(app, "Contributor", contributor.ObjectId);
        var body = new JsonObject
        {
            ["identity"] = new JsonObject { ["type"] = "UserAssigned", ["userAssignedIdentities"] = new JsonObject { [uami] = new JsonObject() } },
        };
        var (status, err, _) = await H.PatchAsync(app + "?" + Web, body, "contrib-app");
        Assert.Equal(403, status);
        Assert.Equal("LinkedAuthorizationFailed", ArmHarness.Code(err));
        H.World.AddRoleAssignment(uami, "Managed Identity Operator", contributor.ObjectId);
        (status, _, _) = await H.PatchAsync(app + "?" + Web, body, "contrib-app");
        Assert.Equal(200, status);
    }

    async Task<string> NewWebApp(string name)
    {
        var path = $"{H.RgId}/providers/Microsoft.Web/sites/{name}";
        var (status, _, _) = await H.PutAsync(path + "?" + Web, new JsonObject { ["location"] = "westus", ["kind"] = "app,linux,container" });
        Assert.Equal(200, status);
        return path;
    }

    async Task<string> NewIdentity(string name)
    {
        var (status, body, _) = await H.PutAsync($"{H.RgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}?{Msi}", new JsonObject { ["location"] = "westus" });
        Assert.Equal(201, status);
        return body!["id"]!.GetValue<string>();
    }
}
