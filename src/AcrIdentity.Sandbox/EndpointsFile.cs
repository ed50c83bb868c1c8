using System.Text.Json;

namespace AcrIdentity.Sandbox;

/// <summary>
/// Writes &lt;StateDir&gt;/endpoints.json (the contract in issue 3) atomically: outside tools may read it at any
/// moment, and it is rewritten whenever runAs or the registries change.
/// </summary>
public static class EndpointsFile
{
    public const string FileName = "endpoints.json";
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true };
    static readonly SemaphoreSlim Gate = new(1, 1);

    public static string PathFor(SandboxOptions options) => Path.Combine(options.StateDir, FileName);

    public static async Task WriteAsync(SandboxContext ctx, CancellationToken ct = default)
    {
        string json;
        lock (ctx.Endpoints.RunAs) json = JsonSerializer.Serialize(ctx.Endpoints, Options);
        var path = PathFor(ctx.Options);
        await Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            await File.WriteAllTextAsync(tmp, json, ct).ConfigureAwait(false);
            // The file holds the operator's secret: owner-only.
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(tmp, path, overwrite: true);
        }
        finally { Gate.Release(); }
    }
}
