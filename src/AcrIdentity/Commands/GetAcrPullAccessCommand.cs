using System.Linq;
using System.Management.Automation;
using AcrIdentity.Completion;
using AcrIdentity.Engine.Audit;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// Who can pull from a registry (or every registry under a scope), why — role, scope, inherited from where —
    /// and which resources are behind each principal. Reads through Resource Graph in a fixed number of queries, and names
    /// principals (or finds them deleted) through Microsoft Graph, one call per 1,000 principals.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "AcrPullAccess", DefaultParameterSetName = ScopeSet)]
    [OutputType(typeof(AcrPullAccessEntry))]
    public sealed class GetAcrPullAccessCommand : AcrCmdlet
    {
        private const string RegistrySet = "Registry";
        private const string ScopeSet = "Scope";

        /// <summary>Name, login server or resource ID of the registry, or the object Get-AzContainerRegistry returns.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = RegistrySet)]
        [AzReferenceTransformation("Id", "LoginServer", "Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ResourceCompleter))]
        public string Registry { get; set; } = string.Empty;

        /// <summary>A subscription (ID or /subscriptions/…), resource group or management group ID; default: the current subscription.</summary>
        [Parameter(ParameterSetName = ScopeSet)]
        [ValidateNotNullOrEmpty]
        public string? Scope { get; set; }

        /// <summary>Only this principal's rows.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? PrincipalId { get; set; }

        /// <summary>Read with ARM lists instead of Resource Graph (clouds without it; slower on big estates).</summary>
        [Parameter]
        public SwitchParameter NoResourceGraph { get; set; }

        protected override void ProcessRecord()
        {
            var bridge = new PipelineBridge();
            var request = new AuditRequest
            {
                Registry = ParameterSetName == RegistrySet ? Registry : null,
                Scope = Scope,
                PrincipalId = PrincipalId,
                ForceArm = NoResourceGraph.IsPresent,
            };
            AuditResult? result = RunInContext(bridge, (context, host, ct) =>
                new AccessAuditor(context, host).AuditAsync(request, ct), terminating: false);
            if (result is null) return;
            WriteVerbose(result.UsedResourceGraph
                ? $"{result.Entries.Count} rows from {result.ResourceGraphPages} Resource Graph pages."
                : $"{result.Entries.Count} rows from ARM lists.");
            foreach (PullAccessEntry e in result.Entries)
            {
                WriteObject(new AcrPullAccessEntry
                {
                    Registry = e.Registry,
                    RegistryId = e.RegistryId,
                    PrincipalId = e.PrincipalId,
                    PrincipalType = e.PrincipalType,
                    PrincipalName = e.PrincipalName,
                    PrincipalKind = e.PrincipalKind,
                    IdentityType = e.IdentityType,
                    IdentityResourceId = e.IdentityResourceId,
                    Resources = e.Resources.ToArray(),
                    Role = e.Role,
                    RoleDefinitionId = e.RoleDefinitionId,
                    RoleType = e.RoleType,
                    Scope = e.Scope,
                    ScopeLevel = e.ScopeLevel,
                    InheritedFrom = e.InheritedFrom,
                    Condition = e.Condition,
                    GrantsPull = e.GrantsPull,
                    RegistryAbacMode = e.RegistryAbacMode,
                    IsOrphaned = e.IsOrphaned,
                    IsOverPrivileged = e.IsOverPrivileged,
                    AssignmentId = e.AssignmentId,
                    Note = e.Note,
                });
            }
        }
    }
}
