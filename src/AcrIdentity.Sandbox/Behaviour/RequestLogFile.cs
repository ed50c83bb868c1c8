using System.Globalization;
using Microsoft.AspNetCore.Builder;

namespace AcrIdentity.Sandbox.Behaviour;

/// <summary>
/// Opt-in copy of the request log to a file, for processes outside the sandbox (bench/ scripts): with
/// ACRIDENTITY_SANDBOX_REQUEST_LOG=PATH set when the sandbox starts, every request is appended to PATH as one
/// tab-separated line: UTC time (ISO 8601), method, status, kind, caller object ID (or -), path and query, and the
/// milliseconds the sandbox took to answer (added latency included).
/// Lines appear within about 100 ms of the reply (polled: the log has no event) and on stop. Unset: nothing.
/// </summary>
public sealed class RequestLogFile : ISandboxArea
{
    public const string EnvironmentVariable = "ACRIDENTITY_SANDBOX_REQUEST_LOG";

    readonly string? _path = Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } p ? Path.GetFullPath(p) : null;
    readonly CancellationTokenSource _stop = new();
    readonly object _gate = new();
    StreamWriter? _writer;
    Task? _poller;
    int _written;

    public void Map(WebApplication app, SandboxContext ctx) { }

    public Task StartedAsync(SandboxContext ctx, CancellationToken ct)
    {
        if (_path is null) return Task.CompletedTask;
        _writer = new StreamWriter(new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = false };
        _poller = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            try { while (await timer.WaitForNextTickAsync(_stop.Token)) Flush(ctx.Requests); }
            catch (OperationCanceledException) { }
        });
        return Task.CompletedTask;
    }

    public async ValueTask StopAsync(SandboxContext ctx)
    {
        if (_writer is null) return;
        _stop.Cancel();
        if (_poller is not null) await _poller;
        Flush(ctx.Requests);
        lock (_gate) _writer.Dispose();
    }

    void Flush(RequestLog log)
    {
        lock (_gate)
        {
            var entries = log.Entries;
            if (entries.Count < _written) _written = 0;   // someone cleared the log: start over from its beginning
            for (; _written < entries.Count; _written++)
            {
                var e = entries[_written];
                _writer!.Write(string.Join('\t',
                    e.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), e.Method,
                    e.Status.ToString(CultureInfo.InvariantCulture), e.Kind.ToString(), e.CallerObjectId ?? "-", e.PathAndQuery,
                    e.Elapsed.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture)));
                _writer.Write('\n');
            }
            _writer!.Flush();
        }
    }
}
