using System;

namespace AcrIdentity.Engine
{
    /// <summary>
    /// Retry, polling and timeout settings for ARM calls and credentials. The defaults suit real Azure;
    /// tests lower them per context instead of changing anything process-wide.
    /// </summary>
    public sealed class EngineOptions
    {
        /// <summary>Retries of one request after 429, 5xx, 408 or a network failure.</summary>
        public int MaxRetries { get; set; } = 6;

        /// <summary>First back-off when the server sends no Retry-After (doubles each retry).</summary>
        public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(0.8);

        /// <summary>Cap for one computed back-off; a server's Retry-After is honoured even when longer.</summary>
        public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Bound on the total time one request may spend in retries; past it the last error surfaces.</summary>
        public TimeSpan RetryBudget { get; set; } = TimeSpan.FromMinutes(2);

        /// <summary>Interval between long-running-operation polls when the server sends no Retry-After.</summary>
        public TimeSpan LroPollInterval { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>Bound on waiting for one long-running operation.</summary>
        public TimeSpan LroTimeout { get; set; } = TimeSpan.FromMinutes(30);

        /// <summary>Timeout of one HTTP attempt.</summary>
        public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

        internal EngineOptions Clone() => (EngineOptions)MemberwiseClone();
    }
}
