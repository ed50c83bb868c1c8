using System.Text.Json.Nodes;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox;

namespace AcrIdentity.Engine.Tests.Configure;

/// <summary>
/// Registries and identities in another subscription than the target (azure-container-apps#719 is the classic
/// failure), found by name across the subscriptions the caller sees. A sandbox of its own, since it adds a
/// subscription the shared one must not have.
/// </summary>
public sealed class EnableCrossSubscriptionTests : IAsyncLifetime
{
    private SandboxHost _host = null!;
    private string _stateDir = null!;
    private string _other = null!;

    public async Task InitializeAsync()
    {
        string? caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        Assert.False(string.IsNullOrEmpty(caDir), "run through tests/run");
        _stateDir = Directory.CreateTempSubdirectory("acrid-xsub").FullName;
        _host = await SandboxHost.StartAsync(new SandboxOptions { StateDir = _stateDir, CaDir = caDir, StartRegistries = false });
        _other = _host.World.AddSubscription(displayName: "Shared Services").SubscriptionId;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_stateDir, recursive: true); } catch (IOException) { }
    }

    private async Task<string> OtherGroupAsync(EnableWorld w, string name)
    {
        string id = $"/subscriptions/{_other}/resourceGroups/{name}";
        await w.Arm.PutAsync(id, new JsonObject { ["location"] = "westus" }, CancellationToken.None);
        return id;
    }

    [Fact]
    public async Task A_registry_and_an_identity_in_another_subscription_are_found_by_name_and_granted_there()
    {
        var w = await EnableWorld.CreateAsync(_host);
        string shared = await OtherGroupAsync(w, "shared");
        string regName = EnableWorld.Unique("sharedacr");
        var reg = (await w.Arm.PutAsync($"{shared}/providers/Microsoft.ContainerRegistry/registries/{regName}", JsonNode.Parse("""{"location":"westus","sku":{"name":"Standard"}}""")!, CancellationToken.None)).Object!;
        string registryId = (string)reg["id"]!;
        string idName = EnableWorld.Unique("pullid");
        var mi = (await w.Arm.PutAsync($"{shared}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{idName}", JsonNode.Parse("""{"location":"westus"}""")!, CancellationToken.None)).Object!;
        string app = await w.WebAppAsync((string)reg["properties"]!["loginServer"]!);
        var host = new RecordingHost();

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = regName, UserAssignedIdentity = idName }, host));

        Assert.Null(outcome.Error);
        Assert.Equal(registryId, outcome.Registry!.RegistryId, ignoreCase: true);
        var assignment = Assert.Single(await w.AssignmentsAsync(registryId));
        Assert.Equal((string)mi["properties"]!["principalId"]!, (string?)assignment["properties"]!["principalId"]);
        // The role definition is the registry's subscription's, not the caller's.
        Assert.StartsWith($"/subscriptions/{_other}/", (string)assignment["properties"]!["roleDefinitionId"]!, StringComparison.OrdinalIgnoreCase);
        Assert.Equal((string)mi["properties"]!["clientId"]!, (string?)(await w.GetAsync(app + "/config/web"))["properties"]!["acrUserManagedIdentityID"]);
    }

    [Fact]
    public async Task Registry_names_are_global_so_a_login_server_finds_exactly_one_registry()
    {
        var w = await EnableWorld.CreateAsync(_host);
        string shared = await OtherGroupAsync(w, "dup");
        var (registryId, login) = await w.RegistryAsync();
        string name = registryId.Split('/').Last();
        // ARM refuses a second registry of the same name (global DNS name), so a same-named one elsewhere cannot exist;
        // what can exist is a name that resolves only outside the current subscription.
        var put = await Assert.ThrowsAsync<Arm.ArmRequestException>(() =>
            w.Arm.PutAsync($"{shared}/providers/Microsoft.ContainerRegistry/registries/{name}", JsonNode.Parse("""{"location":"westus","sku":{"name":"Standard"}}""")!, CancellationToken.None));
        Assert.Equal(409, put.Status);
        string app = await w.WebAppAsync(login);
        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = login }));
        Assert.Null(outcome.Error);
        Assert.Equal(registryId, outcome.Registry!.RegistryId, ignoreCase: true);
    }

    [Fact]
    public async Task Long_running_writes_are_waited_for()
    {
        var w = await EnableWorld.CreateAsync(_host);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, _, _) = await w.IdentityAsync();
        string group = await w.ContainerGroupAsync(login);
        string vm = await w.VmAsync();
        _host.Behaviours.LroDuration = TimeSpan.FromSeconds(1);
        try
        {
            var g = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = group, Registry = registryId, UserAssignedIdentity = uamiId }));
            var v = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = vm, Registry = registryId }));
            Assert.Null(g.Error);
            Assert.Null(v.Error);
        }
        finally
        {
            _host.Behaviours.LroDuration = TimeSpan.Zero;
        }
        Assert.Equal("Succeeded", (string?)(await w.GetAsync(group))["properties"]!["provisioningState"]);
        Assert.Equal(2, (await w.AssignmentsAsync(registryId)).Count);
    }

    [Fact]
    public async Task A_subscription_the_caller_cannot_list_is_skipped_in_searches()
    {
        var w = await EnableWorld.CreateAsync(_host);
        var (registryId, login) = await w.RegistryAsync();
        var (_, clientId, principalId) = await w.IdentityAsync();
        string app = await w.WebAppAsync(login);
        foreach (string type in new[] { "Microsoft.ContainerRegistry/registries", "Microsoft.ManagedIdentity/userAssignedIdentities" })
        {
            _host.Behaviours.Faults.Add(new AcrIdentity.Sandbox.Behaviour.FaultRule
            {
                Method = "GET", PathContains = $"/subscriptions/{_other}/providers/{type}", Status = 403, Code = "AuthorizationFailed", Message = "No read here.", Count = 100,
            });
        }
        try
        {
            // A GUID is searched in every subscription; the unreadable one must not turn success into AuthorizationFailed.
            var ok = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId, UserAssignedIdentity = clientId }));
            Assert.Null(ok.Error);
            Assert.Equal(principalId, ok.Identity!.PrincipalId);
            var missing = await Assert.ThrowsAsync<EngineException>(() => w.EnableAsync(new EnableRequest { ResourceId = app, Registry = "nosuchregistry1" }));
            Assert.Equal("RegistryNotFound", missing.Reason);
        }
        finally
        {
            _host.Behaviours.Faults.Clear();
        }
    }
}
