using System.Text.Json.Nodes;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Targets;
using AcrIdentity.Engine.Tests.Support;

namespace AcrIdentity.Engine.Tests.Configure;

/// <summary>
/// Each seed recipe reproduced by one Enable call: the sandbox's state afterwards is what the recipe's
/// four to six az calls leave, and a second run writes nothing.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class EnableSeedTests : IDisposable
{
    private readonly SandboxFixture _sbx;

    public EnableSeedTests(SandboxFixture sandbox)
    {
        _sbx = sandbox;
        Reset();
    }

    public void Dispose() => Reset();

    private void Reset() => _sbx.Host.Behaviours.Reset();

    private const string AcrPullDefinition = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

    /// <summary>Exactly one assignment at the registry, for this principal, of this role, as the recipe's `az role assignment create` leaves it.</summary>
    private static async Task AssertSingleAssignmentAsync(EnableWorld w, string registryId, string principalId, string roleGuid = AcrPullDefinition, string? condition = null)
    {
        var all = await w.AssignmentsAsync(registryId);
        var mine = all.Where(a => string.Equals((string?)a["properties"]!["principalId"], principalId, StringComparison.OrdinalIgnoreCase)).ToList();
        var one = Assert.Single(mine);
        Assert.EndsWith("/" + roleGuid, (string)one["properties"]!["roleDefinitionId"]!, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("ServicePrincipal", (string?)one["properties"]!["principalType"]);
        if (condition != null) Assert.Equal(condition, (string?)one["properties"]!["condition"]);
    }

    private static async Task AssertSecondRunWritesNothingAsync(EnableWorld w, EnableRequest request)
    {
        int mark = w.Mark;
        var again = await w.EnableAsync(request);
        Assert.All(again, o => Assert.Null(o.Error));
        Assert.All(again.SelectMany(o => o.Steps), s => Assert.Equal(StepOutcome.AlreadyDone, s.Outcome));
        Assert.Empty(w.WritesSince(mark));
    }

    [Fact]
    public async Task Seed000_web_app_with_its_system_assigned_identity()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);

        var request = new EnableRequest { ResourceId = app, Registry = registryId.Split('/').Last() };
        var outcome = Assert.Single(await w.EnableAsync(request));

        Assert.Null(outcome.Error);
        Assert.Equal(new[] { StepKind.Identity, StepKind.RoleAssignment, StepKind.PullConfiguration }, outcome.Steps.Select(s => s.Kind));
        Assert.All(outcome.Steps, s => Assert.Equal(StepOutcome.Done, s.Outcome));
        var site = await w.GetAsync(app);
        Assert.Equal("SystemAssigned", (string?)site["identity"]!["type"]);
        string principal = (string)site["identity"]!["principalId"]!;
        Assert.Equal(principal, outcome.Identity!.PrincipalId);
        await AssertSingleAssignmentAsync(w, registryId, principal);
        var config = await w.GetAsync(app + "/config/web");
        Assert.True((bool)config["properties"]!["acrUseManagedIdentityCreds"]!);
        Assert.True(string.IsNullOrEmpty((string?)config["properties"]!["acrUserManagedIdentityID"]));
        // The PATCH touched only the two acr settings.
        Assert.Equal("keep-me", (string?)config["properties"]!["appCommandLine"]);
        Assert.Equal(outcome.RoleAssignmentId, outcome.Steps[1].ResourceId);

        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task Seed000_web_app_with_a_user_assigned_identity_by_client_id_keeps_its_system_identity()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, clientId, principalId) = await w.IdentityAsync();
        string app = await w.WebAppAsync(login, identityJson: """{"type":"SystemAssigned"}""");
        string systemPrincipal = (string)(await w.GetAsync(app))["identity"]!["principalId"]!;

        var host = new RecordingHost();
        var request = new EnableRequest { ResourceId = app, Registry = login.ToUpperInvariant(), UserAssignedIdentity = clientId };
        var outcome = Assert.Single(await w.EnableAsync(request, host));

        Assert.Null(outcome.Error);
        Assert.Contains(host.Verbose, l => l.Contains($"'{clientId}' is the client ID of", StringComparison.Ordinal));
        // The principal existed before: its role comes first, then the identity, then the switch.
        Assert.Equal(new[] { StepKind.RoleAssignment, StepKind.Identity, StepKind.PullConfiguration }, outcome.Steps.Select(s => s.Kind));
        var site = await w.GetAsync(app);
        Assert.Equal("SystemAssigned, UserAssigned", (string?)site["identity"]!["type"]);
        Assert.Equal(systemPrincipal, (string?)site["identity"]!["principalId"]);
        Assert.Contains(site["identity"]!["userAssignedIdentities"]!.AsObject(), kv => string.Equals(kv.Key, uamiId, StringComparison.OrdinalIgnoreCase));
        await AssertSingleAssignmentAsync(w, registryId, principalId);
        var config = await w.GetAsync(app + "/config/web");
        Assert.True((bool)config["properties"]!["acrUseManagedIdentityCreds"]!);
        Assert.Equal(clientId, (string?)config["properties"]!["acrUserManagedIdentityID"]);
        Assert.DoesNotContain(await w.AssignmentsAsync(registryId), a => (string?)a["properties"]!["principalId"] == systemPrincipal);

        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task Seed000_user_assigned_identity_given_by_principal_id_still_puts_the_client_id_in_the_config()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        var (_, clientId, principalId) = await w.IdentityAsync();
        string app = await w.WebAppAsync(login);
        var host = new RecordingHost();

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId, UserAssignedIdentity = principalId }, host));

        Assert.Null(outcome.Error);
        Assert.Contains(host.Verbose, l => l.Contains("is the principal (object) ID of", StringComparison.Ordinal));
        Assert.Equal(clientId, (string?)(await w.GetAsync(app + "/config/web"))["properties"]!["acrUserManagedIdentityID"]);
        await AssertSingleAssignmentAsync(w, registryId, principalId);
    }

    [Fact]
    public async Task Seed001_windows_container_web_app_with_system_identity()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login, windows: true);

        var request = new EnableRequest { ResourceId = app, Registry = "https://" + login + "/", IdentityType = PullIdentityType.SystemAssigned };
        var outcome = Assert.Single(await w.EnableAsync(request));

        Assert.Null(outcome.Error);
        Assert.Equal($"{login}/aci-helloworld:v1", Assert.Single(outcome.Images));
        var site = await w.GetAsync(app);
        Assert.Equal("SystemAssigned", (string?)site["identity"]!["type"]);
        await AssertSingleAssignmentAsync(w, registryId, (string)site["identity"]!["principalId"]!);
        var config = await w.GetAsync(app + "/config/web");
        Assert.True((bool)config["properties"]!["acrUseManagedIdentityCreds"]!);
        Assert.StartsWith("DOCKER|", (string?)config["properties"]!["windowsFxVersion"]);
        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task Seed002_container_group_with_a_user_assigned_identity()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, _, principalId) = await w.IdentityAsync();
        string group = await w.ContainerGroupAsync(login);

        var request = new EnableRequest { ResourceId = group, Registry = registryId, UserAssignedIdentity = uamiId };
        var outcome = Assert.Single(await w.EnableAsync(request));

        Assert.Null(outcome.Error);
        // The role goes first: Container Instances pulls as soon as the spec lands.
        Assert.Equal(StepKind.RoleAssignment, outcome.Steps[0].Kind);
        var g = await w.GetAsync(group);
        Assert.Equal("UserAssigned", (string?)g["identity"]!["type"]);
        Assert.Contains(g["identity"]!["userAssignedIdentities"]!.AsObject(), kv => string.Equals(kv.Key, uamiId, StringComparison.OrdinalIgnoreCase));
        var cred = Assert.Single(g["properties"]!["imageRegistryCredentials"]!.AsArray());
        Assert.Equal(login, (string?)cred!["server"], ignoreCase: true);
        Assert.Equal(uamiId, (string?)cred["identity"], ignoreCase: true);
        Assert.Equal($"{login}/hello-world:v1", (string?)g["properties"]!["containers"]![0]!["properties"]!["image"]);
        await AssertSingleAssignmentAsync(w, registryId, principalId);
        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task Seed003_aks_gets_AcrPull_for_the_kubelet_identity_not_the_control_plane()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, _) = await w.RegistryAsync();
        string cluster = await w.AksAsync();
        var before = await w.GetAsync(cluster);
        string kubelet = (string)before["properties"]!["identityProfile"]!["kubeletidentity"]!["objectId"]!;
        string controlPlane = (string)before["identity"]!["principalId"]!;

        var request = new EnableRequest { ResourceId = cluster, Registry = registryId };
        var outcome = Assert.Single(await w.EnableAsync(request));

        Assert.Null(outcome.Error);
        Assert.Equal(PullIdentityType.Kubelet, outcome.Identity!.Type);
        Assert.Equal(StepKind.RoleAssignment, Assert.Single(outcome.Steps).Kind);
        await AssertSingleAssignmentAsync(w, registryId, kubelet);
        Assert.DoesNotContain(await w.AssignmentsAsync(registryId), a => (string?)a["properties"]!["principalId"] == controlPlane);
        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task Seed004_vm_with_a_user_assigned_identity_by_name()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, _) = await w.RegistryAsync();
        string name = EnableWorld.Unique("myACRId");
        var (uamiId, _, principalId) = await w.IdentityAsync(name);
        string vm = await w.VmAsync();

        var request = new EnableRequest { ResourceId = vm, Registry = registryId.Split('/').Last(), UserAssignedIdentity = name };
        var outcome = Assert.Single(await w.EnableAsync(request));

        Assert.Null(outcome.Error);
        Assert.Equal(new[] { StepKind.RoleAssignment, StepKind.Identity }, outcome.Steps.Select(s => s.Kind));
        var v = await w.GetAsync(vm);
        Assert.Equal("UserAssigned", (string?)v["identity"]!["type"]);
        Assert.Contains(v["identity"]!["userAssignedIdentities"]!.AsObject(), kv => string.Equals(kv.Key, uamiId, StringComparison.OrdinalIgnoreCase));
        await AssertSingleAssignmentAsync(w, registryId, principalId);
        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task Seed004_vm_with_its_system_assigned_identity_keeps_an_existing_user_assigned_one()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, _) = await w.RegistryAsync();
        var (otherId, _, _) = await w.IdentityAsync();
        string vm = await w.VmAsync($$$$"""{"type":"UserAssigned","userAssignedIdentities":{"{{{{otherId}}}}":{}}}""");

        var request = new EnableRequest { ResourceId = vm, Registry = registryId, IdentityType = PullIdentityType.SystemAssigned };
        var outcome = Assert.Single(await w.EnableAsync(request));

        Assert.Null(outcome.Error);
        var v = await w.GetAsync(vm);
        Assert.Equal("SystemAssigned, UserAssigned", (string?)v["identity"]!["type"]);
        Assert.Single(v["identity"]!["userAssignedIdentities"]!.AsObject());
        await AssertSingleAssignmentAsync(w, registryId, (string)v["identity"]!["principalId"]!);
        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task Scale_set_gets_identity_and_role()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, _) = await w.RegistryAsync();
        string vmss = await w.VmAsync(scaleSet: true);
        var request = new EnableRequest { ResourceId = vmss, Registry = registryId };
        var outcome = Assert.Single(await w.EnableAsync(request));
        Assert.Null(outcome.Error);
        Assert.Equal("VirtualMachineScaleSet", outcome.TargetKind);
        await AssertSingleAssignmentAsync(w, registryId, (string)(await w.GetAsync(vmss))["identity"]!["principalId"]!);
        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task Container_app_gets_a_registries_entry_and_keeps_the_others()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, _, principalId) = await w.IdentityAsync();
        string app = await w.ContainerAppAsync(login);

        var request = new EnableRequest { ResourceId = app, Registry = registryId, UserAssignedIdentity = uamiId };
        var outcome = Assert.Single(await w.EnableAsync(request));

        Assert.Null(outcome.Error);
        var a = await w.GetAsync(app);
        var registries = a["properties"]!["configuration"]!["registries"]!.AsArray();
        Assert.Equal(2, registries.Count);
        Assert.Contains(registries, r => (string?)r!["server"] == "docker.io" && (string?)r["passwordSecretRef"] == "regpwd");
        Assert.Contains(registries, r => string.Equals((string?)r!["server"], login, StringComparison.OrdinalIgnoreCase) && string.Equals((string?)r["identity"], uamiId, StringComparison.OrdinalIgnoreCase));
        await AssertSingleAssignmentAsync(w, registryId, principalId);
        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task Container_app_with_its_system_identity_uses_the_word_system()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.ContainerAppAsync(login);
        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId }));
        Assert.Null(outcome.Error);
        var a = await w.GetAsync(app);
        Assert.Contains(a["properties"]!["configuration"]!["registries"]!.AsArray(), r => (string?)r!["identity"] == "system");
        await AssertSingleAssignmentAsync(w, registryId, (string)a["identity"]!["principalId"]!);
    }

    [Fact]
    public async Task Include_slots_configures_the_site_and_every_slot_each_with_its_own_identity()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        string staging = await w.SlotAsync(app, "staging");

        var request = new EnableRequest { ResourceId = app, Registry = registryId, IncludeSlots = true };
        var outcomes = await w.EnableAsync(request);

        Assert.Equal(2, outcomes.Count);
        Assert.All(outcomes, o => Assert.Null(o.Error));
        Assert.Equal("WebAppSlot", outcomes[1].TargetKind);
        string sitePrincipal = (string)(await w.GetAsync(app))["identity"]!["principalId"]!;
        string slotPrincipal = (string)(await w.GetAsync(staging))["identity"]!["principalId"]!;
        Assert.NotEqual(sitePrincipal, slotPrincipal);
        await AssertSingleAssignmentAsync(w, registryId, sitePrincipal);
        await AssertSingleAssignmentAsync(w, registryId, slotPrincipal);
        Assert.True((bool)(await w.GetAsync(staging + "/config/web"))["properties"]!["acrUseManagedIdentityCreds"]!);
        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task Slot_configures_only_that_slot()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        string staging = await w.SlotAsync(app, "staging");

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId, Slot = "staging" }));

        Assert.Null(outcome.Error);
        Assert.Equal(staging, outcome.TargetId, ignoreCase: true);
        Assert.Equal("None", (string?)(await w.GetAsync(app))["identity"]?["type"] ?? "None");
        Assert.False((bool)(await w.GetAsync(app + "/config/web"))["properties"]!["acrUseManagedIdentityCreds"]!);
    }

    [Fact]
    public async Task Abac_registry_gets_Repository_Reader_limited_to_the_repository()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync(abac: true);
        var (uamiId, _, principalId) = await w.IdentityAsync();
        string vm = await w.VmAsync();
        await w.AssignAsync(registryId, AcrPullDefinition, principalId);
        var host = new RecordingHost();

        var request = new EnableRequest { ResourceId = vm, Registry = registryId, UserAssignedIdentity = uamiId, Repository = "aci-helloworld" };
        var outcome = Assert.Single(await w.EnableAsync(request, host));

        Assert.Null(outcome.Error);
        Assert.Equal("Container Registry Repository Reader", outcome.Role!.Name);
        Assert.Contains(host.Warnings, l => l.Contains("AcrPull", StringComparison.Ordinal) && l.Contains("ABAC", StringComparison.Ordinal));
        var mine = (await w.AssignmentsAsync(registryId)).Where(a => (string?)a["properties"]!["principalId"] == principalId && ((string)a["properties"]!["roleDefinitionId"]!).EndsWith(PullRoles.RepositoryReader)).ToList();
        var one = Assert.Single(mine);
        Assert.Equal(PullRoles.Condition("aci-helloworld"), (string?)one["properties"]!["condition"]);
        Assert.Equal("2.0", (string?)one["properties"]!["conditionVersion"]);
        await AssertSecondRunWritesNothingAsync(w, request);
    }

    [Fact]
    public async Task A_broader_role_is_reported_not_duplicated_unless_forced()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, _) = await w.RegistryAsync();
        var (uamiId, _, principalId) = await w.IdentityAsync();
        string vm = await w.VmAsync($$$$"""{"type":"UserAssigned","userAssignedIdentities":{"{{{{uamiId}}}}":{}}}""");
        await w.AssignAsync(w.GroupId, PullRoles.Contributor, principalId);
        var host = new RecordingHost();

        int mark = w.Mark;
        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = vm, Registry = registryId, IdentityType = PullIdentityType.UserAssigned }, host));
        Assert.Null(outcome.Error);
        Assert.Equal(StepOutcome.AlreadyDone, outcome.Steps.Single(s => s.Kind == StepKind.RoleAssignment).Outcome);
        Assert.Contains("Contributor", outcome.Steps.Single(s => s.Kind == StepKind.RoleAssignment).Detail);
        Assert.Contains(host.Warnings, l => l.Contains("Contributor", StringComparison.Ordinal) && l.Contains("-Force", StringComparison.Ordinal));
        Assert.Empty(w.WritesSince(mark));

        var forced = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = vm, Registry = registryId, IdentityType = PullIdentityType.UserAssigned, Force = true }));
        Assert.Null(forced.Error);
        await AssertSingleAssignmentAsync(w, registryId, principalId);
    }

    [Fact]
    public async Task An_AcrPull_made_elsewhere_under_another_name_is_not_duplicated()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, _) = await w.RegistryAsync();
        var (uamiId, _, principalId) = await w.IdentityAsync();
        string vm = await w.VmAsync($$$$"""{"type":"UserAssigned","userAssignedIdentities":{"{{{{uamiId}}}}":{}}}""");
        await w.AssignAsync(registryId, AcrPullDefinition, principalId);

        int mark = w.Mark;
        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = vm, Registry = registryId, UserAssignedIdentity = uamiId }));
        Assert.Null(outcome.Error);
        Assert.Empty(w.WritesSince(mark));
        await AssertSingleAssignmentAsync(w, registryId, principalId);
    }

    [Fact]
    public async Task WhatIf_plans_every_step_and_writes_nothing()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        int mark = w.Mark;
        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId, PlanOnly = true }));
        Assert.Null(outcome.Error);
        Assert.Equal(3, outcome.Steps.Count);
        Assert.All(outcome.Steps, s => Assert.Equal(StepOutcome.Planned, s.Outcome));
        Assert.Empty(w.WritesSince(mark));
    }

    [Fact]
    public async Task A_declined_step_stops_that_target_there()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        string app = await w.WebAppAsync(login);
        var asked = new List<string>();
        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest
        {
            ResourceId = app,
            Registry = registryId,
            Approve = (target, action, ct) => { asked.Add(action); return Task.FromResult(asked.Count < 2); },
        }));
        Assert.True(outcome.Declined);
        Assert.Equal(new[] { StepOutcome.Done, StepOutcome.Declined, StepOutcome.NotRun }, outcome.Steps.Select(s => s.Outcome));
        Assert.Empty(await w.AssignmentsAsync(registryId));
    }

    [Fact]
    public async Task The_registry_policy_on_ARM_audience_tokens_is_reported()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (enabledId, login) = await w.RegistryAsync();
        string disabledName = EnableWorld.Unique("noarm");
        await w.PutAsync($"{w.GroupId}/providers/Microsoft.ContainerRegistry/registries/{disabledName}",
            """{"location":"westus","sku":{"name":"Premium"},"properties":{"policies":{"azureADAuthenticationAsArmPolicy":{"status":"disabled"}}}}""");
        string app = await w.WebAppAsync(login);

        var on = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = enabledId, PlanOnly = true }));
        var off = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = disabledName, PlanOnly = true }));

        Assert.True(on.Registry!.ArmAudienceTokensAllowed);
        Assert.False(off.Registry!.ArmAudienceTokensAllowed);
    }

    [Fact]
    public async Task A_principal_id_left_in_acrUserManagedIdentityID_is_named_and_replaced_by_the_client_id()
    {
        var w = await EnableWorld.CreateAsync(_sbx.Host);
        var (registryId, login) = await w.RegistryAsync();
        var (uamiId, clientId, principalId) = await w.IdentityAsync();
        string app = await w.WebAppAsync(login, identityJson: $$$$"""{"type":"UserAssigned","userAssignedIdentities":{"{{{{uamiId}}}}":{}}}""");
        // The classic mistake (pain point 3): the principal ID where App Service wants the client ID.
        await w.Arm.PatchAsync(app + "/config/web", JsonNode.Parse($$$"""{"properties":{"acrUseManagedIdentityCreds":true,"acrUserManagedIdentityID":"{{{principalId}}}"}}""")!, CancellationToken.None);
        var host = new RecordingHost();

        var outcome = Assert.Single(await w.EnableAsync(new EnableRequest { ResourceId = app, Registry = registryId, UserAssignedIdentity = uamiId }, host));

        Assert.Null(outcome.Error);
        Assert.Contains(host.Warnings, l => l.Contains("principal", StringComparison.OrdinalIgnoreCase) && l.Contains(principalId, StringComparison.Ordinal) && l.Contains("client ID", StringComparison.Ordinal));
        Assert.Equal(clientId, (string?)(await w.GetAsync(app + "/config/web"))["properties"]!["acrUserManagedIdentityID"]);
    }
}
