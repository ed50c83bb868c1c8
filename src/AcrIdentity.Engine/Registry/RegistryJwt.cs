using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AcrIdentity.Engine.Registry
{
    /// <summary>
    /// Reads the claims clients rely on from ACR's JWTs (exp, access). No signature check: the registry that
    /// issued the token is the one that will judge it; we only read what it says.
    /// </summary>
    internal static class RegistryJwt
    {
        internal static JsonObject? Claims(string? jwt)
        {
            if (string.IsNullOrEmpty(jwt)) return null;
            string[] parts = jwt!.Split('.');
            if (parts.Length < 2) return null;
            try
            {
                return JsonNode.Parse(Encoding.UTF8.GetString(FromBase64Url(parts[1]))) as JsonObject;
            }
            catch (Exception ex) when (ex is FormatException || ex is JsonException || ex is ArgumentException)
            {
                return null;
            }
        }

        /// <summary>exp as a date; null when absent or unreadable (callers then say "unknown" rather than guess).</summary>
        internal static DateTimeOffset? Expiry(string? jwt)
        {
            JsonNode? exp = Claims(jwt)?["exp"];
            if (exp is JsonValue v)
            {
                if (v.TryGetValue(out long seconds)) return DateTimeOffset.FromUnixTimeSeconds(seconds);
                if (v.TryGetValue(out double d)) return DateTimeOffset.FromUnixTimeSeconds((long)d);
                if (v.TryGetValue(out string? s) && long.TryParse(s, out long parsed)) return DateTimeOffset.FromUnixTimeSeconds(parsed);
            }
            return null;
        }

        /// <summary>The actions an access token grants on one repository.</summary>
        internal static IReadOnlyList<string> GrantedActions(string? jwt, string repository)
        {
            var result = new List<string>();
            if (!(Claims(jwt)?["access"] is JsonArray access)) return result;
            foreach (JsonObject entry in access.OfType<JsonObject>())
            {
                string? type = Text(entry["type"]);
                string? name = Text(entry["name"]);
                if (!string.Equals(type, "repository", StringComparison.OrdinalIgnoreCase) || !string.Equals(name, repository, StringComparison.Ordinal)) continue;
                if (entry["actions"] is JsonArray actions)
                {
                    foreach (string? a in actions.Select(Text))
                    {
                        if (a != null && !result.Contains(a)) result.Add(a);
                    }
                }
            }
            return result;
        }

        private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue(out string? s) ? s : null;

        internal static byte[] FromBase64Url(string s)
        {
            string b = s.Replace('-', '+').Replace('_', '/');
            switch (b.Length % 4)
            {
                case 2: b += "=="; break;
                case 3: b += "="; break;
            }
            return Convert.FromBase64String(b);
        }
    }
}
