using System.Text;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.World;

namespace AcrIdentity.Sandbox.Arm;

/// <summary>
/// Fallback until the auth area sets <see cref="SandboxContext.CallerResolver"/>: reads oid/appid/tid from
/// the bearer JWT without checking its signature.
/// </summary>
sealed class UnverifiedJwtResolver : ICallerResolver
{
    public CallerResolution Resolve(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.FirstOrDefault();
        if (string.IsNullOrEmpty(header))
            return CallerResolution.Fail("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return CallerResolution.Fail("AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.");
        var parts = header[7..].Trim().Split('.');
        try
        {
            if (parts.Length < 2) throw new FormatException();
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
            var claims = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload))) as JsonObject ?? throw new FormatException();
            var oid = claims["oid"]?.GetValue<string>();
            if (oid is null) throw new FormatException();
            return new CallerResolution(new CallerIdentity(oid, claims["appid"]?.GetValue<string>() ?? claims["azp"]?.GetValue<string>(),
                claims["tid"]?.GetValue<string>() ?? ""));
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return CallerResolution.Fail("InvalidAuthenticationToken", "The access token is invalid.");
        }
    }
}
