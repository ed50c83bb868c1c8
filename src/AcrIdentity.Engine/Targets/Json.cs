using System;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AcrIdentity.Engine.Targets
{
    /// <summary>Case-insensitive reads of ARM JSON: providers return property names in varying case.</summary>
    internal static class Json
    {
        internal static JsonNode? Get(JsonNode? node, params string[] path)
        {
            JsonNode? current = node;
            foreach (string name in path)
            {
                if (!(current is JsonObject o)) return null;
                JsonNode? next = null;
                foreach (var kv in o)
                {
                    if (string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase))
                    {
                        next = kv.Value;
                        break;
                    }
                }
                current = next;
            }
            return current;
        }

        internal static JsonObject? Obj(JsonNode? node, params string[] path) => Get(node, path) as JsonObject;

        internal static JsonArray? Arr(JsonNode? node, params string[] path) => Get(node, path) as JsonArray;

        internal static string? Str(JsonNode? node, params string[] path) =>
            Get(node, path) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

        internal static bool? Bool(JsonNode? node, params string[] path)
        {
            if (!(Get(node, path) is JsonValue v)) return null;
            switch (v.GetValueKind())
            {
                case JsonValueKind.True: return true;
                case JsonValueKind.False: return false;
                case JsonValueKind.String:
                    return bool.TryParse(v.GetValue<string>(), out bool b) ? b : (bool?)null;
                default: return null;
            }
        }

        /// <summary>Removes a property whatever its case; returns whether one was there.</summary>
        internal static bool Remove(JsonObject? o, string name)
        {
            if (o == null) return false;
            string? key = null;
            foreach (var kv in o)
            {
                if (string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)) key = kv.Key;
            }
            return key != null && o.Remove(key);
        }

        /// <summary>Sets a property, replacing one of the same name in any case (keeps the provider's casing).</summary>
        internal static void Set(JsonObject o, string name, JsonNode? value)
        {
            string key = name;
            foreach (var kv in o)
            {
                if (string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)) key = kv.Key;
            }
            o[key] = value;
        }

        internal static JsonObject Clone(JsonObject o) => (JsonObject)JsonNode.Parse(o.ToJsonString())!;

        internal static bool SameId(string? a, string? b) =>
            a != null && b != null && string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
    }
}
