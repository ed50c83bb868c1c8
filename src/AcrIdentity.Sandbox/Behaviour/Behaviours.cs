using System.Collections.Concurrent;

namespace AcrIdentity.Sandbox.Behaviour;

/// <summary>
/// Runtime switches (also set from the scenario's "behaviours" section). All are off by default except
/// the rate-limit headers, which every ARM reply carries.
/// </summary>
public sealed class Behaviours
{
    /// <summary>A new principal is unknown to role-assignment PUTs without principalType for this long.</summary>
    public TimeSpan ReplicationDelay { get; set; }

    /// <summary>Added to every ARM, Resource Graph and token reply.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Default duration of long-running writes (ACI, VM/VMSS, AKS, container apps).</summary>
    public TimeSpan LroDuration { get; set; }

    /// <summary>Per LRO kind ("containerGroups", "virtualMachines", "managedClusters", "containerApps").</summary>
    public ConcurrentDictionary<string, TimeSpan> LroDurations { get; } = new(StringComparer.OrdinalIgnoreCase);

    public TimeSpan LroDurationFor(string? kind) =>
        kind is null ? TimeSpan.Zero : LroDurations.TryGetValue(kind, out var d) ? d : LroDuration;

    public Throttling Throttling { get; private set; } = new();
    public FaultInjector Faults { get; } = new();

    /// <summary>Resource Graph per-caller quota: queries per 5 s window (x-ms-user-quota-* headers); 429 when
    /// exceeded and <see cref="ArgThrottlingEnabled"/>.</summary>
    public const int DefaultArgQuotaPerWindow = 15;
    public int ArgQuotaPerWindow { get; set; } = DefaultArgQuotaPerWindow;
    public bool ArgThrottlingEnabled { get; set; }

    /// <summary>Callers (object IDs, or "*" for everyone) to whom Microsoft Graph refuses directory reads with 403
    /// Authorization_RequestDenied, as to an identity without Directory.Read.All. Null: nobody. Replace, don't mutate.</summary>
    public IReadOnlyCollection<string>? GraphDirectoryReadDenied { get; set; }

    /// <summary>Every switch back to its default (what a test sharing one sandbox does between cases).</summary>
    public void Reset()
    {
        ReplicationDelay = TimeSpan.Zero;
        Latency = TimeSpan.Zero;
        LroDuration = TimeSpan.Zero;
        LroDurations.Clear();
        Throttling = new Throttling();
        Faults.Clear();
        ArgQuotaPerWindow = DefaultArgQuotaPerWindow;
        ArgThrottlingEnabled = false;
        GraphDirectoryReadDenied = null;
    }

    public bool IsGraphDirectoryReadDenied(string callerObjectId) =>
        GraphDirectoryReadDenied is { } denied
        && denied.Any(d => d == "*" || d.Equals(callerObjectId, StringComparison.OrdinalIgnoreCase));
}
