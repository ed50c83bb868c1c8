using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Certificates;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>
/// VM Run Command (POST {vmId}/runCommand, commandId RunShellScript): the script runs here with bash, as the
/// VM. The VM's identity is reached by the environment variable <c>ACRIDENTITY_IMDS</c> = the VM's own IMDS
/// base URL (from IdentityArea.EnsureMachineAsync); a script that honours it, like Test-AcrPullAccess
/// -InWorkload's probe, gets that VM's tokens. curl trusts the sandbox CA through CURL_CA_BUNDLE.
/// ARM's shape: 202 + Azure-AsyncOperation/Location, and the final GET answers
/// {"value":[{"code":"ProvisioningState/succeeded","message":"Enable succeeded: \n[stdout]\n…\n[stderr]\n…"}]}.
/// </summary>
public sealed class RunCommandArea : ISandboxArea
{
    /// <summary>How long a script may run before it is killed (Azure's own limit is 90 minutes).</summary>
    public static TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    public void Map(WebApplication app, SandboxContext ctx) =>
        // Handlers are process-wide; each request carries its own sandbox context.
        ArmActions.Register("Microsoft.Compute/virtualMachines", "runCommand", Handle);

    static async Task Handle(ArmRequest r, ResourceEntryView vm)
    {
        var (body, error) = await ArmHttp.ReadObject(r.Http);
        if (body is null) { await ArmHttp.Error(r.Http, 400, "InvalidRequestContent", error ?? "The request body is missing."); return; }
        string? commandId = body["commandId"]?.GetValue<string>();
        if (commandId is null || body["script"] is not JsonArray lines)
        {
            await ArmHttp.Error(r.Http, 400, "InvalidParameter", "Required parameters 'commandId' and 'script' are missing.");
            return;
        }
        string script = string.Join("\n", lines.Select(l => l?.GetValue<string>() ?? ""));

        Task<JsonNode?> run = commandId.Equals("RunShellScript", StringComparison.OrdinalIgnoreCase)
            ? RunAsync(r.Ctx, vm.Id, script)
            : Task.FromResult<JsonNode?>(Result($"Enable failed: the sandbox runs only RunShellScript, not {commandId}.", "", "ProvisioningState/failed"));
        string location = vm.Resource["location"]?.GetValue<string>() ?? r.World.DefaultLocation;
        var op = ArmLro.Start(r, vm.Id, "Microsoft.Compute", location, null, false, run, () => run.Result);
        await ArmHttp.Json(r.Http, 202, null, new Dictionary<string, string>
        {
            ["Azure-AsyncOperation"] = op.StatusUrl, ["Location"] = op.ResultUrl, ["Retry-After"] = "1",
        });
    }

    static async Task<JsonNode?> RunAsync(SandboxContext ctx, string vmId, string script)
    {
        var endpoints = await Auth.IdentityArea.For(ctx).EnsureMachineAsync(vmId);
        var psi = new ProcessStartInfo("bash", "-s")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["ACRIDENTITY_IMDS"] = endpoints.ImdsEndpoint ?? "";
        psi.Environment["CURL_CA_BUNDLE"] = Path.Combine(ctx.Certificates.CaDir, SandboxCertificates.CaCertFile);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(script);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(Timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return Result("Enable failed: the script did not finish in time.", await stdout, await stderr, "ProvisioningState/failed");
        }
        return Result("Enable succeeded: ", await stdout, await stderr);
    }

    static JsonObject Result(string head, string stdout, string stderr, string code = "ProvisioningState/succeeded")
    {
        var message = new StringBuilder(head).Append("\n[stdout]\n").Append(stdout).Append("\n[stderr]\n").Append(stderr);
        bool ok = code.EndsWith("succeeded", StringComparison.Ordinal);
        return new JsonObject
        {
            ["value"] = new JsonArray(new JsonObject
            {
                ["code"] = code, ["level"] = ok ? "Info" : "Error",
                ["displayStatus"] = ok ? "Provisioning succeeded" : "Provisioning failed", ["message"] = message.ToString(),
            }),
        };
    }
}
