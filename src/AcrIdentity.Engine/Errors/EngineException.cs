using System;

namespace AcrIdentity.Engine.Errors
{
    /// <summary>Mirrors the System.Management.Automation.ErrorCategory names the engine uses (mapped by name).</summary>
    public enum EngineErrorCategory
    {
        NotSpecified,
        InvalidArgument,
        InvalidData,
        InvalidOperation,
        ObjectNotFound,
        PermissionDenied,
        AuthenticationError,
        ResourceUnavailable,
        ResourceExists,
        ConnectionError,
        OperationTimeout,
        LimitsExceeded,
        NotImplemented,
        NotInstalled,
        OperationStopped,
    }

    /// <summary>
    /// Every failure the engine reports. Reason becomes the ErrorRecord's ErrorId (as "&lt;Cmdlet&gt;.&lt;Reason&gt;"),
    /// TargetId its target object, RecommendedAction the fix the user reads.
    /// </summary>
    public class EngineException : Exception
    {
        public EngineException(string reason, EngineErrorCategory category, string message, string? recommendedAction = null, string? targetId = null, Exception? inner = null)
            : base(message, inner)
        {
            Reason = reason;
            Category = category;
            RecommendedAction = recommendedAction;
            TargetId = targetId;
        }

        public string Reason { get; }
        public EngineErrorCategory Category { get; }
        public string? RecommendedAction { get; }
        public string? TargetId { get; }
    }
}
