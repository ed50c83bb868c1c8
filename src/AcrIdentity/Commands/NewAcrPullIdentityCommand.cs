using System;
using System.Management.Automation;
using AcrIdentity.Completion;
using AcrIdentity.Engine.Audit;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// A user-assigned identity created (az identity create) and granted pull on a registry in one step. Pass the
    /// result to Enable-AcrManagedIdentityPull -UserAssignedIdentity. A rerun finds both and changes nothing.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "AcrPullIdentity", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(AcrPullIdentity))]
    public sealed class NewAcrPullIdentityCommand : AcrCmdlet
    {
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = string.Empty;

        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ResourceCompleter))]
        public string ResourceGroupName { get; set; } = string.Empty;

        /// <summary>Name, login server or resource ID of the registry, or the object Get-AzContainerRegistry returns.</summary>
        [Parameter(Mandatory = true, Position = 2)]
        [AzReferenceTransformation("Id", "LoginServer", "Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ResourceCompleter))]
        public string Registry { get; set; } = string.Empty;

        /// <summary>Default: the resource group's location.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Location { get; set; }

        /// <summary>ABAC-mode registries: limit the grant to this repository (or a prefix ending in '/').</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Repository { get; set; }

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
            var request = new NewIdentityRequest
            {
                Name = Name,
                ResourceGroupName = ResourceGroupName,
                Location = Location,
                Registry = Registry,
                Repository = Repository,
                PropagationTimeout = PropagationTimeout,
                PlanOnly = whatIf,
                Approve = ConfirmEachWrite(bridge, whatIf),
            };
            NewIdentityOutcome? o = RunInContext(bridge, (context, host, ct) =>
                new AccessManager(context, host).NewIdentityAsync(request, ct), terminating: false);
            if (o is null) return;
            if (whatIf)
            {
                if (o.IdentityStatus == "WouldCreate" || o.Grant?.Status == "WouldCreate") ShouldProcess(o.Id, o.Grant?.Detail ?? "Create the identity and grant it pull");
                return;
            }
            WriteObject(new AcrPullIdentity
            {
                Id = o.Id,
                Name = o.Name,
                ResourceGroupName = o.ResourceGroupName,
                Location = o.Location,
                ClientId = o.ClientId,
                PrincipalId = o.PrincipalId,
                Status = o.IdentityStatus,
                Registry = o.Grant?.RegistryId,
                Role = o.Grant?.Role,
                RoleAssignmentId = o.Grant?.AssignmentId,
                GrantStatus = o.Grant?.Status,
            });
        }
    }
}
