using System.Collections.Concurrent;

namespace AcrIdentity.Sandbox.Behaviour;

public enum RequestKind { Arm, Arg, Token, Registry, Other, Graph }

/// <summary>One answered request; <paramref name="Elapsed"/> is the sandbox's own time on it, added latency included.</summary>
public sealed record RequestLogEntry(DateTimeOffset Timestamp, string Method, string PathAndQuery, int Status,
    string? CallerObjectId, RequestKind Kind, TimeSpan Elapsed = default)
{
    public bool IsWrite => Method is not ("GET" or "HEAD" or "OPTIONS");
}

/// <summary>Every request the sandbox answered, in order. Tests assert on it ("zero ARM writes").</summary>
public sealed class RequestLog
{
    /// <summary>HttpContext.Items key where handlers put the caller's object ID.</summary>
    public const string CallerKey = "sandbox.callerObjectId";
    /// <summary>HttpContext.Items key where handlers may override the kind.</summary>
    public const string KindKey = "sandbox.requestKind";

    readonly ConcurrentQueue<RequestLogEntry> _entries = new();

    public void Add(RequestLogEntry e) => _entries.Enqueue(e);
    public IReadOnlyList<RequestLogEntry> Entries => _entries.ToArray();
    public int Count => _entries.Count;
    public void Clear() => _entries.Clear();

    /// <summary>ARM requests that change something (PUT, PATCH, POST, DELETE).</summary>
    public IReadOnlyList<RequestLogEntry> ArmWrites() => Entries.Where(e => e.Kind == RequestKind.Arm && e.IsWrite).ToList();

    public IReadOnlyList<RequestLogEntry> Where(Func<RequestLogEntry, bool> predicate) => Entries.Where(predicate).ToList();
}
