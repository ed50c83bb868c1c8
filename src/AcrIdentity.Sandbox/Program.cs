using AcrIdentity.Sandbox;
using AcrIdentity.Sandbox.Certificates;

// Entry point of the standalone sandbox:
//   init-ca --ca-dir DIR                       write DIR/ca.crt, ca.key, ca-bundle.pem (reused when present)
//   --state-dir DIR [--scenario FILE] [--ca-dir DIR] [--no-registries]
//                                              run until SIGTERM/Ctrl+C; DIR/endpoints.json describes it
static string? Arg(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

if (args.Length > 0 && args[0] == "init-ca")
{
    var caDir = Arg(args, "--ca-dir");
    if (caDir is null)
    {
        Console.Error.WriteLine("usage: init-ca --ca-dir DIR");
        return 2;
    }
    using var certs = SandboxCertificates.LoadOrCreate(Path.GetFullPath(caDir));
    Console.WriteLine(certs.CaBundlePath);
    return 0;
}

var stateDir = Arg(args, "--state-dir");
if (stateDir is null || args.Contains("--help") || args.Contains("-h"))
{
    Console.Error.WriteLine("usage: AcrIdentity.Sandbox --state-dir DIR [--scenario FILE] [--ca-dir DIR] [--no-registries]\n" +
                            "       AcrIdentity.Sandbox init-ca --ca-dir DIR");
    return stateDir is null ? 2 : 0;
}

var options = new SandboxOptions
{
    StateDir = Path.GetFullPath(stateDir),
    CaDir = Arg(args, "--ca-dir") is { } ca ? Path.GetFullPath(ca)
        : Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR") is { Length: > 0 } envCa ? envCa : null,
    ScenarioFile = Arg(args, "--scenario") is { } s ? Path.GetFullPath(s) : null,
    StartRegistries = !args.Contains("--no-registries"),
};

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;   // shut down in order instead of dying with the registry processes orphaned
    stop.Cancel();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
    {
        ctx.Cancel = true;
        stop.Cancel();
    });

SandboxHost host;
try
{
    host = await SandboxHost.StartAsync(options, stop.Token);
}
catch (OperationCanceledException)
{
    return 130;
}
await using (host)
{
    Console.WriteLine($"sandbox: ARM {host.ArmEndpoint} ; endpoints in {host.EndpointsFile}");
    try { await Task.Delay(Timeout.Infinite, stop.Token); }
    catch (OperationCanceledException) { }
    Console.WriteLine("sandbox: stopping");
}
return 0;
