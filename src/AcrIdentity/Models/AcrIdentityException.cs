using System;

namespace AcrIdentity
{
    /// <summary>
    /// The exception in every AcrIdentity ErrorRecord; a type scripts can name
    /// (`catch [AcrIdentity.AcrIdentityException]`), unlike engine types in the module's load context.
    /// </summary>
    public class AcrIdentityException : Exception
    {
        public AcrIdentityException(string reason, string message, string? recommendedAction = null, Exception? inner = null)
            : base(message, inner)
        {
            Reason = reason;
            RecommendedAction = recommendedAction;
        }

        /// <summary>The stable reason; the ErrorId is "&lt;Cmdlet&gt;.&lt;Reason&gt;".</summary>
        public string Reason { get; }

        public string? RecommendedAction { get; }
    }
}
