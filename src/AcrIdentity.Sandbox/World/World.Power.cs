namespace AcrIdentity.Sandbox.World;

/// <summary>A machine's power state as its instance view shows it (PowerState/&lt;value&gt;).</summary>
public static class PowerStates
{
    public const string Running = "running";
    public const string Stopped = "stopped";
    public const string Deallocated = "deallocated";

    public static bool IsKnown(string? state) => state is Running or Stopped or Deallocated;

    /// <summary>What the instance view shows while an operation moves a machine to <paramref name="target"/>.</summary>
    public static string Transition(string target) => target switch
    {
        Running => "starting",
        Stopped => "stopping",
        _ => "deallocating",
    };
}

public sealed partial class World
{
    // Machine ID (a VM's, or a scale set instance's {vmss}/virtualMachines/{n}) → target state and when it is reached.
    // Absent = running: every machine starts running, as one created through ARM does.
    readonly Dictionary<string, (string State, DateTimeOffset ReachedAt)> _power = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The power state shown now: running, stopped, deallocated, or starting/stopping/deallocating
    /// while an operation runs.</summary>
    public string PowerStateOf(string machineId)
    {
        lock (Gate)
        {
            if (!_power.TryGetValue(ResourceIds.Normalize(machineId), out var p)) return PowerStates.Running;
            return Now < p.ReachedAt ? PowerStates.Transition(p.State) : p.State;
        }
    }

    /// <summary>True when the machine runs or is being started: what Run Command accepts ("running (or set to run)").</summary>
    public bool IsSetToRun(string machineId)
    {
        lock (Gate) return !_power.TryGetValue(ResourceIds.Normalize(machineId), out var p) || p.State == PowerStates.Running;
    }

    /// <summary>Moves machines to <paramref name="state"/> (a <see cref="PowerStates"/> value), reached after
    /// <paramref name="after"/>. powerOff leaves a deallocated machine deallocated (it has nothing to stop).</summary>
    public void SetPowerState(IEnumerable<string> machineIds, string state, TimeSpan after = default)
    {
        if (!PowerStates.IsKnown(state)) throw new ArgumentException($"Unknown power state '{state}'.", nameof(state));
        lock (Gate)
        {
            foreach (var raw in machineIds)
            {
                var id = ResourceIds.Normalize(raw);
                if (state == PowerStates.Stopped && _power.TryGetValue(id, out var p) && p.State == PowerStates.Deallocated) continue;
                if (state == PowerStates.Running && after <= TimeSpan.Zero) _power.Remove(id);
                else _power[id] = (state, Now + after);
            }
        }
        RaiseChanged();
    }

    /// <summary>Forgets the power state of a deleted resource and of everything under it (scale set instances).</summary>
    void ForgetPowerLocked(string resourceId)
    {
        foreach (var key in _power.Keys.Where(k => ResourceIds.Same(k, resourceId) || k.StartsWith(resourceId + "/", StringComparison.OrdinalIgnoreCase)).ToList())
            _power.Remove(key);
    }
}
