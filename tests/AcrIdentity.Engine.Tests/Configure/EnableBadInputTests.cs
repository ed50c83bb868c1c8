using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Targets;
using AcrIdentity.Engine.Tests.Support;
using AcrIdentity.Sandbox;

namespace AcrIdentity.Engine.Tests.Configure;

/// <summary>
/// The bad-input corpus: every case gets its own specific reason and a recommended action, and the sandbox's
/// log shows no write at all.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class EnableBadInputTests
{
    private readonly SandboxFixture _sbx;

    public EnableBadInputTests(SandboxFixture sandbox)
    {
        _sbx = sandbox;
        _sbx.Host.Behaviours.Faults.Clear();
        _sbx.Host.Behaviours.Throttling.Enabled = false;
    }

    /// <summary>One world for the whole corpus (built once per sandbox).</summary>
    public sealed class Corpus
    {
        public required EnableWorld World { get; init; }
        public required string Registry { get; init; }
        public required string RegistryName { get; init; }
        public required string AbacRegistry { get; init; }
        public required string Uami { get; init; }
        public required string WebApp { get; init; }
        public required string WebAppPrincipal { get; init; }
        public required string Slot { get; init; }
        public required string Vm { get; init; }
        public required string Aks { get; init; }
        public required string LinuxGroup { get; init; }
        public required string WindowsGroup { get; init; }
        public required string VnetGroup { get; init; }
        public required string CanadaGroup { get; init; }
        public required string PasswordGroup { get; init; }
    }

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static (SandboxHost Host, Corpus Corpus)? s_corpus;

    private async Task<Corpus> CorpusAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (s_corpus is { } c && ReferenceEquals(c.Host, _sbx.Host)) return c.Corpus;
            var w = await EnableWorld.CreateAsync(_sbx.Host);
            var (registry, login) = await w.RegistryAsync();
            var (abac, _) = await w.RegistryAsync(abac: true);
            var (uami, _, _) = await w.IdentityAsync();
            string app = await w.WebAppAsync(login, identityJson: """{"type":"SystemAssigned"}""");
            var corpus = new Corpus
            {
                World = w,
                Registry = registry,
                RegistryName = registry.Split('/').Last(),
                AbacRegistry = abac,
                Uami = uami,
                WebApp = app,
                WebAppPrincipal = (string)(await w.GetAsync(app))["identity"]!["principalId"]!,
                Slot = await w.SlotAsync(app, "staging"),
                Vm = await w.VmAsync(),
                Aks = await w.AksAsync(),
                LinuxGroup = await w.ContainerGroupAsync(login),
                WindowsGroup = await w.ContainerGroupAsync(login, os: "Windows"),
                VnetGroup = await w.ContainerGroupAsync(login, vnet: true),
                CanadaGroup = await w.ContainerGroupAsync(login, location: "canadacentral"),
                PasswordGroup = await w.ContainerGroupAsync(login, extraCredentials: """{"server":"docker.io","username":"me","password":"pw"}"""),
            };
            s_corpus = (_sbx.Host, corpus);
            return corpus;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static string Sub(Corpus c) => c.World.SubscriptionId;

    public static IEnumerable<object[]> Cases() => new (string Name, string Reason)[]
    {
        ("empty resource ID", "ResourceIdRequired"),
        ("a name instead of an ID", "InvalidResourceId"),
        ("subscription that is not a GUID", "InvalidResourceId"),
        ("resource group ID", "InvalidResourceId"),
        ("ID with an empty segment", "InvalidResourceId"),
        ("storage account", "UnsupportedTargetKind"),
        ("the registry as target", "UnsupportedTargetKind"),
        ("an identity as target", "UnsupportedTargetKind"),
        ("web app that does not exist", "TargetNotFound"),
        ("registry name too short", "InvalidRegistryName"),
        ("registry name with symbols", "InvalidRegistryName"),
        ("registry name not found", "RegistryNotFound"),
        ("login server not found", "RegistryNotFound"),
        ("malformed registry ID", "InvalidRegistryId"),
        ("web app ID as registry", "RegistryIdWrongKind"),
        ("registry ID that does not exist", "RegistryNotFound"),
        ("VM ID as identity", "IdentityIdWrongKind"),
        ("registry ID as identity", "IdentityIdWrongKind"),
        ("unknown GUID as identity", "UserAssignedIdentityNotFound"),
        ("unknown identity name", "UserAssignedIdentityNotFound"),
        ("identity name with spaces", "InvalidIdentityName"),
        ("malformed identity ID", "InvalidIdentityResourceId"),
        ("the app's own system principal ID as user-assigned", "SystemAssignedPrincipalGiven"),
        ("SystemAssigned with a user-assigned identity", "ConflictingIdentityType"),
        ("-Slot with -IncludeSlots", "ConflictingSlotParameters"),
        ("-Slot on a VM", "SlotsNotApplicable"),
        ("-IncludeSlots on a slot ID", "SlotsNotApplicable"),
        ("slot name with a slash", "InvalidSlotName"),
        ("slot that does not exist", "TargetNotFound"),
        ("-Repository on a legacy registry", "RepositoryNeedsAbacMode"),
        ("invalid repository on an ABAC registry", "InvalidRepositoryName"),
        ("Windows container group", "ContainerGroupWindowsUnsupported"),
        ("VNet-injected container group", "ContainerGroupVNetUnsupported"),
        ("container group in Canada Central", "ContainerGroupRegionUnsupported"),
        ("container group with a system-assigned identity", "ContainerGroupNeedsUserAssignedIdentity"),
        ("container group with another registry's password", "ContainerGroupHasPasswordCredentials"),
        ("AKS with a user-assigned identity", "IdentityFixedByTarget"),
        ("UserAssigned type with none attached", "UserAssignedIdentityRequired"),
        ("negative propagation timeout", "InvalidPropagationTimeout"),
    }.Select(c => new object[] { c.Name, c.Reason });

    private static EnableRequest Build(string name, Corpus c)
    {
        string rg = $"/subscriptions/{Sub(c)}/resourceGroups/{c.World.Group}";
        EnableRequest R(string id, string? registry = null) => new() { ResourceId = id, Registry = registry ?? c.Registry };
        return name switch
        {
            "empty resource ID" => R(""),
            "a name instead of an ID" => R("myLinuxApp"),
            "subscription that is not a GUID" => R("/subscriptions/mysub/resourceGroups/rg/providers/Microsoft.Web/sites/app"),
            "resource group ID" => R(rg),
            "ID with an empty segment" => R(rg + "/providers/Microsoft.Web/sites//app"),
            "storage account" => R(rg + "/providers/Microsoft.Storage/storageAccounts/store1"),
            "the registry as target" => R(c.Registry),
            "an identity as target" => R(c.Uami),
            "web app that does not exist" => R(rg + "/providers/Microsoft.Web/sites/nosuchapp"),
            "registry name too short" => R(c.WebApp, "acr"),
            "registry name with symbols" => R(c.WebApp, "my_registry!"),
            "registry name not found" => R(c.WebApp, "nosuchregistry1"),
            "login server not found" => R(c.WebApp, "nosuchregistry1.azurecr.io"),
            "malformed registry ID" => R(c.WebApp, $"/subscriptions/{Sub(c)}/resourceGroups/x"),
            "web app ID as registry" => R(c.WebApp, c.WebApp),
            "registry ID that does not exist" => R(c.WebApp, rg + "/providers/Microsoft.ContainerRegistry/registries/nosuchregistry1"),
            "VM ID as identity" => new() { ResourceId = c.WebApp, Registry = c.Registry, UserAssignedIdentity = c.Vm },
            "registry ID as identity" => new() { ResourceId = c.WebApp, Registry = c.Registry, UserAssignedIdentity = c.Registry },
            "unknown GUID as identity" => new() { ResourceId = c.WebApp, Registry = c.Registry, UserAssignedIdentity = Guid.NewGuid().ToString() },
            "unknown identity name" => new() { ResourceId = c.WebApp, Registry = c.Registry, UserAssignedIdentity = "nosuchidentity" },
            "identity name with spaces" => new() { ResourceId = c.WebApp, Registry = c.Registry, UserAssignedIdentity = "my identity" },
            "malformed identity ID" => new() { ResourceId = c.WebApp, Registry = c.Registry, UserAssignedIdentity = $"/subscriptions/{Sub(c)}/resourcegroups/rg/providers/Microsoft.ManagedIdentity" },
            "the app's own system principal ID as user-assigned" => new() { ResourceId = c.WebApp, Registry = c.Registry, UserAssignedIdentity = c.WebAppPrincipal },
            "SystemAssigned with a user-assigned identity" => new() { ResourceId = c.WebApp, Registry = c.Registry, IdentityType = PullIdentityType.SystemAssigned, UserAssignedIdentity = c.Uami },
            "-Slot with -IncludeSlots" => new() { ResourceId = c.WebApp, Registry = c.Registry, Slot = "staging", IncludeSlots = true },
            "-Slot on a VM" => new() { ResourceId = c.Vm, Registry = c.Registry, Slot = "staging" },
            "-IncludeSlots on a slot ID" => new() { ResourceId = c.Slot, Registry = c.Registry, IncludeSlots = true },
            "slot name with a slash" => new() { ResourceId = c.WebApp, Registry = c.Registry, Slot = "a/b" },
            "slot that does not exist" => new() { ResourceId = c.WebApp, Registry = c.Registry, Slot = "nosuchslot" },
            "-Repository on a legacy registry" => new() { ResourceId = c.WebApp, Registry = c.Registry, Repository = "aci-helloworld" },
            "invalid repository on an ABAC registry" => new() { ResourceId = c.WebApp, Registry = c.AbacRegistry, Repository = "Bad Repo" },
            "Windows container group" => new() { ResourceId = c.WindowsGroup, Registry = c.Registry, UserAssignedIdentity = c.Uami },
            "VNet-injected container group" => new() { ResourceId = c.VnetGroup, Registry = c.Registry, UserAssignedIdentity = c.Uami },
            "container group in Canada Central" => new() { ResourceId = c.CanadaGroup, Registry = c.Registry, UserAssignedIdentity = c.Uami },
            "container group with a system-assigned identity" => R(c.LinuxGroup),
            "container group with another registry's password" => new() { ResourceId = c.PasswordGroup, Registry = c.Registry, UserAssignedIdentity = c.Uami },
            "AKS with a user-assigned identity" => new() { ResourceId = c.Aks, Registry = c.Registry, UserAssignedIdentity = c.Uami },
            "UserAssigned type with none attached" => new() { ResourceId = c.Vm, Registry = c.Registry, IdentityType = PullIdentityType.UserAssigned },
            "negative propagation timeout" => new() { ResourceId = c.WebApp, Registry = c.Registry, PropagationTimeout = TimeSpan.FromSeconds(-1) },
            _ => throw new ArgumentException(name),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_gets_a_specific_error_and_no_write(string name, string reason)
    {
        Corpus c = await CorpusAsync();
        EnableRequest request = Build(name, c);
        int mark = c.World.Mark;

        EngineException? error = null;
        try
        {
            var outcomes = await c.World.EnableAsync(request);
            error = Assert.Single(outcomes).Error;
        }
        catch (EngineException ex)
        {
            error = ex;
        }

        Assert.NotNull(error);
        Assert.Equal(reason, error!.Reason);
        Assert.False(string.IsNullOrWhiteSpace(error.RecommendedAction), "every bad input says what to do");
        Assert.Empty(c.World.WritesSince(mark));
    }

    [Fact]
    public void The_corpus_has_at_least_30_distinct_cases() => Assert.True(Cases().Count() >= 30);
}
