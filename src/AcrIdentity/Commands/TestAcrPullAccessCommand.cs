using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AcrIdentity.Completion;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Checks;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// Every check that decides whether a target (or a bare identity) can pull from a registry, each with its fix;
    /// -Live proves it through the registry's token exchange as this environment's managed identity; -Quiet
    /// returns only the bool. Reads only.
    /// </summary>
    // Identity is the default set: with -Identity and -Registry alone both sets would fit, and only it can be meant.
    [Cmdlet(VerbsDiagnostic.Test, "AcrPullAccess", DefaultParameterSetName = IdentitySet)]
    [OutputType(typeof(AcrPullAccessReport), typeof(bool))]
    public sealed class TestAcrPullAccessCommand : AcrCmdlet
    {
        private const string TargetSet = "Target";
        private const string IdentitySet = "Identity";

        /// <summary>The target; Enable-AcrManagedIdentityPull's output and Az objects bind by their Id/ResourceId.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = TargetSet)]
        [Alias("Id")]
        [AllowEmptyString]
        public string ResourceId { get; set; } = string.Empty;

        /// <summary>Bare identity: its principal, client or resource ID. With a VM or scale set: which of its identities.</summary>
        [Parameter(Mandatory = true, ParameterSetName = IdentitySet)]
        [Parameter(ParameterSetName = TargetSet)]
        [AzReferenceTransformation("Id", "PrincipalId", "ClientId")]
        [ValidateNotNullOrEmpty]
        public string? Identity { get; set; }

        /// <summary>Name, login server or resource ID; inferred from the target's image or pull settings when left out.</summary>
        [Parameter(Mandatory = true, ParameterSetName = IdentitySet)]
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = TargetSet)]
        [AzReferenceTransformation("Id", "LoginServer", "Name")]
        [AllowEmptyString]
        [ArgumentCompleter(typeof(ResourceCompleter))]
        public string? Registry { get; set; }

        /// <summary>The image (login-server/repository:tag) or repository:tag to check; inferred from the target when left out.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Image { get; set; }

        [Parameter(ParameterSetName = TargetSet)]
        [ValidateNotNullOrEmpty]
        public string? Slot { get; set; }

        /// <summary>Check the site and every slot (each has its own identity and settings).</summary>
        [Parameter(ParameterSetName = TargetSet)]
        public SwitchParameter IncludeSlots { get; set; }

        /// <summary>Also pull for real (token exchange and manifest HEAD) as this environment's managed identity.</summary>
        [Parameter]
        public SwitchParameter Live { get; set; }

        /// <summary>Run the pull probe inside the VM (Run Command) as the VM's own identity.</summary>
        [Parameter(ParameterSetName = TargetSet)]
        public SwitchParameter InWorkload { get; set; }

        /// <summary>With -InWorkload on a scale set: the instance to run the probe in (default: the first running one).</summary>
        [Parameter(ParameterSetName = TargetSet)]
        [ValidateNotNullOrEmpty]
        public string? InstanceId { get; set; }

        /// <summary>Return only $true or $false.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        // What the first input resolved (registries, identities, subscriptions, which principals exist) serves the rest of the pipeline.
        private readonly PullAccessCache _cache = new PullAccessCache();

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            ValidateSlotChoice(Slot, IncludeSlots.IsPresent);
            if (InstanceId is not null && !InWorkload.IsPresent)
            {
                ThrowInvalidArgument("InstanceIdWithoutInWorkload", "-InstanceId picks the scale set instance that -InWorkload runs its probe in; without -InWorkload nothing runs there.",
                    "Add -InWorkload, or leave out -InstanceId.");
            }
            // It becomes part of an ARM path: instance IDs are digits (Uniform) or VM names.
            if (InstanceId is not null && (InstanceId.Trim().Length == 0 || !InstanceId.Trim().All(c => char.IsLetterOrDigit(c) || c == '-' || c == '_')))
            {
                ThrowInvalidArgument("InvalidInstanceId", $"'{InstanceId}' is not a scale set instance ID (for example 0 or 3).",
                    "Pass an instance ID as Get-AzVmssVM shows it (InstanceId), or leave out -InstanceId to probe the first running instance.");
            }
        }

        protected override void ProcessRecord()
        {
            var bridge = new PipelineBridge();
            var request = new PullAccessRequest
            {
                ResourceId = ParameterSetName == TargetSet ? ResourceId : null,
                Identity = Identity,
                Registry = string.IsNullOrWhiteSpace(Registry) ? null : Registry,
                Image = Image,
                Slot = Slot,
                IncludeSlots = IncludeSlots.IsPresent,
                Live = Live.IsPresent,
                LiveResolve = new ResolveRequest(),
                InWorkload = InWorkload.IsPresent,
                InstanceId = InstanceId?.Trim(),
            };

            IReadOnlyList<PullAccessReport>? reports = RunInContext(bridge, (context, host, ct) =>
                new PullAccessTester(context, host, _cache).TestAsync(request, ct), terminating: false);

            if (Quiet.IsPresent)
            {
                WriteObject(reports is not null && reports.Count > 0 && reports.All(r => r.CanPull));
                return;
            }
            if (reports is null) return;
            foreach (PullAccessReport r in reports) WriteObject(ToOutput(r));
        }

        private static AcrPullAccessReport ToOutput(PullAccessReport r) => new AcrPullAccessReport
        {
            CanPull = r.CanPull,
            Target = r.Target ?? string.Empty,
            TargetKind = r.TargetKind ?? string.Empty,
            Registry = r.Registry ?? string.Empty,
            RegistryLoginServer = r.RegistryLoginServer ?? string.Empty,
            Identity = r.Identity ?? string.Empty,
            PrincipalId = r.PrincipalId,
            Image = r.Image,
            Repository = r.Repository,
            Checks = r.Checks.Select(c => new AcrPullAccessCheck
            {
                Id = c.Id,
                Name = c.Name,
                Result = c.Result.ToString(),
                Message = c.Message,
                Fix = c.Fix,
            }).ToArray(),
        };
    }
}
