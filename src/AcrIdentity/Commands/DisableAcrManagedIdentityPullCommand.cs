using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AcrIdentity.Completion;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// The reverse of Enable's pull switch: the target stops pulling from the registry with its managed identity.
    /// Identities stay; the pull role goes only with -RemoveRoleAssignment.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Disable, "AcrManagedIdentityPull", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ManagedIdentityPullResult))]
    public sealed class DisableAcrManagedIdentityPullCommand : AcrCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Id")]
        [AllowEmptyString]
        public string ResourceId { get; set; } = string.Empty;

        /// <summary>Name, login server or resource ID of the registry (binds from Enable's output by property name).</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [AzReferenceTransformation("Id", "LoginServer", "Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ResourceCompleter))]
        public string Registry { get; set; } = string.Empty;

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Slot { get; set; }

        [Parameter]
        public SwitchParameter IncludeSlots { get; set; }

        /// <summary>Also delete the pull role (AcrPull / Repository Reader at the registry) of the identity the target pulled with.</summary>
        [Parameter]
        public SwitchParameter RemoveRoleAssignment { get; set; }

        // Registry and identity lookups made for the first input serve the rest of the pipeline.
        private readonly EnableCache _cache = new EnableCache();

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            ValidateSlotChoice(Slot, IncludeSlots.IsPresent);
        }

        protected override void ProcessRecord()
        {
            var bridge = new PipelineBridge();
            bool whatIf = WhatIfRequested;
            var request = new DisableRequest
            {
                ResourceId = ResourceId,
                Registry = Registry,
                Slot = Slot,
                IncludeSlots = IncludeSlots.IsPresent,
                RemoveRoleAssignment = RemoveRoleAssignment.IsPresent,
                PlanOnly = whatIf,
                Approve = ConfirmEachWrite(bridge, whatIf),
            };

            IReadOnlyList<EnableOutcome>? outcomes = RunInContext(bridge, (context, host, ct) =>
                new PullDisabler(context, host, _cache).DisableAsync(request, ct), terminating: false);
            if (outcomes is null) return;

            foreach (EnableOutcome outcome in outcomes)
            {
                if (whatIf)
                {
                    foreach (PullStep step in outcome.Steps.Where(s => s.Action != StepAction.None))
                    {
                        ShouldProcess(outcome.TargetId, step.Description);
                    }
                }
                else
                {
                    WriteObject(EnableAcrManagedIdentityPullCommand.ToResult(outcome, changedStatus: "Disabled", unchangedStatus: "AlreadyDisabled"));
                }
                if (outcome.Error is not null) WriteError(ToErrorRecord(outcome.Error));
            }
        }
    }
}
