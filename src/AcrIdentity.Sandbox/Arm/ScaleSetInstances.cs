using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>
/// A Uniform scale set's instances, derived from the scale set as Azure derives them: <c>sku.capacity</c>
/// instances "0".."n-1", each with the scale set's model (OS disk, size) and its identities, running unless a power
/// action (<see cref="MachinePowerArea"/>) or the scenario stopped them.
/// Shape of GET {vmss}/virtualMachines (api 2024-11-01, VirtualMachineScaleSetVMs_List); $expand=instanceView
/// adds properties.instanceView.statuses (ProvisioningState/succeeded, PowerState/running|stopped|deallocated|…).
/// A Flexible scale set (properties.orchestrationMode) has none here: its VMs are resources of their own.
/// </summary>
static class ScaleSetInstances
{
    public const string Type = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines";

    public static IReadOnlyList<JsonObject> Render(ArmRequest r, JsonObject set)
    {
        if (string.Equals(set["properties"]?["orchestrationMode"]?.GetValue<string>(), "Flexible", StringComparison.OrdinalIgnoreCase)) return [];
        int count = Capacity(set["sku"]?["capacity"]);
        string id = set["id"]!.GetValue<string>(), name = set["name"]!.GetValue<string>();
        var profile = set["properties"]?["virtualMachineProfile"] as JsonObject;
        string prefix = profile?["osProfile"]?["computerNamePrefix"]?.GetValue<string>() ?? name;
        string unique = set["properties"]?["uniqueId"]?.GetValue<string>() ?? id;
        bool expand = string.Equals(r.Query("$expand"), "instanceView", StringComparison.OrdinalIgnoreCase);
        var list = new List<JsonObject>(count);
        for (int i = 0; i < count; i++)
        {
            var props = new JsonObject
            {
                ["latestModelApplied"] = true,
                ["modelDefinitionApplied"] = "VirtualMachineScaleSet",
                ["vmId"] = StableGuid($"{unique}/{i}"),
                ["hardwareProfile"] = new JsonObject { ["vmSize"] = set["sku"]?["name"]?.DeepClone() },
                ["storageProfile"] = profile?["storageProfile"]?.DeepClone() ?? new JsonObject(),
                ["osProfile"] = new JsonObject { ["computerName"] = $"{prefix}{i:x6}" },
                ["provisioningState"] = "Succeeded",
            };
            string instanceId = $"{id}/virtualMachines/{i}";
            if (expand) props["instanceView"] = MachinePowerArea.InstanceView(r.World, instanceId);
            var instance = new JsonObject
            {
                ["name"] = $"{name}_{i}",
                ["id"] = instanceId,
                ["type"] = "Microsoft.Compute/virtualMachines",
                ["location"] = set["location"]?.DeepClone(),
                ["instanceId"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["sku"] = set["sku"]?.DeepClone(),
                ["properties"] = props,
            };
            // Instances carry the scale set's identities (their IMDS answers for them).
            if (set["identity"] is JsonObject identity) instance["identity"] = identity.DeepClone();
            list.Add(instance);
        }
        return list;
    }

    /// <summary>The resource IDs of a scale set's instances (as rendered: none for a Flexible set).</summary>
    public static IEnumerable<string> InstanceIds(JsonObject set)
    {
        if (string.Equals(set["properties"]?["orchestrationMode"]?.GetValue<string>(), "Flexible", StringComparison.OrdinalIgnoreCase)) return [];
        string id = set["id"]!.GetValue<string>();
        return Enumerable.Range(0, Capacity(set["sku"]?["capacity"])).Select(i => $"{id}/virtualMachines/{i}");
    }

    /// <summary>The scale set an instance ID belongs to.</summary>
    public static string ScaleSetOf(string instanceId) => instanceId[..instanceId.LastIndexOf("/virtualMachines/", StringComparison.OrdinalIgnoreCase)];

    static int Capacity(JsonNode? node)
    {
        if (node is not JsonValue v) return 0;
        if (v.TryGetValue<int>(out var i)) return Math.Max(0, i);
        if (v.TryGetValue<long>(out var l)) return (int)Math.Clamp(l, 0, 1000);
        return 0;
    }

    static string StableGuid(string text) => new Guid(MD5.HashData(Encoding.UTF8.GetBytes(text))).ToString();
}
