using System.Management.Automation;
using System.Management.Automation.Language;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>Test-AcrPullAccess -InWorkload from PowerShell: the VM runs the probe as its own identity (sandbox Run Command).</summary>
[Collection(TestAccessCollection.Name)]
public sealed class TestAccessInWorkloadTests
{
    private readonly TestAccessSandbox _s;

    public TestAccessInWorkloadTests(TestAccessSandbox sandbox) => _s = sandbox;

    [Fact]
    public void InWorkload_proves_a_vm_pull_and_is_skipped_for_a_web_app()
    {
        string vm = _s.Id("live", "Microsoft.Compute/virtualMachines", "liveProbeVm");
        var result = _s.Ps.Run("""
            $r = Test-AcrPullAccess -ResourceId $args[0] -Registry liveacr -Image aci-helloworld:v1 -InWorkload
            $c = $r.Checks | Where-Object Id -eq InWorkloadProbe
            "$($r.CanPull)|$($c.Result)|$($c.Message)"
            $w = (Test-AcrPullAccess -ResourceId $args[1] -InWorkload).Checks | Where-Object Id -eq InWorkloadProbe
            "$($w.Result)|$($w.Message)"
            """, vm, _s.AppId("liveHealthy"));
        Assert.True(result.Errors.Count == 0, result.ToString());
        var lines = result.Output.Select(o => o?.ToString() ?? "").ToList();
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("True|Pass|Inside liveProbeVm", lines[0]);
        Assert.Contains("HEAD manifest aci-helloworld:v1 200", lines[0]);
        Assert.StartsWith("Skipped|Skipped: a WebApp has no Run Command", lines[1]);
        Assert.DoesNotContain("eyJ", result.ToString());
    }

    private (string Result, string Message, string Fix) Probe(string resourceId, string? instanceId = null)
    {
        var result = _s.Ps.Run("""
            $p = @{ ResourceId = $args[0]; Registry = 'liveacr'; Image = 'aci-helloworld:v1'; InWorkload = $true }
            if ($args[1]) { $p.InstanceId = $args[1] }
            $c = (Test-AcrPullAccess @p).Checks | Where-Object Id -eq InWorkloadProbe
            $c.Result; $c.Message; "$($c.Fix)"
            """, resourceId, instanceId ?? "");
        Assert.True(result.Errors.Count == 0, result.ToString());
        Assert.DoesNotContain("eyJ", result.ToString());
        var lines = result.Output.Select(o => o?.ToString() ?? "").ToList();
        Assert.Equal(3, lines.Count);
        return (lines[0], lines[1], lines[2]);
    }

    private static void AssertPulled((string Result, string Message, string Fix) c, string inside)
    {
        Assert.Equal("Pass", c.Result);
        Assert.StartsWith($"Inside {inside} as ", c.Message);
        Assert.Contains("HEAD manifest aci-helloworld:v1 200", c.Message);
    }

    private static void AssertStoppedAtScopedToken((string Result, string Message, string Fix) c, string inside)
    {
        Assert.Equal("Fail", c.Result);
        Assert.StartsWith($"Inside {inside} as ", c.Message);
        Assert.Contains("exchange ok, then /oauth2/token (scope repository:aci-helloworld:pull)", c.Message);
        Assert.Contains("Give the identity AcrPull on the registry", c.Fix);
    }

    [Fact]
    public void InWorkload_on_a_scale_set_probes_its_first_instance_or_the_one_asked_for()
    {
        string vmss = _s.Id("live", "Microsoft.Compute/virtualMachineScaleSets", "liveProbeVmss");
        AssertPulled(Probe(vmss), "liveProbeVmss instance 0");
        AssertPulled(Probe(vmss, "1"), "liveProbeVmss instance 1");
    }

    [Fact]
    public void InWorkload_on_a_scale_set_without_AcrPull_fails_at_the_scoped_token_with_the_fix()
    {
        AssertStoppedAtScopedToken(Probe(_s.Id("live", "Microsoft.Compute/virtualMachineScaleSets", "liveNoPullVmss")), "liveNoPullVmss instance 0");
    }

    /// <summary>The probe could not run in the machine: Skipped, saying why, with the command that fixes it.</summary>
    private void AssertSkipped(string type, string name, string? instanceId, string message, string fix)
    {
        var c = Probe(_s.Id("live", "Microsoft.Compute/" + type, name), instanceId);
        Assert.Equal("Skipped", c.Result);
        Assert.Contains(message, c.Message);
        Assert.Contains(fix, c.Fix);
    }

    [Fact]
    public void InWorkload_on_a_scale_set_without_instances_is_skipped_with_the_fix() =>
        AssertSkipped("virtualMachineScaleSets", "liveEmptyVmss", null, "scale set liveEmptyVmss has no instances", "az vmss scale --name liveEmptyVmss --new-capacity 1");

    [Fact]
    public void InWorkload_on_a_scale_set_with_every_instance_deallocated_is_skipped_with_az_vmss_start() =>
        AssertSkipped("virtualMachineScaleSets", "liveColdVmss", null,
            "none of the 2 instance(s) of scale set liveColdVmss is running (0: deallocated, 1: deallocated)",
            "Start an instance (az vmss start --resource-group live --name liveColdVmss --instance-ids 0), then run again.");

    [Fact]
    public void InWorkload_on_a_scale_set_probes_a_running_instance_past_a_stopped_one_and_InstanceId_of_the_stopped_one_is_skipped()
    {
        AssertPulled(Probe(_s.Id("live", "Microsoft.Compute/virtualMachineScaleSets", "liveHalfVmss")), "liveHalfVmss instance 1");
        AssertSkipped("virtualMachineScaleSets", "liveHalfVmss", "0",
            "Skipped: instance 0 of scale set liveHalfVmss is not running (deallocated), so Run Command cannot run the probe in it.",
            "Start it (az vmss start --resource-group live --name liveHalfVmss --instance-ids 0), then run again; or pass -InstanceId 1 (running), or leave -InstanceId out.");
    }

    [Fact]
    public void InWorkload_on_a_deallocated_vm_is_skipped_saying_it_is_not_running_and_how_to_start_it() =>
        AssertSkipped("virtualMachines", "liveOffVm", null,
            "Skipped: liveOffVm is not running, so Run Command cannot run the probe in it (Azure: The operation requires the VM to be running",
            "Start it (az vm start --resource-group live --name liveOffVm), then run again.");

    [Fact]
    public void InWorkload_on_a_Windows_vm_runs_the_PowerShell_probe()
    {
        AssertPulled(Probe(_s.Id("live", "Microsoft.Compute/virtualMachines", "liveWinVm")), "liveWinVm");
        AssertStoppedAtScopedToken(Probe(_s.Id("live", "Microsoft.Compute/virtualMachines", "liveWinNoPullVm")), "liveWinNoPullVm");
    }

    [Fact]
    public void InstanceId_is_refused_without_InWorkload_off_a_scale_set_and_for_an_instance_the_set_lacks()
    {
        string vmss = _s.Id("live", "Microsoft.Compute/virtualMachineScaleSets", "liveProbeVmss");
        var without = _s.Ps.Run("Test-AcrPullAccess -ResourceId $args[0] -InstanceId 0", vmss);
        Assert.StartsWith("Test-AcrPullAccess.InstanceIdWithoutInWorkload", without.Terminating?.FullyQualifiedErrorId);

        foreach (string instance in new[] { "'0;rm'", "'  '" })
        {
            var bad = _s.Ps.Run("Test-AcrPullAccess -ResourceId $args[0] -InWorkload -InstanceId " + instance, vmss);
            Assert.StartsWith("Test-AcrPullAccess.InvalidInstanceId", bad.Terminating?.FullyQualifiedErrorId);
        }

        var vm = _s.Ps.Run("Test-AcrPullAccess -ResourceId $args[0] -Image aci-helloworld:v1 -InWorkload -InstanceId 0",
            _s.Id("live", "Microsoft.Compute/virtualMachines", "liveProbeVm"));
        var notSet = Assert.Single(vm.Errors);
        Assert.StartsWith("Test-AcrPullAccess.InstanceIdNotApplicable", notSet.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, notSet.CategoryInfo.Category);

        var missing = _s.Ps.Run("Test-AcrPullAccess -ResourceId $args[0] -Registry liveacr -Image aci-helloworld:v1 -InWorkload -InstanceId 7", vmss);
        var e = Assert.Single(missing.Errors);
        Assert.StartsWith("Test-AcrPullAccess.InstanceNotFound", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        Assert.Contains("its instances are 0, 1", e.Exception.Message);
        Assert.Equal(vmss, e.TargetObject?.ToString(), ignoreCase: true);
    }

    /// <summary>The Windows probe (the engine embeds this file) must parse, need no module, and print no token.</summary>
    [Fact]
    public void Windows_probe_script_parses_uses_no_module_commands_and_prints_only_step_lines()
    {
        string path = Path.Combine(Repo.Root, "src", "AcrIdentity.Engine", "Checks", "Live", "InWorkloadProbe.ps1");
        ScriptBlockAst ast = Parser.ParseFile(path, out _, out ParseError[] errors);
        Assert.Empty(errors);

        // Windows PowerShell 5.1 runs it on Windows VMs: none of PowerShell 7's syntax (this parser accepts it).
        var newer = ast.FindAll(a => a is TernaryExpressionAst or PipelineChainAst
            || a is BinaryExpressionAst { Operator: TokenKind.QuestionQuestion }
            || a is AssignmentStatementAst { Operator: TokenKind.QuestionQuestionEquals }
            || a is MemberExpressionAst { NullConditional: true }
            || a is IndexExpressionAst { NullConditional: true }
            || a is PipelineAst { Background: true }, true).Select(a => a.Extent.Text).ToList();
        Assert.Empty(newer);
        Assert.DoesNotContain(ast.FindAll(a => a is CommandParameterAst p && p.ParameterName.Equals("Parallel", StringComparison.OrdinalIgnoreCase), true), _ => true);

        var functions = ast.FindAll(a => a is FunctionDefinitionAst, true).Cast<FunctionDefinitionAst>().ToList();
        var own = functions.Select(f => f.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Equal(new[] { "Call", "Say", "Val", "Why" }, own.OrderBy(n => n));
        // Only its own functions: Windows PowerShell 5.1 and hosts with the core cmdlets only run it alike.
        var commands = ast.FindAll(a => a is CommandAst, true).Cast<CommandAst>().Select(c => c.GetCommandName()).ToList();
        Assert.All(commands, name => Assert.Contains(name, own));

        // Outside the helpers whose results are assigned, every statement that writes output is a Say line…
        static bool Captured(Ast a)
        {
            for (var p = a.Parent; p != null; p = p.Parent)
                if (p is AssignmentStatementAst || p is FunctionDefinitionAst { Name: not "Say" }) return true;
            return false;
        }
        var emitting = ast.FindAll(a => a is PipelineAst && a.Parent is StatementBlockAst or NamedBlockAst, true).Where(a => !Captured(a)).ToList();
        Assert.NotEmpty(emitting);
        foreach (Ast statement in emitting)
        {
            bool sayCall = statement is PipelineAst { PipelineElements: [CommandAst c] } && c.GetCommandName() == "Say";
            bool sayLine = statement.Parent?.Parent?.Parent is FunctionDefinitionAst { Name: "Say" }
                && statement.Extent.Text.StartsWith("\"ACRPROBE ", StringComparison.Ordinal);
            Assert.True(sayCall || sayLine, "writes output: " + statement.Extent.Text);
        }
        // …and no Say line is given a token.
        string[] tokens = { "Aad", "Rt", "At", "p", "claims" };
        foreach (CommandAst say in ast.FindAll(a => a is CommandAst c && c.GetCommandName() == "Say", true).Cast<CommandAst>())
        {
            var used = say.FindAll(a => a is VariableExpressionAst, true).Cast<VariableExpressionAst>().Select(v => v.VariablePath.UserPath);
            Assert.DoesNotContain(used, u => tokens.Contains(u, StringComparer.OrdinalIgnoreCase));
        }
    }
}
