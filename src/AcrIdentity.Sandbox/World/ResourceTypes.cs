namespace AcrIdentity.Sandbox.World;

/// <summary>How long-running a type's writes are.</summary>
public enum LroStyle { None, AsyncOperation, Location }

/// <summary>One ARM resource type the sandbox serves: api-versions (newest first) and write behaviour.</summary>
public sealed record ResourceTypeSpec(
    string Type,
    string[] ApiVersions,
    bool CarriesIdentity,
    LroStyle PutLro = LroStyle.None,
    LroStyle PatchLro = LroStyle.None,
    LroStyle DeleteLro = LroStyle.None,
    /// <summary>Behaviours.LroDuration key; null = completes at once.</summary>
    string? LroKind = null);

public static class ResourceTypes
{
    public const string Registry = "Microsoft.ContainerRegistry/registries";
    public const string Site = "Microsoft.Web/sites";
    public const string Slot = "Microsoft.Web/sites/slots";
    public const string ContainerGroup = "Microsoft.ContainerInstance/containerGroups";
    public const string VirtualMachine = "Microsoft.Compute/virtualMachines";
    public const string ScaleSet = "Microsoft.Compute/virtualMachineScaleSets";
    public const string UserAssignedIdentity = "Microsoft.ManagedIdentity/userAssignedIdentities";
    public const string ManagedCluster = "Microsoft.ContainerService/managedClusters";
    public const string ContainerApp = "Microsoft.App/containerApps";
    public const string ManagedEnvironment = "Microsoft.App/managedEnvironments";
    public const string ServerFarm = "Microsoft.Web/serverfarms";

    // Real api-versions of each provider, newest first (az 2.45, Az PowerShell and the .NET SDKs each pin one).
    static readonly string[] AcrVersions = ["2025-11-01", "2025-05-01-preview", "2025-04-01", "2024-11-01-preview", "2023-11-01-preview", "2023-08-01-preview", "2023-07-01", "2023-06-01-preview", "2023-01-01-preview", "2022-12-01", "2022-02-01-preview", "2021-12-01-preview", "2021-09-01", "2021-08-01-preview", "2021-06-01-preview", "2020-11-01-preview", "2019-12-01-preview", "2019-05-01", "2017-10-01"];
    static readonly string[] WebVersions = ["2025-05-01", "2025-03-01", "2024-11-01", "2024-04-01", "2023-12-01", "2023-01-01", "2022-09-01", "2022-03-01", "2021-03-01", "2021-02-01", "2021-01-15", "2021-01-01", "2020-12-01", "2020-10-01", "2020-09-01", "2020-06-01", "2019-08-01", "2018-11-01", "2018-02-01", "2016-08-01"];
    static readonly string[] AciVersions = ["2025-09-01", "2024-11-01-preview", "2024-10-01-preview", "2024-05-01-preview", "2023-05-01", "2023-02-01-preview", "2022-10-01-preview", "2022-09-01", "2021-10-01", "2021-09-01", "2021-07-01", "2021-03-01", "2020-11-01"];
    static readonly string[] ComputeVersions = ["2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-09-01", "2023-07-01", "2023-03-01", "2022-11-01", "2022-08-01", "2022-03-01", "2021-11-01", "2021-07-01", "2021-04-01", "2021-03-01", "2020-12-01", "2020-06-01", "2019-12-01", "2019-07-01"];
    static readonly string[] MsiVersions = ["2024-11-30", "2023-07-31-preview", "2023-01-31", "2022-01-31-preview", "2021-09-30-preview", "2018-11-30", "2015-08-31-preview"];
    static readonly string[] AksVersions = ["2025-05-01", "2025-03-01", "2025-02-01", "2025-01-01", "2024-10-01", "2024-09-01", "2024-08-01", "2024-07-01", "2024-06-01", "2024-05-01", "2024-02-01", "2024-01-01", "2023-11-01", "2023-10-01", "2023-08-01", "2023-07-01", "2023-06-01", "2023-05-01", "2023-04-01", "2023-03-01", "2023-02-01", "2023-01-01", "2022-11-01", "2022-09-01", "2022-07-01", "2022-06-01", "2022-04-01"];
    static readonly string[] AppVersions = ["2025-07-01", "2025-02-02-preview", "2025-01-01", "2024-10-02-preview", "2024-03-01", "2024-02-02-preview", "2023-11-02-preview", "2023-08-01-preview", "2023-05-01", "2023-04-01-preview", "2022-11-01-preview", "2022-10-01", "2022-06-01-preview", "2022-03-01"];

    public static readonly IReadOnlyList<ResourceTypeSpec> All =
    [
        new(Registry, AcrVersions, true, LroStyle.AsyncOperation, LroStyle.AsyncOperation, LroStyle.None),
        new(Site, WebVersions, true),
        new(Slot, WebVersions, true),
        new(ServerFarm, WebVersions, false),
        new(ContainerGroup, AciVersions, true, LroStyle.AsyncOperation, LroStyle.None, LroStyle.None, "containerGroups"),
        new(VirtualMachine, ComputeVersions, true, LroStyle.AsyncOperation, LroStyle.AsyncOperation, LroStyle.AsyncOperation, "virtualMachines"),
        new(ScaleSet, ComputeVersions, true, LroStyle.AsyncOperation, LroStyle.AsyncOperation, LroStyle.AsyncOperation, "virtualMachines"),
        new(UserAssignedIdentity, MsiVersions, false),
        new(ManagedCluster, AksVersions, true, LroStyle.AsyncOperation, LroStyle.AsyncOperation, LroStyle.AsyncOperation, "managedClusters"),
        new(ContainerApp, AppVersions, true, LroStyle.AsyncOperation, LroStyle.Location, LroStyle.Location, "containerApps"),
        new(ManagedEnvironment, AppVersions, true, LroStyle.AsyncOperation, LroStyle.None, LroStyle.None),
    ];

    /// <summary>The spec for a full type (nested types like Microsoft.Web/sites/config use their root's versions).</summary>
    public static ResourceTypeSpec? Find(string type) =>
        All.FirstOrDefault(t => t.Type.Equals(type, StringComparison.OrdinalIgnoreCase));

    public static string[]? ApiVersionsFor(string type)
    {
        var exact = Find(type);
        if (exact is not null) return exact.ApiVersions;
        var root = All.Where(t => type.StartsWith(t.Type + "/", StringComparison.OrdinalIgnoreCase)).OrderByDescending(t => t.Type.Length).FirstOrDefault();
        return root?.ApiVersions;
    }

    /// <summary>The type with the sandbox's canonical casing (ARM returns the registered casing).</summary>
    public static string Canonical(string type) => Find(type)?.Type ?? type;
}
