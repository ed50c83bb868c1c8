using System.Text.RegularExpressions;

namespace AcrIdentity.Sandbox.World;

public sealed record Permission(IReadOnlyList<string> Actions, IReadOnlyList<string> NotActions,
    IReadOnlyList<string> DataActions, IReadOnlyList<string> NotDataActions);

public sealed class RoleDefinition
{
    /// <summary>The GUID (the resource name).</summary>
    public required string Name { get; init; }
    public required string RoleName { get; set; }
    /// <summary>BuiltInRole or CustomRole.</summary>
    public required string RoleType { get; init; }
    public string Description { get; set; } = "";
    public List<string> AssignableScopes { get; set; } = ["/"];
    public List<Permission> Permissions { get; set; } = [];
    /// <summary>Custom roles: the scope they were created at (e.g. /subscriptions/{s}); null for built-ins.</summary>
    public string? DefinedAtScope { get; init; }
    public DateTimeOffset CreatedOn { get; init; }
    public DateTimeOffset UpdatedOn { get; set; }

    public bool AllowsAction(string action) => Permissions.Any(p =>
        p.Actions.Any(a => Rbac.Matches(a, action)) && !p.NotActions.Any(a => Rbac.Matches(a, action)));

    public bool AllowsDataAction(string action) => Permissions.Any(p =>
        p.DataActions.Any(a => Rbac.Matches(a, action)) && !p.NotDataActions.Any(a => Rbac.Matches(a, action)));
}

public sealed class RoleAssignment
{
    /// <summary>The GUID (the resource name), stored casing.</summary>
    public required string Name { get; init; }
    /// <summary>The scope with its stored casing.</summary>
    public required string Scope { get; init; }
    public required string RoleDefinitionName { get; init; }
    public required string PrincipalId { get; init; }
    public required string PrincipalType { get; init; }
    public string? Condition { get; set; }
    public string? ConditionVersion { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedOn { get; init; }
    public DateTimeOffset UpdatedOn { get; set; }
    public string? CreatedBy { get; init; }
    public string? UpdatedBy { get; set; }

    public string Id => (Scope == "/" ? "" : Scope) + "/providers/Microsoft.Authorization/roleAssignments/" + Name;
}

public static class Rbac
{
    public const string Owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    public const string Contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c";
    public const string Reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
    public const string UserAccessAdministrator = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
    public const string RbacAdministrator = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
    public const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    public const string AcrPush = "8311e382-0749-4cb8-b61a-304f252e45ec";
    public const string AcrDelete = "c2f4ef07-c644-48eb-af81-4b1b4947fb11";
    public const string RepositoryReader = "b93aa761-3e63-49ed-ac28-beffa264f7ac";
    public const string RepositoryWriter = "2a1e307c-b015-4ebd-883e-5b7698a07328";
    public const string RepositoryContributor = "2efddaa5-3f1f-4df3-97df-af3f13818f4c";
    public const string RepositoryCatalogLister = "bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7";
    public const string DataImporterAndDataReader = "577a9874-89fd-4f24-9dbd-b5034d0ad23a";
    public const string ManagedIdentityOperator = "f1a07417-d97a-45cb-824c-7a7467783830";
    public const string ManagedIdentityContributor = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59";

    const string Cr = "Microsoft.ContainerRegistry/registries/";

    /// <summary>Action match: case-insensitive, '*' matches any run of characters (as ARM does).</summary>
    public static bool Matches(string pattern, string action)
    {
        if (pattern == "*") return true;
        if (!pattern.Contains('*')) return string.Equals(pattern, action, StringComparison.OrdinalIgnoreCase);
        var rx = "^" + Regex.Escape(pattern).Replace("\\*", ".*") + "$";
        return Regex.IsMatch(action, rx, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    static Permission P(string[] actions, string[]? notActions = null, string[]? data = null, string[]? notData = null) =>
        new(actions, notActions ?? [], data ?? [], notData ?? []);

    /// <summary>The built-in roles the sandbox knows (GUIDs as in Azure).</summary>
    public static IEnumerable<RoleDefinition> BuiltIns(DateTimeOffset created)
    {
        RoleDefinition R(string id, string name, string desc, Permission p) => new()
        {
            Name = id, RoleName = name, RoleType = "BuiltInRole", Description = desc, Permissions = [p],
            CreatedOn = created, UpdatedOn = created,
        };
        yield return R(Owner, "Owner", "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.", P(["*"]));
        yield return R(Contributor, "Contributor", "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
            P(["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action",
                "Microsoft.Blueprint/blueprintAssignments/write", "Microsoft.Blueprint/blueprintAssignments/delete",
                "Microsoft.Compute/galleries/share/action", "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
                "Microsoft.Resources/deploymentStacks/manageDenySetting/action", "Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action"]));
        yield return R(Reader, "Reader", "View all resources, but does not allow you to make any changes.", P(["*/read"]));
        yield return R(UserAccessAdministrator, "User Access Administrator", "Lets you manage user access to Azure resources.",
            P(["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"]));
        yield return R(RbacAdministrator, "Role Based Access Control Administrator", "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.",
            P(["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete", "*/read", "Microsoft.Support/*"]));
        yield return R(AcrPull, "AcrPull", "acr pull", P([Cr + "pull/read"]));
        yield return R(AcrPush, "AcrPush", "acr push", P([Cr + "pull/read", Cr + "push/write"]));
        yield return R(AcrDelete, "AcrDelete", "acr delete", P([Cr + "artifacts/delete"]));
        yield return R(RepositoryReader, "Container Registry Repository Reader", "Allows for read access to Azure Container Registry repositories, but excluding catalog listing.",
            P([], data: [Cr + "repositories/metadata/read", Cr + "repositories/content/read"]));
        yield return R(RepositoryWriter, "Container Registry Repository Writer", "Allows for read, write access to Azure Container Registry repositories, but excluding catalog listing.",
            P([], data: [Cr + "repositories/metadata/read", Cr + "repositories/content/read", Cr + "repositories/metadata/write", Cr + "repositories/content/write"]));
        yield return R(RepositoryContributor, "Container Registry Repository Contributor", "Allows for read, write, and delete access to Azure Container Registry repositories, but excluding catalog listing.",
            P([], data: [Cr + "repositories/metadata/read", Cr + "repositories/content/read", Cr + "repositories/metadata/write",
                Cr + "repositories/content/write", Cr + "repositories/metadata/delete", Cr + "repositories/content/delete"]));
        yield return R(RepositoryCatalogLister, "Container Registry Repository Catalog Lister", "Allows for listing all repositories in an Azure Container Registry.",
            P([], data: [Cr + "catalog/read"]));
        yield return R(DataImporterAndDataReader, "Container Registry Data Importer and Data Reader", "Allows for importing images to a registry and reading images from it.",
            P([Cr + "pull/read", Cr + "importImage/action"], data: [Cr + "repositories/content/read", Cr + "repositories/metadata/read", Cr + "catalog/read"]));
        yield return R(ManagedIdentityOperator, "Managed Identity Operator", "Read and Assign User Assigned Identity",
            P(["Microsoft.ManagedIdentity/userAssignedIdentities/*/read", "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
                "Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Resources/deployments/*", "Microsoft.Support/*"]));
        yield return R(ManagedIdentityContributor, "Managed Identity Contributor", "Create, Read, Update, and Delete User Assigned Identity",
            P(["Microsoft.ManagedIdentity/userAssignedIdentities/read", "Microsoft.ManagedIdentity/userAssignedIdentities/write",
                "Microsoft.ManagedIdentity/userAssignedIdentities/delete", "Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Resources/deployments/*", "Microsoft.Support/*"]));
        yield return R("de139f84-1756-47ae-9be6-808fbbe84772", "Website Contributor", "Lets you manage websites (not web plans), but not access to them.",
            P(["Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Insights/components/*", "Microsoft.ResourceHealth/availabilityStatuses/read",
                "Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*",
                "Microsoft.Web/certificates/*", "Microsoft.Web/listSitesAssignedToHostName/read", "Microsoft.Web/serverFarms/join/action",
                "Microsoft.Web/serverFarms/read", "Microsoft.Web/sites/*"]));
        yield return R("9980e02c-c2be-4d73-94e8-173b1dc7cf3c", "Virtual Machine Contributor", "Create and manage virtual machines, manage disks, install and run software, reset password of the root user of the virtual machine using VM extensions, and manage local user accounts using VM extensions. This role does not grant you management access to the virtual network or storage account the virtual machines are connected to nor allows you to assign roles in Azure RBAC.",
            P(["Microsoft.Authorization/*/read", "Microsoft.Compute/virtualMachines/*", "Microsoft.Compute/virtualMachineScaleSets/*",
                "Microsoft.Compute/disks/*", "Microsoft.Network/networkInterfaces/*", "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"]));
    }
}
