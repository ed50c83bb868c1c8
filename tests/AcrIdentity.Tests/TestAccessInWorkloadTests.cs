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
}
