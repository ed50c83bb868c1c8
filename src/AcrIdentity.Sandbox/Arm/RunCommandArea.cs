using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>
/// VM Run Command: POST {vmId}/runCommand and, for a scale set instance, POST {vmss}/virtualMachines/{instanceId}/runCommand
/// (instances: <see cref="ScaleSetInstances"/>). The script runs here, as that machine: the environment variable
/// <c>ACRIDENTITY_IMDS</c> = the machine's own IMDS base URL (a scale set instance uses its scale set's, whose
/// identities it carries); a script that honours it, like Test-AcrPullAccess -InWorkload's probes, gets that
/// machine's tokens. RunShellScript runs with bash (curl trusts the sandbox CA through CURL_CA_BUNDLE);
/// RunPowerShellScript runs with <see cref="SandboxOptions.PowerShell"/> (pwsh, or tools/PwshHost), trusting the CA
/// through SSL_CERT_FILE. The command must match the machine's OS (storageProfile.osDisk.osType, default Linux).
/// ARM's shape: 202 + Azure-AsyncOperation/Location, and the final GET answers the agent's statuses: Linux
/// {"value":[{"code":"ProvisioningState/succeeded","message":"Enable succeeded: \n[stdout]\n…\n[stderr]\n…"}]},
/// Windows {"value":[{"code":"ComponentStatus/StdOut/succeeded","message":"…"},{"code":"ComponentStatus/StdErr/succeeded",…}]}.
/// </summary>
public sealed class RunCommandArea : ISandboxArea
{
    /// <summary>How long a script may run before it is killed (Azure's own limit is 90 minutes).</summary>
    public static TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Environment variable naming what runs RunPowerShellScript when SandboxOptions.PowerShell is not set.</summary>
    public const string PowerShellVariable = "ACRIDENTITY_SANDBOX_PWSH";

    public void Map(WebApplication app, SandboxContext ctx)
    {
        // Handlers are process-wide; each request carries its own sandbox context.
        ArmActions.Register(ResourceTypes.VirtualMachine, "runCommand", (r, vm) => Handle(r, vm, vm.Id));
        ArmActions.Register(ScaleSetInstances.Type, "runCommand", (r, instance) => Handle(r, instance, ScaleSetInstances.ScaleSetOf(instance.Id)));
        ArmActions.RegisterChildren(ResourceTypes.ScaleSet, "virtualMachines", ScaleSetInstances.Render);
    }

    static async Task Handle(ArmRequest r, ResourceEntryView machine, string identityHolder)
    {
        if (!r.World.IsSetToRun(machine.Id))
        {
            // Azure's answer for a stopped or deallocated VM (seen from az vm run-command invoke), before anything runs.
            await ArmHttp.Error(r.Http, 409, "OperationNotAllowed", "The operation requires the VM to be running (or set to run).");
            return;
        }
        var (body, error) = await ArmHttp.ReadObject(r.Http);
        if (body is null) { await ArmHttp.Error(r.Http, 400, "InvalidRequestContent", error ?? "The request body is missing."); return; }
        string? commandId = body["commandId"]?.GetValue<string>();
        if (commandId is null || body["script"] is not JsonArray lines)
        {
            await ArmHttp.Error(r.Http, 400, "InvalidParameter", "Required parameters 'commandId' and 'script' are missing.");
            return;
        }
        string script = string.Join("\n", lines.Select(l => l?.GetValue<string>() ?? ""));
        string os = machine.Resource["properties"]?["storageProfile"]?["osDisk"]?["osType"]?.GetValue<string>() ?? "Linux";
        bool windows = os.Equals("Windows", StringComparison.OrdinalIgnoreCase);
        bool shell = commandId.Equals("RunShellScript", StringComparison.OrdinalIgnoreCase);
        bool powerShell = commandId.Equals("RunPowerShellScript", StringComparison.OrdinalIgnoreCase);
        if ((shell && windows) || (powerShell && !windows))
        {
            // [wording unverified] Azure refuses a command for the other OS before anything runs.
            await ArmHttp.Error(r.Http, 400, "BadRequest", $"Run command OS type '{(shell ? "Linux" : "Windows")}' does not match the target OS {(windows ? "Windows" : "Linux")}.");
            return;
        }

        Task<JsonNode?> run = shell ? RunShellAsync(r.Ctx, identityHolder, script)
            : powerShell ? RunPowerShellAsync(r.Ctx, identityHolder, script)
            : Task.FromResult<JsonNode?>(LinuxResult($"Enable failed: the sandbox runs only RunShellScript and RunPowerShellScript, not {commandId}.", "", "", ok: false));
        string location = machine.Resource["location"]?.GetValue<string>() ?? r.World.DefaultLocation;
        var op = ArmLro.Start(r, machine.Id, "Microsoft.Compute", location, null, false, run, () => run.Result);
        await ArmHttp.Json(r.Http, 202, null, new Dictionary<string, string>
        {
            ["Azure-AsyncOperation"] = op.StatusUrl, ["Location"] = op.ResultUrl, ["Retry-After"] = "1",
        });
    }

    static async Task<JsonNode?> RunShellAsync(SandboxContext ctx, string machineId, string script)
    {
        var psi = await StartInfoAsync(ctx, machineId, "bash", ["-s"]);
        psi.RedirectStandardInput = true;
        var (finished, stdout, stderr) = await RunAsync(psi, script);
        return finished ? LinuxResult("Enable succeeded: ", stdout, stderr, ok: true)
            : LinuxResult("Enable failed: the script did not finish in time.", stdout, stderr, ok: false);
    }

    static async Task<JsonNode?> RunPowerShellAsync(SandboxContext ctx, string machineId, string script)
    {
        string? host = FindPowerShell(ctx.Options);
        if (host is null)
        {
            // What Azure reports when the script cannot run: the command "succeeds" and stderr says why.
            return WindowsResult("", "The sandbox has no PowerShell to run RunPowerShellScript: set " + PowerShellVariable +
                " (or SandboxOptions.PowerShell) to pwsh or to tools/PwshHost's PwshHost.dll, or put pwsh on PATH.");
        }
        string dir = Path.Combine(ctx.Options.StateDir, "runcommand");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, $"script-{Guid.NewGuid():N}.ps1");
        await File.WriteAllTextAsync(file, script);
        try
        {
            bool dll = host.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
            var psi = await StartInfoAsync(ctx, machineId, dll ? "dotnet" : host,
                dll ? [host, "-AllowErrors", "-File", file] : ["-NoProfile", "-NonInteractive", "-File", file]);
            var (finished, stdout, stderr) = await RunAsync(psi, null);
            return finished ? WindowsResult(stdout, stderr) : WindowsResult(stdout, stderr + "\nThe script did not finish in time.", ok: false);
        }
        finally
        {
            try { File.Delete(file); } catch (IOException) { }
        }
    }

    static string? FindPowerShell(SandboxOptions options)
    {
        string? configured = options.PowerShell ?? Environment.GetEnvironmentVariable(PowerShellVariable);
        if (!string.IsNullOrWhiteSpace(configured)) return File.Exists(configured) ? configured : null;
        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "pwsh")).FirstOrDefault(File.Exists);
    }

    static async Task<ProcessStartInfo> StartInfoAsync(SandboxContext ctx, string machineId, string fileName, string[] args)
    {
        var endpoints = await Auth.IdentityArea.For(ctx).EnsureMachineAsync(machineId);
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["ACRIDENTITY_IMDS"] = endpoints.ImdsEndpoint ?? "";
        psi.Environment["CURL_CA_BUNDLE"] = ctx.Certificates.CaCertPath;
        psi.Environment["SSL_CERT_FILE"] = ctx.Certificates.CaCertPath;
        return psi;
    }

    static async Task<(bool Finished, string StdOut, string StdErr)> RunAsync(ProcessStartInfo psi, string? stdin)
    {
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(Timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (false, await stdout, await stderr);
        }
        return (true, await stdout, await stderr);
    }

    static JsonObject LinuxResult(string head, string stdout, string stderr, bool ok)
    {
        var message = new StringBuilder(head).Append("\n[stdout]\n").Append(stdout).Append("\n[stderr]\n").Append(stderr);
        return new JsonObject { ["value"] = new JsonArray(Status(ok ? "ProvisioningState/succeeded" : "ProvisioningState/failed", ok, message.ToString())) };
    }

    static JsonObject WindowsResult(string stdout, string stderr, bool ok = true)
    {
        string state = ok ? "succeeded" : "failed";
        return new JsonObject { ["value"] = new JsonArray(Status($"ComponentStatus/StdOut/{state}", ok, stdout), Status($"ComponentStatus/StdErr/{state}", ok, stderr)) };
    }

    static JsonObject Status(string code, bool ok, string message) => new()
    {
        ["code"] = code, ["level"] = ok ? "Info" : "Error",
        ["displayStatus"] = ok ? "Provisioning succeeded" : "Provisioning failed", ["message"] = message,
    };
}
