using System;
using System.Collections.Generic;
using System.Text.Json;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Targets;
using Azure.Core;

namespace AcrIdentity.Engine.AzCommands
{
    /// <summary>The az command for one planned step, as an argv (without "az"); null Arguments = no az equivalent.</summary>
    public sealed class AzStepCommand
    {
        internal AzStepCommand(PullStep step, IReadOnlyList<AzArg>? arguments, string? captureVariable, string? note)
        {
            Step = step;
            Arguments = arguments;
            CaptureVariable = captureVariable;
            Note = note;
        }

        public PullStep Step { get; }
        public IReadOnlyList<AzArg>? Arguments { get; }
        /// <summary>Later commands read the principal ID this one prints from this variable.</summary>
        public string? CaptureVariable { get; }
        /// <summary>Why there is no command, or what the reader must know.</summary>
        public string? Note { get; }

        /// <summary>The lines a script for <paramref name="shell"/> needs for this step.</summary>
        public IReadOnlyList<string> Render(AzShell shell)
        {
            ShellQuoter q = ShellQuoter.For(shell);
            var lines = new List<string>();
            if (Note != null) lines.Add(q.Comment(Note));
            if (Arguments == null) return lines;
            string line = q.CommandLine(Arguments);
            lines.AddRange(CaptureVariable != null ? q.Capture(CaptureVariable, line) : new[] { line });
            return lines;
        }
    }

    /// <summary>
    /// The az CLI commands that make the same changes as an Enable plan's steps (only those still to do), for
    /// change review and runbooks that must use az. Pure data: quoting is the ShellQuoter's job.
    /// </summary>
    public static class AzCommandPlan
    {
        internal const string PrincipalVariable = "principalId";

        public static IReadOnlyList<AzStepCommand> For(EnableOutcome outcome)
        {
            if (outcome == null) throw new ArgumentNullException(nameof(outcome));
            var commands = new List<AzStepCommand>();
            if (outcome.Registry == null || outcome.Identity == null || outcome.Role == null) return commands;
            var target = new ResourceIdentifier(outcome.TargetId);
            bool captured = false;
            foreach (PullStep step in outcome.Steps)
            {
                if (step.Action == StepAction.None) continue;
                AzStepCommand command = step.Kind switch
                {
                    StepKind.Identity => Identity(step, outcome, target),
                    StepKind.RoleAssignment => Role(step, outcome, target, captured),
                    _ => PullConfiguration(step, outcome, target),
                };
                captured |= command.CaptureVariable != null;
                commands.Add(command);
            }
            return commands;
        }

        private static string Kind(EnableOutcome o) => o.TargetKind;

        private static List<AzArg> Base(string group, params string[] verb)
        {
            var args = new List<AzArg>();
            foreach (string v in verb) args.Add(v);
            args.Add("--resource-group");
            args.Add(group);
            return args;
        }

        // Web app and function app commands name the site and the slot separately.
        private static List<AzArg> Site(EnableOutcome o, ResourceIdentifier target, params string[] verb)
        {
            bool slot = Kind(o).EndsWith("Slot", StringComparison.Ordinal);
            string noun = Kind(o).StartsWith("FunctionApp", StringComparison.Ordinal) ? "functionapp" : "webapp";
            var all = new List<string> { noun };
            all.AddRange(verb);
            List<AzArg> args = Base(target.ResourceGroupName!, all.ToArray());
            args.Add("--name");
            args.Add(slot ? target.Parent!.Name : target.Name);
            if (slot)
            {
                args.Add("--slot");
                args.Add(target.Name);
            }
            return args;
        }

        private static AzStepCommand Identity(PullStep step, EnableOutcome o, ResourceIdentifier target)
        {
            PullIdentity want = o.Identity!;
            bool system = want.Type == PullIdentityType.SystemAssigned;
            List<AzArg> args;
            switch (Kind(o))
            {
                case "VirtualMachine":
                case "VirtualMachineScaleSet":
                    args = Base(target.ResourceGroupName!, Kind(o) == "VirtualMachine" ? "vm" : "vmss", "identity", "assign");
                    args.Add("--name");
                    args.Add(target.Name);
                    if (!system) { args.Add("--identities"); args.Add(want.ResourceId!); }
                    break;
                case "ContainerApp":
                    args = Base(target.ResourceGroupName!, "containerapp", "identity", "assign");
                    args.Add("--name");
                    args.Add(target.Name);
                    if (system) args.Add("--system-assigned");
                    else { args.Add("--user-assigned"); args.Add(want.ResourceId!); }
                    break;
                case "ContainerGroup":
                    return NoEquivalent(step, "az container has no command that adds an identity to an existing container group (az container create replaces the group).");
                default:
                    args = Site(o, target, "identity", "assign");
                    if (!system) { args.Add("--identities"); args.Add(want.ResourceId!); }
                    break;
            }
            if (!system || want.PrincipalId != null) return new AzStepCommand(step, args, null, null);
            // The new principal ID is known only once az has created the identity: the role command reads it.
            args.Add("--query");
            args.Add("principalId");
            args.Add("--output");
            args.Add("tsv");
            return new AzStepCommand(step, args, PrincipalVariable, null);
        }

        private static AzStepCommand Role(PullStep step, EnableOutcome o, ResourceIdentifier target, bool captured)
        {
            PullRole role = o.Role!;
            RegistryInfo registry = o.Registry!;
            if (Kind(o) == "AksCluster" && role.Condition == null && role.Name == "AcrPull")
            {
                // The same assignment: AcrPull for the kubelet identity at the registry.
                List<AzArg> aks = Base(target.ResourceGroupName!, "aks", "update");
                aks.Add("--name");
                aks.Add(target.Name);
                aks.Add("--attach-acr");
                aks.Add(registry.RegistryId);
                return new AzStepCommand(step, aks, null, null);
            }
            var args = new List<AzArg> { "role", "assignment", "create", "--assignee-object-id" };
            string? principal = o.Identity!.PrincipalId;
            if (principal != null) args.Add(principal);
            else if (captured) args.Add(AzArg.Variable(PrincipalVariable));
            else return NoEquivalent(step, "the principal ID is not known yet; assign the role once the identity exists.");
            args.Add("--assignee-principal-type");
            args.Add("ServicePrincipal");
            args.Add("--role");
            args.Add(role.Name);
            args.Add("--scope");
            args.Add(registry.RegistryId);
            if (role.Condition != null)
            {
                args.Add("--condition");
                args.Add(role.Condition);
                args.Add("--condition-version");
                args.Add("2.0");
            }
            return new AzStepCommand(step, args, null, null);
        }

        private static AzStepCommand PullConfiguration(PullStep step, EnableOutcome o, ResourceIdentifier target)
        {
            PullIdentity want = o.Identity!;
            switch (Kind(o))
            {
                case "ContainerApp":
                    List<AzArg> app = Base(target.ResourceGroupName!, "containerapp", "registry", "set");
                    app.Add("--name");
                    app.Add(target.Name);
                    app.Add("--server");
                    app.Add(o.Registry!.LoginServer);
                    app.Add("--identity");
                    app.Add(want.Type == PullIdentityType.SystemAssigned ? "system" : want.ResourceId!);
                    return new AzStepCommand(step, app, null, null);
                case "ContainerGroup":
                    return NoEquivalent(step, "az container cannot change an existing group's imageRegistryCredentials; use this module, or az container create with the whole group's definition.");
                default:
                    List<AzArg> args = Site(o, target, "config", "set");
                    args.Add("--generic-configurations");
                    args.Add(SiteConfigJson(want));
                    return new AzStepCommand(step, args, null, null);
            }
        }

        /// <summary>The JSON az webapp config set --generic-configurations takes (pain point 2 is about passing it).</summary>
        internal static string SiteConfigJson(PullIdentity want)
        {
            var config = new Dictionary<string, object> { ["acrUseManagedIdentityCreds"] = true };
            if (want.Type == PullIdentityType.UserAssigned && want.ClientId != null) config["acrUserManagedIdentityID"] = want.ClientId;
            return JsonSerializer.Serialize(config).Replace(",", ", ").Replace("\":", "\": ");
        }

        private static AzStepCommand NoEquivalent(PullStep step, string why) =>
            new AzStepCommand(step, null, null, $"{step.Kind} ({step.Description}): no az equivalent — {why}");
    }
}
