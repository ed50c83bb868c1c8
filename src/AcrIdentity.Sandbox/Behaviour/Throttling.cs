using System.Collections.Concurrent;

namespace AcrIdentity.Sandbox.Behaviour;

public enum OpKind { Read, Write, Delete }

/// <summary>ARM's token buckets: per subscription (or tenant), per principal, per operation kind.</summary>
public sealed class Throttling
{
    readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>When false the buckets still count (headers) but never answer 429.</summary>
    public bool Enabled { get; set; }
    public int ReadCapacity { get; set; } = 250;
    public double ReadRefillPerSecond { get; set; } = 25;
    public int WriteCapacity { get; set; } = 200;
    public double WriteRefillPerSecond { get; set; } = 10;
    public int DeleteCapacity { get; set; } = 200;
    public double DeleteRefillPerSecond { get; set; } = 10;

    public void Reset() => _buckets.Clear();

    /// <summary>Takes one token. Returns (allowed, remaining, retryAfterSeconds).</summary>
    public (bool Allowed, int Remaining, int RetryAfter) Take(string scopeKey, string principal, OpKind kind, DateTimeOffset now)
    {
        var (cap, rate) = kind switch
        {
            OpKind.Read => (ReadCapacity, ReadRefillPerSecond),
            OpKind.Write => (WriteCapacity, WriteRefillPerSecond),
            _ => (DeleteCapacity, DeleteRefillPerSecond),
        };
        var b = _buckets.GetOrAdd($"{scopeKey}|{principal}|{kind}", _ => new Bucket(cap, now));
        lock (b)
        {
            var elapsed = Math.Max(0, (now - b.Last).TotalSeconds);
            b.Tokens = Math.Min(cap, b.Tokens + elapsed * rate);
            b.Last = now;
            if (b.Tokens >= 1)
            {
                b.Tokens -= 1;
                return (true, (int)Math.Floor(b.Tokens), 0);
            }
            if (!Enabled) return (true, 0, 0);
            var wait = rate <= 0 ? 60 : (int)Math.Ceiling((1 - b.Tokens) / rate);
            return (false, 0, Math.Max(1, wait));
        }
    }

    sealed class Bucket(double tokens, DateTimeOffset last)
    {
        public double Tokens = tokens;
        public DateTimeOffset Last = last;
    }
}
