using System;
using System.Management.Automation;
using AcrIdentity.Completion;
using AcrIdentity.Engine.Audit;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// Pull on a registry for any principal: AcrPull, or Container Registry Repository Reader on an ABAC-mode
    /// registry. Idempotent (a rerun or an existing broader role writes nothing), with Enable's propagation retries.
    /// </summary>
    [Cmdlet(VerbsSecurity.Grant, "AcrPullAccess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(AcrPullAccessChange))]
    public sealed class GrantAcrPullAccessCommand : AcrCmdlet
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

        /// <summary>ABAC-mode registries: limit the grant to this repository (or a prefix ending in '/').</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Repository { get; set; }

        /// <summary>Add the pull role even when a broader role (AcrPush, Owner, Contributor) already grants pull.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>How long to keep retrying while a new identity replicates (PrincipalNotFound).</summary>
        [Parameter]
        public TimeSpan PropagationTimeout { get; set; } = TimeSpan.FromMinutes(5);

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            ValidatePropagationTimeout(PropagationTimeout);
        }

        protected override void ProcessRecord()
        {
            var bridge = new PipelineBridge();
            bool whatIf = WhatIfRequested;
            var request = new AccessRequest
            {
                Principal = Principal,
                Registry = Registry,
                Repository = Repository,
                Force = Force.IsPresent,
                PropagationTimeout = PropagationTimeout,
                PlanOnly = whatIf,
                Approve = ConfirmEachWrite(bridge, whatIf),
            };
            AccessChange? change = RunInContext(bridge, (context, host, ct) =>
                new AccessManager(context, host).GrantAsync(request, ct), terminating: false);
            if (change is null) return;
            if (change.Status == "WouldCreate")
            {
                ShouldProcess(change.RegistryId, change.Detail ?? "Grant pull");
                return;
            }
            WriteObject(ToResult(change));
        }

        internal static AcrPullAccessChange ToResult(AccessChange c) => new AcrPullAccessChange
        {
            Registry = c.Registry,
            RegistryId = c.RegistryId,
            PrincipalId = c.PrincipalId,
            PrincipalSource = c.PrincipalSource,
            Role = c.Role,
            Scope = c.Scope,
            AssignmentId = c.AssignmentId,
            Status = c.Status,
            Detail = c.Detail,
        };
    }
}
