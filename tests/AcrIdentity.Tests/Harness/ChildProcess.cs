using System.Diagnostics;

namespace AcrIdentity.Tests.Harness;

/// <summary>Runs `dotnet &lt;dll&gt; args` as a fresh process (fresh load contexts and MSAL statics).</summary>
public static class ChildProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";
    }

    public static Result RunDotnet(string dll, IEnumerable<string> args, IDictionary<string, string?>? env = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // Only what the test chooses: no ambient credentials from this process.
        foreach (string name in EnvScope.Ambient)
        {
            psi.Environment.Remove(name);
        }

        foreach (var (name, value) in env ?? new Dictionary<string, string?>())
        {
            if (value is null) psi.Environment.Remove(name); else psi.Environment[name] = value;
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(dll)} did not finish in time");
        }

        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
