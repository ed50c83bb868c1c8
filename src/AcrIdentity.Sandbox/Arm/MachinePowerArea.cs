using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>
/// Power actions on VMs, scale sets and scale set instances (api 2024-11-01, VirtualMachines_Deallocate/Start/PowerOff,
/// VirtualMachineScaleSets_Deallocate/Start/PowerOff, VirtualMachineScaleSetVMs_Deallocate/Start/PowerOff):
/// POST {vm|vmss|vmss/virtualMachines/{id}}/{deallocate|powerOff|start}, a scale set's with an optional body
/// {"instanceIds":[…]} (none, empty or "*" = every instance; az vmss start sends ["*"]). ARM's shape: 202 +
/// Azure-AsyncOperation/Location, the operation result 200 without a body. While the operation runs (lroSeconds,
/// kind "virtualMachines") the instance view shows starting/stopping/deallocating. The query options hibernate and
/// skipShutdown are accepted and change nothing here. The state lives in <see cref="World.World.PowerStateOf"/>;
/// Run Command refuses a machine that is not set to run (<see cref="RunCommandArea"/>).
/// </summary>
public sealed class MachinePowerArea : ISandboxArea
{
    static readonly (string Action, string State)[] Actions =
    [
        ("deallocate", PowerStates.Deallocated), ("powerOff", PowerStates.Stopped), ("start", PowerStates.Running),
    ];

    public void Map(WebApplication app, SandboxContext ctx)
    {
        foreach (var (action, state) in Actions)
        {
            ArmActions.Register(ResourceTypes.VirtualMachine, action, (r, vm) => Apply(r, vm, [vm.Id], state));
            ArmActions.Register(ScaleSetInstances.Type, action, (r, instance) => Apply(r, instance, [instance.Id], state));
            ArmActions.Register(ResourceTypes.ScaleSet, action, (r, set) => ScaleSet(r, set, state));
        }
    }

    static async Task ScaleSet(ArmRequest r, ResourceEntryView set, string state)
    {
        var (body, error) = await ArmHttp.ReadObject(r.Http);
        if (body is null) { await ArmHttp.Error(r.Http, 400, "InvalidRequestContent", error!); return; }
        var instances = ScaleSetInstances.Render(r, set.Resource);
        var wanted = (body["instanceIds"] as JsonArray ?? []).Select(i => i?.ToString() ?? "").ToList();
        if (wanted.Count == 0 || wanted.Contains("*")) { await Apply(r, set, instances.Select(IdOf).ToList(), state); return; }
        var ids = new List<string>();
        foreach (var w in wanted)
        {
            var match = instances.FirstOrDefault(i => string.Equals(i["instanceId"]?.GetValue<string>(), w, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                await ArmHttp.Error(r.Http, 400, "InvalidParameter", $"The provided instanceId {w} is not an active Virtual Machine Scale Set VM instanceId.");
                return;
            }
            ids.Add(IdOf(match));
        }
        await Apply(r, set, ids, state);
    }

    static string IdOf(JsonObject instance) => instance["id"]!.GetValue<string>();

    static async Task Apply(ArmRequest r, ResourceEntryView target, IReadOnlyList<string> machines, string state)
    {
        var duration = r.Ctx.Behaviours.LroDurationFor("virtualMachines");
        r.World.SetPowerState(machines, state, duration);
        string location = target.Resource["location"]?.GetValue<string>() ?? r.World.DefaultLocation;
        var op = ArmLro.Start(r, target.Id, "Microsoft.Compute", location, r.World.Now + duration, false, result: () => null);
        await ArmHttp.Json(r.Http, 202, null, new Dictionary<string, string>
        {
            ["Azure-AsyncOperation"] = op.StatusUrl, ["Location"] = op.ResultUrl, ["Retry-After"] = "1",
        });
    }

    /// <summary>properties.instanceView of a machine as $expand=instanceView shows it.</summary>
    public static JsonObject InstanceView(World.World world, string machineId)
    {
        string power = world.PowerStateOf(machineId);
        return new JsonObject
        {
            ["statuses"] = new JsonArray(
                new JsonObject { ["code"] = "ProvisioningState/succeeded", ["level"] = "Info", ["displayStatus"] = "Provisioning succeeded" },
                new JsonObject { ["code"] = "PowerState/" + power, ["level"] = "Info", ["displayStatus"] = "VM " + power }),
        };
    }
}
