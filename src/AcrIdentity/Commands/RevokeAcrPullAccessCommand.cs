using System.Collections.Generic;
using System.Management.Automation;
using AcrIdentity.Completion;
using AcrIdentity.Engine.Audit;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// Removes the assignments on a registry that let a principal pull. Assignments inherited from a resource group,
    /// subscription or management group (or held by a group) are not touched: each is reported with the scope where
    /// it must be removed.
    /// </summary>
    [Cmdlet(VerbsSecurity.Revoke, "AcrPullAccess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(AcrPullAccessChange))]
    public sealed class RevokeAcrPullAccessCommand : AcrCmdlet
    {
        /// <summary>Principal (object) ID, client ID, user-assigned identity name or ID, a resource whose managed identity is meant, or an object with one of these.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PrincipalId", "ObjectId")]
        [AzReferenceTransformation("PrincipalId", "Id", "ClientId", "Name")]
        [ValidateNotNullOrEmpty]
        public string Principal { get; set; } = string.Empty;

        /// <summary>Name, login server or resource ID of the registry (binds from Get-AcrPullAccess rows).</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [AzReferenceTransformation("Id", "LoginServer", "Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ResourceCompleter))]
        public string Registry { get; set; } = string.Empty;

        /// <summary>Only this assignment (a Get-AcrPullAccess row binds it).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? AssignmentId { get; set; }

        protected override void ProcessRecord()
        {
            var bridge = new PipelineBridge();
            bool whatIf = WhatIfRequested;
            var request = new AccessRequest
            {
                Principal = Principal,
                Registry = Registry,
                AssignmentId = AssignmentId,
                PlanOnly = whatIf,
                Approve = ConfirmEachWrite(bridge, whatIf),
            };
            var refused = new List<EngineException>();
            IReadOnlyList<AccessChange>? changes = RunInContext(bridge, (context, host, ct) =>
                new AccessManager(context, host).RevokeAsync(request, refused, ct), terminating: false);
            foreach (AccessChange change in changes ?? new List<AccessChange>())
            {
                if (change.Status == "WouldRemove")
                {
                    ShouldProcess(change.AssignmentId ?? change.RegistryId, change.Detail ?? "Remove pull");
                    continue;
                }
                WriteObject(GrantAcrPullAccessCommand.ToResult(change));
            }
            foreach (EngineException ex in refused) WriteError(ToErrorRecord(ex));
        }
    }
}
