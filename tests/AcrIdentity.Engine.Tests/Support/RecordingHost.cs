using System.Collections.Concurrent;
using AcrIdentity.Engine.Hosting;

namespace AcrIdentity.Engine.Tests.Support;

/// <summary>An IEngineHost that keeps every line, as the cmdlet's queue would.</summary>
public sealed class RecordingHost : IEngineHost
{
    public ConcurrentQueue<string> Verbose { get; } = new();
    public ConcurrentQueue<string> Debug { get; } = new();
    public ConcurrentQueue<string> Warnings { get; } = new();
    public ConcurrentQueue<EngineProgress> Progress { get; } = new();

    public void WriteVerbose(string message) => Verbose.Enqueue(message);
    public void WriteDebug(string message) => Debug.Enqueue(message);
    public void WriteWarning(string message) => Warnings.Enqueue(message);
    public void WriteProgress(EngineProgress progress) => Progress.Enqueue(progress);

    /// <summary>Everything written to any stream, for "no token text anywhere" checks.</summary>
    public string AllText() => string.Join("\n", Verbose.Concat(Debug).Concat(Warnings)
        .Concat(Progress.Select(p => p.Activity + " " + p.Status)));
}
