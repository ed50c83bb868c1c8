using System;
using System.Diagnostics;
using System.Threading.Tasks;
using AcrIdentity.Engine.Hosting;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AcrIdentity.Engine.Arm
{
    /// <summary>
    /// ArmClient's retry policy: Azure.Core's retry (which already waits at least the server's Retry-After),
    /// bounded by a total retry budget per request, and narrating every attempt to the engine host that the
    /// ArmGateway attached to the message. Only method, path, status and duration are written — never headers.
    /// </summary>
    internal sealed class BoundedRetryPolicy : RetryPolicy
    {
        internal const string HostProperty = "AcrIdentity.EngineHost";
        /// <summary>The service named in verbose lines ("Graph"); ARM when unset.</summary>
        internal const string ServiceProperty = "AcrIdentity.Service";
        private const string StartedProperty = "AcrIdentity.Started";
        private const string AttemptProperty = "AcrIdentity.AttemptStarted";
        private const string CountProperty = "AcrIdentity.Attempts";

        private readonly EngineOptions _options;

        internal BoundedRetryPolicy(EngineOptions options)
            : base(Math.Max(0, options.MaxRetries), DelayStrategy.CreateExponentialDelayStrategy(options.RetryDelay, options.MaxRetryDelay))
        {
            _options = options;
        }

        protected override ValueTask OnSendingRequestAsync(HttpMessage message)
        {
            OnSendingRequest(message);
            return default;
        }

        protected override void OnSendingRequest(HttpMessage message)
        {
            long now = Stopwatch.GetTimestamp();
            if (!message.TryGetProperty(StartedProperty, out _)) message.SetProperty(StartedProperty, now);
            message.SetProperty(AttemptProperty, now);
            message.SetProperty(CountProperty, Attempts(message) + 1);
        }

        private static int Attempts(HttpMessage message) =>
            message.TryGetProperty(CountProperty, out object? value) && value is int n ? n : 0;

        protected override ValueTask OnRequestSentAsync(HttpMessage message)
        {
            OnRequestSent(message);
            return default;
        }

        protected override void OnRequestSent(HttpMessage message)
        {
            if (message.HasResponse)
            {
                Narrate(message, $"{Describe(message)} -> {message.Response.Status} ({Elapsed(message, AttemptProperty).TotalMilliseconds:0} ms)");
            }
        }

        protected override ValueTask<bool> ShouldRetryAsync(HttpMessage message, Exception? exception) =>
            new ValueTask<bool>(ShouldRetry(message, exception));

        protected override bool ShouldRetry(HttpMessage message, Exception? exception)
        {
            if (exception != null)
            {
                Narrate(message, $"{Describe(message)} -> {exception.GetType().Name} ({Elapsed(message, AttemptProperty).TotalMilliseconds:0} ms)");
            }
            if (message.CancellationToken.IsCancellationRequested) return false;
            if (!base.ShouldRetry(message, exception)) return false;

            int retry = Attempts(message);
            TimeSpan? retryAfter = message.HasResponse ? RetryAfterHeader.Read(message.Response) : null;
            TimeSpan wait = retryAfter ?? EstimatedBackoff(retry);
            TimeSpan spent = Elapsed(message, StartedProperty);
            if (spent + wait > _options.RetryBudget)
            {
                Narrate(message, $"Not retrying {Describe(message)}: waiting {Seconds(wait)} more would pass the retry budget of {Seconds(_options.RetryBudget)} ({Seconds(spent)} spent).");
                return false;
            }
            string why = retryAfter.HasValue ? $"Retry-After {Seconds(retryAfter.Value)}" : $"back-off about {Seconds(wait)}";
            Narrate(message, $"Retrying {Describe(message)} ({why}; retry {retry} of {_options.MaxRetries}).");
            return true;
        }

        private TimeSpan EstimatedBackoff(int retryNumber)
        {
            // The delay strategy's own value is jittered ±20 %; the estimate only decides whether the budget allows it.
            double ms = _options.RetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retryNumber - 1, 30)) * 1.2;
            return TimeSpan.FromMilliseconds(Math.Min(ms, _options.MaxRetryDelay.TotalMilliseconds));
        }

        internal static string Describe(HttpMessage message) => $"{message.Request.Method} {message.Request.Uri.Path}";

        private static TimeSpan Elapsed(HttpMessage message, string property)
        {
            if (message.TryGetProperty(property, out object? value) && value is long started)
            {
                return TimeSpan.FromSeconds((Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency);
            }
            return TimeSpan.Zero;
        }

        private static string Seconds(TimeSpan t) => t.TotalSeconds < 10 ? $"{t.TotalSeconds:0.#} s" : $"{t.TotalSeconds:0} s";

        private static void Narrate(HttpMessage message, string text)
        {
            if (message.TryGetProperty(HostProperty, out object? host) && host is IEngineHost engineHost)
            {
                string service = message.TryGetProperty(ServiceProperty, out object? name) && name is string n ? n : "ARM";
                engineHost.WriteVerbose(service + " " + text);
            }
        }
    }
}
