using System;
using System.Globalization;
using Azure;

namespace AcrIdentity.Engine.Arm
{
    /// <summary>The server's wait hint: retry-after-ms, x-ms-retry-after-ms, or Retry-After (seconds or an HTTP date).</summary>
    internal static class RetryAfterHeader
    {
        internal static TimeSpan? Read(Response response)
        {
            if (response.Headers.TryGetValue("retry-after-ms", out var ms) || response.Headers.TryGetValue("x-ms-retry-after-ms", out ms))
            {
                if (double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds) && milliseconds >= 0)
                {
                    return TimeSpan.FromMilliseconds(milliseconds);
                }
            }
            return response.Headers.TryGetValue("Retry-After", out var value) ? Parse(value) : null;
        }

        internal static TimeSpan? Parse(string? value)
        {
            if (string.IsNullOrWhiteSpace(value)) return null;
            if (int.TryParse(value!.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int seconds))
            {
                return seconds >= 0 ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
            }
            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
            {
                var delta = when - DateTimeOffset.UtcNow;
                return delta > TimeSpan.Zero ? delta : TimeSpan.Zero;
            }
            return null;
        }
    }
}
