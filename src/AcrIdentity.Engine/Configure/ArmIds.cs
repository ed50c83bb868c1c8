using System;
using AcrIdentity.Engine.Errors;
using Azure.Core;

namespace AcrIdentity.Engine.Configure
{
    /// <summary>Resource IDs checked strictly, so a name or a half-pasted ID fails before anything is read or written.</summary>
    internal static class ArmIds
    {
        internal static bool LooksLikeId(string? text) =>
            text != null && text.TrimStart().StartsWith("/subscriptions/", StringComparison.OrdinalIgnoreCase);

        /// <summary>A resource (not a group or subscription) ID, or null when the text is not one.</summary>
        internal static ResourceIdentifier? TryParseResource(string? text)
        {
            if (!LooksLikeId(text)) return null;
            string t = text!.Trim().TrimEnd('/');
            if (t.IndexOf('?') >= 0 || t.IndexOf('#') >= 0 || t.IndexOf("//", StringComparison.Ordinal) >= 0 || t.IndexOf(' ') >= 0) return null;
            try
            {
                if (!ResourceIdentifier.TryParse(t, out ResourceIdentifier? id) || id is null) return null;
                if (!Guid.TryParse(id.SubscriptionId, out _)) return null;
                if (string.IsNullOrEmpty(id.ResourceGroupName)) return null;
                if (string.IsNullOrEmpty(id.ResourceType.Namespace) || id.ResourceType.Namespace.Equals("Microsoft.Resources", StringComparison.OrdinalIgnoreCase)) return null;
                if (string.IsNullOrEmpty(id.Name)) return null;
                // Segment count: /subscriptions/s/resourceGroups/g/providers/Ns then type/name pairs.
                string[] parts = t.Trim('/').Split('/');
                if (parts.Length < 8 || parts.Length % 2 != 0) return null;
                if (!parts[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase) || !parts[4].Equals("providers", StringComparison.OrdinalIgnoreCase)) return null;
                return id;
            }
            catch (FormatException)
            {
                return null;
            }
            catch (ArgumentException)
            {
                return null;
            }
        }

        internal static ResourceIdentifier ParseTarget(string? text)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new EngineException("ResourceIdRequired", EngineErrorCategory.InvalidArgument,
                    "No resource ID was given for the target.",
                    "Pass -ResourceId with the target's full resource ID, or pipe the object Get-AzWebApp, Get-AzVM, Get-AzContainerGroup, Get-AzAksCluster or Get-AzContainerApp returns.");
            }
            ResourceIdentifier? id = TryParseResource(text);
            if (id is null)
            {
                string hint = LooksLikeId(text)
                    ? "It must look like /subscriptions/<guid>/resourceGroups/<group>/providers/<Namespace>/<type>/<name>."
                    : "It looks like a name; pass the full ID, e.g. (Get-AzWebApp -ResourceGroupName <group> -Name <name>).Id.";
                throw new EngineException("InvalidResourceId", EngineErrorCategory.InvalidArgument,
                    $"'{text}' is not a valid Azure resource ID. {hint}",
                    "Pass the target's full resource ID: /subscriptions/<guid>/resourceGroups/<group>/providers/<Namespace>/<type>/<name>.", text);
            }
            return id;
        }
    }
}
