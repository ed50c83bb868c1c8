namespace AcrIdentity.Sandbox.Behaviour;

/// <summary>Answer the Nth matching request (and the next Count-1) with an error instead of the real reply.</summary>
public sealed class FaultRule
{
    /// <summary>HTTP method to match; null = any.</summary>
    public string? Method { get; init; }
    /// <summary>Case-insensitive substring of path+query; null = any.</summary>
    public string? PathContains { get; init; }
    public int Status { get; init; } = 500;
    public string? Code { get; init; }
    public string? Message { get; init; }
    /// <summary>1 = the first matching request fails.</summary>
    public int Nth { get; init; } = 1;
    /// <summary>How many consecutive matching requests fail from the Nth on.</summary>
    public int Count { get; init; } = 1;
    public int? RetryAfterSeconds { get; init; }

    internal int Seen;
    internal int Fired;
    public int TimesFired => Fired;
}

public sealed class FaultInjector
{
    readonly List<FaultRule> _rules = [];

    public FaultRule Add(FaultRule rule) { lock (_rules) _rules.Add(rule); return rule; }
    public void Clear() { lock (_rules) _rules.Clear(); }
    public IReadOnlyList<FaultRule> Rules { get { lock (_rules) return _rules.ToList(); } }

    /// <summary>The rule that fires for this request, if any (counts the request against every matching rule).</summary>
    public FaultRule? Match(string method, string pathAndQuery)
    {
        lock (_rules)
        {
            FaultRule? hit = null;
            foreach (var r in _rules)
            {
                if (r.Method is not null && !r.Method.Equals(method, StringComparison.OrdinalIgnoreCase)) continue;
                if (r.PathContains is not null && !pathAndQuery.Contains(r.PathContains, StringComparison.OrdinalIgnoreCase)) continue;
                r.Seen++;
                if (hit is null && r.Seen >= r.Nth && r.Fired < r.Count) { r.Fired++; hit = r; }
            }
            return hit;
        }
    }
}
