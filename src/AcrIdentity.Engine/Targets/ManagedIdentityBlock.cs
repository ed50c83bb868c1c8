using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;

namespace AcrIdentity.Engine.Targets
{
    /// <summary>A user-assigned identity as a resource's "identity.userAssignedIdentities" lists it.</summary>
    public sealed class AttachedIdentity
    {
        internal AttachedIdentity(string resourceId, string? principalId, string? clientId)
        {
            ResourceId = resourceId;
            PrincipalId = principalId;
            ClientId = clientId;
        }

        public string ResourceId { get; }
        public string? PrincipalId { get; }
        public string? ClientId { get; }
    }

    /// <summary>
    /// The "identity" property shared by Web, Compute, ContainerInstance, App and ContainerService resources.
    /// Writes always list every identity already there, whatever the provider's PATCH semantics, so adding one
    /// never removes another.
    /// </summary>
    internal sealed class ManagedIdentityBlock
    {
        private ManagedIdentityBlock(bool system, string? principalId, string? tenantId, IReadOnlyList<AttachedIdentity> userAssigned)
        {
            SystemAssigned = system;
            PrincipalId = principalId;
            TenantId = tenantId;
            UserAssigned = userAssigned;
        }

        internal bool SystemAssigned { get; }
        /// <summary>The system-assigned identity's principal (object) ID.</summary>
        internal string? PrincipalId { get; }
        internal string? TenantId { get; }
        internal IReadOnlyList<AttachedIdentity> UserAssigned { get; }

        internal static ManagedIdentityBlock Parse(JsonNode? resource)
        {
            JsonObject? identity = Json.Obj(resource, "identity");
            string type = Json.Str(identity, "type") ?? "None";
            bool system = type.IndexOf("SystemAssigned", StringComparison.OrdinalIgnoreCase) >= 0;
            var user = new List<AttachedIdentity>();
            if (Json.Obj(identity, "userAssignedIdentities") is JsonObject map)
            {
                foreach (var kv in map)
                {
                    user.Add(new AttachedIdentity(kv.Key, Json.Str(kv.Value, "principalId"), Json.Str(kv.Value, "clientId")));
                }
            }
            return new ManagedIdentityBlock(system, system ? Json.Str(identity, "principalId") : null, Json.Str(identity, "tenantId"), user);
        }

        internal AttachedIdentity? FindUserAssigned(string resourceId) =>
            UserAssigned.FirstOrDefault(u => Json.SameId(u.ResourceId, resourceId));

        internal bool Has(PullIdentity want) => want.Type switch
        {
            PullIdentityType.SystemAssigned => SystemAssigned,
            PullIdentityType.UserAssigned => FindUserAssigned(want.ResourceId!) != null,
            _ => true,
        };

        /// <summary>The identity object to write: everything present plus <paramref name="want"/>.</summary>
        internal JsonObject WithAdded(PullIdentity want, string combinedType)
        {
            bool system = SystemAssigned || want.Type == PullIdentityType.SystemAssigned;
            var ids = UserAssigned.Select(u => u.ResourceId).ToList();
            if (want.Type == PullIdentityType.UserAssigned && FindUserAssigned(want.ResourceId!) == null) ids.Add(want.ResourceId!);
            string type = system && ids.Count > 0 ? combinedType : system ? "SystemAssigned" : ids.Count > 0 ? "UserAssigned" : "None";
            var result = new JsonObject { ["type"] = type };
            if (ids.Count > 0)
            {
                var map = new JsonObject();
                foreach (string id in ids) map[id] = new JsonObject();
                result["userAssignedIdentities"] = map;
            }
            return result;
        }

        internal string Describe()
        {
            var parts = new List<string>();
            if (SystemAssigned) parts.Add("system-assigned");
            parts.AddRange(UserAssigned.Select(u => "user-assigned " + ShortName(u.ResourceId)));
            return parts.Count == 0 ? "no managed identity" : string.Join(", ", parts);
        }

        internal static string ShortName(string id)
        {
            string t = id.TrimEnd('/');
            int i = t.LastIndexOf('/');
            return i >= 0 ? t.Substring(i + 1) : t;
        }
    }
}
