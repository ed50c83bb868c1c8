using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using AcrIdentity.Engine.Configure;
using AcrIdentity.Engine.Targets;
using Azure.Core;

namespace AcrIdentity.Engine.Checks
{
    /// <summary>A verdict found while reading, kept for the check that reports it.</summary>
    internal sealed class Finding
    {
        internal Finding(CheckResult result, string message, string? fix = null)
        {
            Result = result;
            Message = message;
            Fix = fix;
        }

        internal CheckResult Result { get; }
        internal string Message { get; }
        internal string? Fix { get; }
    }

    /// <summary>Everything read for one target, once; the checks only look at it.</summary>
    internal sealed class CheckContext
    {
        internal CheckContext(PullAccessRequest request, ResourceIdentifier? targetId)
        {
            Request = request;
            TargetId = targetId;
        }

        internal PullAccessRequest Request { get; }
        internal ResourceIdentifier? TargetId { get; }
        internal TargetStrategy? Strategy { get; set; }
        internal TargetState? State { get; set; }
        internal string Kind { get; set; } = "Identity";
        /// <summary>Why the target could not be read (null = read, or no target).</summary>
        internal Finding? TargetMissing { get; set; }

        /// <summary>The identity that pulls (null when none could be determined).</summary>
        internal PullIdentity? Identity { get; set; }
        internal Finding? IdentityFinding { get; set; }
        internal Finding? ConfigFinding { get; set; }
        internal Finding? ConfiguredIdentityFinding { get; set; }
        /// <summary>The login server the target's pull settings name (ACI credentials, Container Apps registries).</summary>
        internal string? ConfiguredServer { get; set; }

        internal IReadOnlyList<string> Images { get; set; } = Array.Empty<string>();
        internal ImageReference? Image { get; set; }

        internal RegistryInfo? Registry { get; set; }
        internal JsonObject? RegistryResource { get; set; }
        internal Finding? RegistryMissing { get; set; }

        internal IReadOnlyList<Grant> Grants { get; set; } = Array.Empty<Grant>();
        internal IReadOnlyList<Grant> AllGrants { get; set; } = Array.Empty<Grant>();
        /// <summary>
        /// Principals known to exist: from Entra ID when <see cref="DirectoryChecked"/>, else every managed identity ARM
        /// shows in the subscriptions the caller can see.
        /// </summary>
        internal HashSet<string> KnownPrincipals { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        /// <summary>Entra ID answered for the principals of the registry's pull assignments: orphans are exact, not a guess.</summary>
        internal bool DirectoryChecked { get; set; }
        /// <summary>The registry's subscription belongs to another tenant than the caller's directory: orphans are not judged.</summary>
        internal bool OtherTenant { get; set; }
        /// <summary>AKS: the control-plane identity's principal IDs (system or user-assigned).</summary>
        internal List<string> ControlPlanePrincipals { get; } = new List<string>();

        internal bool Abac => Registry?.AbacMode == true;
        internal string? Repository => Image?.Repository;
        internal bool HasTarget => !(TargetId is null);
        internal bool TargetRead => State != null;

        internal IEnumerable<Grant> PullGrants => Grants.Where(g => g.GrantsPullSomehow);
        internal IEnumerable<Grant> Honoured => Grants.Where(g => g.Honoured(Abac, Repository));

        internal string Name => TargetId?.Name ?? Identity?.ToString() ?? "the identity";

        internal string RegistryArg => Registry?.Id.ToString() ?? Request.Registry ?? "<registry>";

        /// <summary>Fix texts written before the registry was known carry {ENABLE}/{REGISTRY}; filled in here.</summary>
        internal string? Expand(string? fix) => fix?.Replace("{ENABLE}", EnableCommand).Replace("{REGISTRY}", RegistryArg);

        internal string EnableCommand
        {
            get
            {
                string cmd = $"Enable-AcrManagedIdentityPull -ResourceId '{TargetId}' -Registry '{RegistryArg}'";
                if (Identity?.Type == PullIdentityType.UserAssigned && Identity.ResourceId != null) cmd += $" -UserAssignedIdentity '{Identity.ResourceId}'";
                if (Abac && Repository != null) cmd += $" -Repository '{Repository}'";
                return cmd;
            }
        }
    }

    /// <summary>An image reference split into the parts the checks need.</summary>
    internal sealed class ImageReference
    {
        private ImageReference(string text, string? host, string repository, string reference)
        {
            Text = text;
            Host = host;
            Repository = repository;
            Reference = reference;
        }

        internal string Text { get; }
        /// <summary>The registry host; null for Docker Hub short names (nginx, library/nginx).</summary>
        internal string? Host { get; }
        internal string Repository { get; }
        /// <summary>Tag or digest; "latest" when the image names neither.</summary>
        internal string Reference { get; }

        internal static ImageReference Parse(string image)
        {
            string text = image.Trim();
            string rest = text;
            string? host = null;
            int slash = rest.IndexOf('/');
            if (slash > 0)
            {
                string first = rest.Substring(0, slash);
                // Docker's rule: the first component is a host when it has a dot or a port, or is localhost.
                if (first.IndexOf('.') >= 0 || first.IndexOf(':') >= 0 || string.Equals(first, "localhost", StringComparison.OrdinalIgnoreCase))
                {
                    host = first.ToLowerInvariant();
                    rest = rest.Substring(slash + 1);
                }
            }
            string reference = "latest";
            int at = rest.IndexOf('@');
            if (at >= 0)
            {
                reference = rest.Substring(at + 1);
                rest = rest.Substring(0, at);
            }
            else
            {
                int colon = rest.LastIndexOf(':');
                if (colon > rest.LastIndexOf('/'))
                {
                    reference = rest.Substring(colon + 1);
                    rest = rest.Substring(0, colon);
                }
            }
            return new ImageReference(text, host, rest.ToLowerInvariant(), reference);
        }

        /// <summary>-Image given as a bare repository (with or without tag) in a known registry.</summary>
        internal static ImageReference InRegistry(string image, string loginServer)
        {
            ImageReference parsed = Parse(image);
            return parsed.Host != null ? parsed : Parse(loginServer + "/" + image.Trim());
        }
    }
}
