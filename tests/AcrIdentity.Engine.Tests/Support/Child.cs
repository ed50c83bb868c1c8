using System.Diagnostics;
using System.Text.Json.Nodes;

namespace AcrIdentity.Engine.Tests.Support;

/// <summary>Runs ChildProgram in a fresh process with exactly the resolver variables given.</summary>
public static class Child
{
    public static Task<JsonObject> ResolveAsync(IDictionary<string, string?> environment, params string[] args) =>
        RunAsync(environment, new[] { "resolve" }.Concat(args).ToArray());

    public static async Task<JsonObject> RunAsync(IDictionary<string, string?> environment, params string[] args)
    {
        string dll = typeof(ChildProgram).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add("--runtimeconfig");
        psi.ArgumentList.Add(Path.ChangeExtension(dll, ".runtimeconfig.json"));
        psi.ArgumentList.Add("--depsfile");
        psi.ArgumentList.Add(Path.ChangeExtension(dll, ".deps.json"));
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var name in EnvScope.ResolverVariables) psi.Environment.Remove(name);
        foreach (var kv in environment) psi.Environment[kv.Key] = kv.Value;

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The child process did not finish in 90 s. stderr: " + await stderr);
        }
        string output = (await stdout).Trim();
        string line = output.Split('\n').LastOrDefault(l => l.TrimStart().StartsWith('{')) ?? "";
        if (process.ExitCode != 0 || line.Length == 0)
        {
            throw new InvalidOperationException($"Child exited {process.ExitCode}. stdout: {output} stderr: {await stderr}");
        }
        return (JsonObject)JsonNode.Parse(line)!;
    }
}
