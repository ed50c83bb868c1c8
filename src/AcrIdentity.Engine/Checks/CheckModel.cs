using System;
using System.Collections.Generic;
using System.Linq;
using AcrIdentity.Engine.Auth;

namespace AcrIdentity.Engine.Checks
{
    public enum CheckResult
    {
        Pass,
        Fail,
        Warning,
        /// <summary>Not evaluated: it does not apply to this target, an earlier check failed, or another check decides it.</summary>
        Skipped,
    }

    /// <summary>One check's verdict. Id and Name are stable; Fix is the exact change that would make it pass.</summary>
    public sealed class PullCheck
    {
        internal PullCheck(string id, string name, CheckResult result, string message, string? fix = null)
        {
            Id = id;
            Name = name;
            Result = result;
            Message = message;
            Fix = fix;
        }

        public string Id { get; }
        public string Name { get; }
        public CheckResult Result { get; }
        public string Message { get; }
        public string? Fix { get; }

        public override string ToString() => $"{Id}: {Result} — {Message}";
    }

    /// <summary>Test-AcrPullAccess's parameters, in engine terms.</summary>
    public sealed class PullAccessRequest
    {
        /// <summary>The target; null for a bare identity (Identity + Registry).</summary>
        public string? ResourceId { get; set; }
        /// <summary>Principal, client or resource ID (or name) of the identity that pulls; with a VM, picks among its identities.</summary>
        public string? Identity { get; set; }
        /// <summary>Name, login server or resource ID; inferred from the target's image or pull settings when null.</summary>
        public string? Registry { get; set; }
        /// <summary>An image reference (host/repo:tag) or a repository in the registry; inferred from the target when null.</summary>
        public string? Image { get; set; }
        public string? Slot { get; set; }
        public bool IncludeSlots { get; set; }
        /// <summary>Prove it through the registry as the managed identity of this environment.</summary>
        public bool Live { get; set; }
        /// <summary>Where -Live's identity comes from (the cloud of the managed identity); null = the resolver's defaults.</summary>
        public ResolveRequest? LiveResolve { get; set; }
        /// <summary>Run the pull probe inside the VM through Run Command, as the VM's own identity.</summary>
        public bool InWorkload { get; set; }
        /// <summary>With InWorkload on a scale set: the instance to run in; null = the first running one.</summary>
        public string? InstanceId { get; set; }
    }

    /// <summary>Everything Test-AcrPullAccess found out about one target (a site and each slot are separate).</summary>
    public sealed class PullAccessReport
    {
        internal PullAccessReport(string? target)
        {
            Target = target;
        }

        /// <summary>The target's resource ID; null for a bare identity.</summary>
        public string? Target { get; }
        public string? TargetKind { get; internal set; }
        /// <summary>Registry resource ID when ARM knows it, else the login server.</summary>
        public string? Registry { get; internal set; }
        public string? RegistryLoginServer { get; internal set; }
        /// <summary>The identity that pulls, in words (kind and resource ID or principal ID).</summary>
        public string? Identity { get; internal set; }
        public string? PrincipalId { get; internal set; }
        public string? Image { get; internal set; }
        public string? Repository { get; internal set; }
        public List<PullCheck> Checks { get; } = new List<PullCheck>();
        /// <summary>True when no check failed.</summary>
        public bool CanPull => Checks.Count > 0 && Checks.All(c => c.Result != CheckResult.Fail);

        public PullCheck? this[string id] => Checks.FirstOrDefault(c => string.Equals(c.Id, id, StringComparison.OrdinalIgnoreCase));
    }
}
