using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using AcrIdentity.Engine.Targets;

namespace AcrIdentity.Engine.Audit
{
    /// <summary>A managed identity's principal and the resources that act as it.</summary>
    internal sealed class PrincipalOwner
    {
        internal PrincipalOwner(string type, string identityResourceId)
        {
            Type = type;
            IdentityResourceId = identityResourceId;
        }

        /// <summary>SystemAssigned, UserAssigned or Kubelet.</summary>
        internal string Type { get; set; }
        internal string IdentityResourceId { get; }
        internal List<string> Resources { get; } = new List<string>();
    }

    /// <summary>
    /// Principal ID → resources, built from resource rows (Resource Graph or ARM lists) in one pass: system identities
    /// (identity.principalId), user-assigned identities (their properties.principalId) and every resource that
    /// carries one (identity.userAssignedIdentities keys), AKS kubelet identities (identityProfile.kubeletidentity).
    /// </summary>
    internal sealed class PrincipalIndex
    {
        internal const string IdentityType = "microsoft.managedidentity/userassignedidentities";
        private readonly Dictionary<string, PrincipalOwner> _byPrincipal = new Dictionary<string, PrincipalOwner>(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, PrincipalOwner> _byIdentityId = new Dictionary<string, PrincipalOwner>(StringComparer.OrdinalIgnoreCase);

        internal int Count => _byPrincipal.Count;

        internal PrincipalOwner? Find(string principalId) => _byPrincipal.TryGetValue(principalId, out PrincipalOwner? o) ? o : null;

        /// <summary>Rows: id, type, identity, and for identities/clusters principalId and kubelet (or the full properties).</summary>
        internal static PrincipalIndex Build(IEnumerable<JsonObject> rows)
        {
            var index = new PrincipalIndex();
            var list = rows.ToList();
            // Identities first, so carriers can be attached whatever order the rows came in.
            foreach (JsonObject row in list.Where(r => string.Equals(Json.Str(r, "type"), IdentityType, StringComparison.OrdinalIgnoreCase)))
            {
                string? id = Json.Str(row, "id");
                string? principal = Json.Str(row, "principalId") ?? Json.Str(row, "properties", "principalId");
                if (id == null) continue;
                index.AddIdentity(id, principal, "UserAssigned");
            }
            foreach (JsonObject row in list)
            {
                string? id = Json.Str(row, "id");
                if (id == null || string.Equals(Json.Str(row, "type"), IdentityType, StringComparison.OrdinalIgnoreCase)) continue;
                string? system = Json.Str(row, "identity", "principalId");
                if (!string.IsNullOrEmpty(system) && !index._byPrincipal.ContainsKey(system!))
                {
                    var owner = new PrincipalOwner("SystemAssigned", id);
                    owner.Resources.Add(id);
                    index._byPrincipal[system!] = owner;
                }
                foreach (var kv in Json.Obj(row, "identity", "userAssignedIdentities") ?? new JsonObject())
                {
                    PrincipalOwner uami = index.AddIdentity(kv.Key, Json.Str(kv.Value, "principalId"), "UserAssigned");
                    if (!uami.Resources.Contains(id, StringComparer.OrdinalIgnoreCase)) uami.Resources.Add(id);
                }
                JsonObject? kubelet = Json.Obj(row, "kubelet") ?? Json.Obj(row, "properties", "identityProfile", "kubeletidentity");
                string? kubeletId = Json.Str(kubelet, "resourceId");
                if (kubeletId != null)
                {
                    PrincipalOwner k = index.AddIdentity(kubeletId, Json.Str(kubelet, "objectId"), "Kubelet");
                    k.Type = "Kubelet";
                    if (!k.Resources.Contains(id, StringComparer.OrdinalIgnoreCase)) k.Resources.Add(id);
                }
            }
            return index;
        }

        private PrincipalOwner AddIdentity(string identityId, string? principalId, string type)
        {
            if (!_byIdentityId.TryGetValue(identityId, out PrincipalOwner? owner))
            {
                owner = new PrincipalOwner(type, identityId);
                _byIdentityId[identityId] = owner;
            }
            if (!string.IsNullOrEmpty(principalId)) _byPrincipal[principalId!] = owner;
            return owner;
        }
    }
}
