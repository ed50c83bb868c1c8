using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using AcrIdentity.Completion;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.AzCommands;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Targets;
using AcrIdentity.Hosting;

namespace AcrIdentity.Commands
{
    /// <summary>
    /// Identity on the target → pull role on the registry → target switched to identity pulls, in one command,
    /// for every target kind. Plans first; -WhatIf prints each planned step and writes nothing.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Enable, "AcrManagedIdentityPull", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ManagedIdentityPullResult), typeof(string))]
    public sealed class EnableAcrManagedIdentityPullCommand : AcrCmdlet
    {
        /// <summary>The target: web/function app (or slot), container group, VM, scale set, AKS cluster or container app.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Id")]
        [AllowEmptyString]
        public string ResourceId { get; set; } = string.Empty;

        /// <summary>Name, login server or resource ID of the registry, or the object Get-AzContainerRegistry returns.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [AzReferenceTransformation("Id", "LoginServer", "Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ResourceCompleter))]
        public string Registry { get; set; } = string.Empty;

        [Parameter]
        [ValidateSet("SystemAssigned", "UserAssigned")]
        public string? IdentityType { get; set; }

        /// <summary>Name, resource ID, client ID or principal ID of a user-assigned identity, or the object Get-AzUserAssignedIdentity returns.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AzReferenceTransformation("Id", "ClientId", "PrincipalId", "Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ResourceCompleter))]
        public string? UserAssignedIdentity { get; set; }

        /// <summary>Configure this slot of the web app (each slot has its own identity and settings).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Slot { get; set; }

        /// <summary>Configure the site and every slot.</summary>
        [Parameter]
        public SwitchParameter IncludeSlots { get; set; }

        /// <summary>ABAC-mode registries: limit the grant to this repository (or a prefix ending in '/').</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Repository { get; set; }

        /// <summary>How long to keep retrying while a new identity replicates (PrincipalNotFound).</summary>
        [Parameter]
        public TimeSpan PropagationTimeout { get; set; } = TimeSpan.FromMinutes(5);

        /// <summary>Assign the pull role even when a broader role (Owner, Contributor, AcrPush) already grants pull.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>
        /// Plan only, and write the equivalent az CLI commands (one string per line) instead of applying. A switch
        /// of its own, not a -WhatIf variant: -WhatIf is a common parameter that prints to the host and returns nothing.
        /// </summary>
        [Parameter]
        public SwitchParameter AsAzCommand { get; set; }

        /// <summary>Quote the -AsAzCommand output for this shell; default: the calling session's PowerShell and its native argument passing.</summary>
        [Parameter]
        public AzCommandShell Shell { get; set; }

        // Registry and identity lookups made for the first input serve the rest of the pipeline.
        private readonly EnableCache _cache = new EnableCache();

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            ValidateSlotChoice(Slot, IncludeSlots.IsPresent);
            ValidatePropagationTimeout(PropagationTimeout);
        }

        protected override void ProcessRecord()
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Shell)) && !AsAzCommand.IsPresent)
            {
                ThrowInvalidArgument("ShellWithoutAsAzCommand", "-Shell only chooses the quoting of -AsAzCommand output.", "Add -AsAzCommand, or leave out -Shell.");
            }
            // Checked here, not in BeginProcessing: -UserAssignedIdentity may come from the pipeline.
            if (IdentityType == "SystemAssigned" && UserAssignedIdentity is not null)
            {
                ThrowInvalidArgument("ConflictingIdentityType", "-IdentityType SystemAssigned and -UserAssignedIdentity contradict each other.",
                    "Leave out -UserAssignedIdentity for the system-assigned identity, or use -IdentityType UserAssigned with it.");
            }
            var bridge = new PipelineBridge();
            bool asAz = AsAzCommand.IsPresent;
            bool whatIf = asAz || WhatIfRequested;
            var request = new EnableRequest
            {
                ResourceId = ResourceId,
                Registry = Registry,
                IdentityType = IdentityType is null ? null : (PullIdentityType?)Enum.Parse(typeof(PullIdentityType), IdentityType),
                UserAssignedIdentity = UserAssignedIdentity,
                Slot = Slot,
                IncludeSlots = IncludeSlots.IsPresent,
                Repository = Repository,
                PropagationTimeout = PropagationTimeout,
                Force = Force.IsPresent,
                PlanOnly = whatIf,
                Approve = ConfirmEachWrite(bridge, whatIf),
            };

            IReadOnlyList<EnableOutcome>? outcomes = RunInContext(bridge, (context, host, ct) =>
                new PullEnabler(context, host, _cache).EnableAsync(request, ct), terminating: false);
            if (outcomes is null) return;

            foreach (EnableOutcome outcome in outcomes)
            {
                if (asAz)
                {
                    WriteAzCommands(outcome);
                    continue;
                }
                if (whatIf)
                {
                    foreach (PullStep step in outcome.Steps.Where(s => s.Action != StepAction.None))
                    {
                        ShouldProcess(outcome.TargetId, step.Description);
                    }
                    if (outcome.Error is not null) WriteError(ToErrorRecord(outcome.Error));
                    continue;
                }
                if (outcome.Steps.Count > 0) WriteObject(ToResult(outcome));
                if (outcome.Error is not null) WriteError(ToErrorRecord(outcome.Error));
            }
        }

        private void WriteAzCommands(EnableOutcome outcome)
        {
            AzShell shell = MyInvocation.BoundParameters.ContainsKey(nameof(Shell)) ? (AzShell)Enum.Parse(typeof(AzShell), Shell.ToString()) : CallerShell();
            try
            {
                var lines = new List<string>();
                foreach (AzStepCommand command in AzCommandPlan.For(outcome)) lines.AddRange(command.Render(shell));
                foreach (string line in lines) WriteObject(line);
            }
            catch (AzCommandRenderException ex)
            {
                WriteError(new ErrorRecord(ex, "AzCommandNotRenderable", ErrorCategory.InvalidData, outcome.TargetId)
                {
                    ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = "Use -Shell with another shell, or run the command without -AsAzCommand." },
                });
            }
            if (outcome.Error is not null) WriteError(ToErrorRecord(outcome.Error));
        }

        /// <summary>
        /// 5.1, 7.0-7.2 and 'Legacy' pass arguments the old way. 'Windows' (the default on Windows) uses it for
        /// .cmd files, and az there is az.cmd.
        /// </summary>
        private AzShell CallerShell()
        {
            if (!string.Equals(PSVersionEdition(), "Core", StringComparison.Ordinal)) return AzShell.PowerShell51;
            string? passing = GetVariableValue("PSNativeCommandArgumentPassing")?.ToString();
            if (string.Equals(passing, "Standard", StringComparison.OrdinalIgnoreCase)) return AzShell.PowerShell;
            if (string.Equals(passing, "Windows", StringComparison.OrdinalIgnoreCase)) return Environment.OSVersion.Platform == PlatformID.Win32NT ? AzShell.PowerShell51 : AzShell.PowerShell;
            return AzShell.PowerShell51;
        }

        private string PSVersionEdition() => (GetVariableValue("PSVersionTable") as Hashtable)?["PSEdition"]?.ToString() ?? "Desktop";

        internal static ManagedIdentityPullResult ToResult(EnableOutcome o, string changedStatus = "Configured", string unchangedStatus = "AlreadyConfigured")
        {
            string status = o.Error is not null ? "Failed" : o.Declined ? "Declined" : o.Changed ? changedStatus : unchangedStatus;
            return new ManagedIdentityPullResult
            {
                ResourceId = o.TargetId,
                TargetKind = o.TargetKind,
                Registry = o.Registry?.RegistryId ?? string.Empty,
                RegistryLoginServer = o.Registry?.LoginServer ?? string.Empty,
                IdentityType = o.Identity?.Type.ToString() ?? string.Empty,
                IdentityResourceId = o.Identity?.ResourceId,
                PrincipalId = o.Identity?.PrincipalId,
                ClientId = o.Identity?.ClientId,
                RoleName = o.Role?.Name ?? string.Empty,
                Repository = o.Role?.Repository,
                RoleAssignmentId = o.RoleAssignmentId,
                Status = status,
                Images = o.Images.ToArray(),
                Error = o.Error?.Message,
                Steps = o.Steps.Select((s, i) => new ManagedIdentityPullStep
                {
                    Order = i + 1,
                    Step = s.Kind.ToString(),
                    Action = s.Action.ToString(),
                    Outcome = s.Outcome.ToString(),
                    Description = s.Description,
                    ResourceId = s.ResourceId,
                    Detail = s.Detail,
                    Error = s.Error?.Message,
                }).ToArray(),
            };
        }
    }

    /// <summary>
    /// -Shell's values. The engine's AzShell cannot be a parameter type: PowerShell reflects parameters at
    /// import, before the module's resolver can load the engine. Same names as AzShell.
    /// </summary>
    public enum AzCommandShell
    {
        PowerShell51,
        PowerShell,
        Cmd,
        Bash,
    }

    /// <summary>
    /// Accepts the objects Az cmdlets return (and our own results) where a string ID is expected: the first of the
    /// named properties that holds a non-empty string wins. Strings pass through.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class AzReferenceTransformationAttribute : ArgumentTransformationAttribute
    {
        private readonly string[] _properties;

        public AzReferenceTransformationAttribute(params string[] properties)
        {
            _properties = properties;
        }

        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
            if (value is null || value is string) return value;
            if (value is IDictionary dictionary)
            {
                foreach (string name in _properties)
                {
                    foreach (object? key in dictionary.Keys)
                    {
                        if (key is not null && string.Equals(key.ToString(), name, StringComparison.OrdinalIgnoreCase) && dictionary[key] is { } v && v.ToString() is { Length: > 0 } text) return text;
                    }
                }
                return inputData;
            }
            PSObject wrapped = inputData as PSObject ?? PSObject.AsPSObject(value);
            foreach (string name in _properties)
            {
                if (wrapped.Properties[name]?.Value is { } v && v.ToString() is { Length: > 0 } text) return text;
            }
            return value is Guid g ? g.ToString() : (object)value.ToString()!;
        }
    }
}
