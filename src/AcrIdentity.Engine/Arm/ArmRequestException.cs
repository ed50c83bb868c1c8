using System;
using System.Collections.Generic;
using AcrIdentity.Engine.Errors;

namespace AcrIdentity.Engine.Arm
{
    /// <summary>An ARM error envelope ({"error":{code,message,target,details}}) as an engine error.</summary>
    public sealed class ArmRequestException : EngineException
    {
        public ArmRequestException(int status, string? armCode, string armMessage, string method, string? targetId,
            string reason, EngineErrorCategory category, string? recommendedAction, string? armTarget = null,
            IReadOnlyList<string>? detailCodes = null, Exception? inner = null)
            : base(reason, category, Compose(status, armCode, armMessage), recommendedAction, targetId, inner)
        {
            Status = status;
            ArmCode = armCode;
            ArmMessage = armMessage;
            Method = method;
            ArmTarget = armTarget;
            DetailCodes = detailCodes ?? Array.Empty<string>();
        }

        /// <summary>HTTP status; for a failed long-running operation, the status of the reply that reported it.</summary>
        public int Status { get; }
        /// <summary>ARM's error code, e.g. AuthorizationFailed, RoleAssignmentExists, PrincipalNotFound, ResourceNotFound.</summary>
        public string? ArmCode { get; }
        public string ArmMessage { get; }
        public string Method { get; }
        /// <summary>error.target from the envelope (often null).</summary>
        public string? ArmTarget { get; }
        public IReadOnlyList<string> DetailCodes { get; }

        private static string Compose(int status, string? code, string message) =>
            code == null ? $"{message} (HTTP {status})" : $"{message} (HTTP {status} {code})";
    }
}
