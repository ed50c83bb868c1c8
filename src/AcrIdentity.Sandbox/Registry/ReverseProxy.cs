using Microsoft.AspNetCore.Http;

namespace AcrIdentity.Sandbox.Registry;

/// <summary>Streams one request to the registry process and its answer back, unchanged but for hop-by-hop headers.</summary>
static class ReverseProxy
{
    static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
    };

    public static async Task ForwardAsync(HttpContext ctx, HttpClient backend, string loginServer)
    {
        var req = ctx.Request;
        using var msg = new HttpRequestMessage(new HttpMethod(req.Method), "http://registry" + req.Path + req.QueryString);
        var hasBody = req.ContentLength > 0 || req.Headers.TransferEncoding.Count > 0;
        if (hasBody) msg.Content = new StreamContent(req.Body);
        foreach (var h in req.Headers)
        {
            if (HopByHop.Contains(h.Key)) continue;
            if (h.Key.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                if (msg.Content is not null) msg.Content.Headers.TryAddWithoutValidation(h.Key, h.Value.ToArray());
                continue;
            }
            msg.Headers.TryAddWithoutValidation(h.Key, h.Value.ToArray());
        }
        // Distribution builds absolute Location URLs from these: they must name the TLS front, not the socket.
        msg.Headers.Host = loginServer;
        msg.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        msg.Headers.TryAddWithoutValidation("X-Forwarded-Host", loginServer);

        using var resp = await backend.SendAsync(msg, HttpCompletionOption.ResponseHeadersRead, ctx.RequestAborted).ConfigureAwait(false);
        ctx.Response.StatusCode = (int)resp.StatusCode;
        foreach (var h in resp.Headers)
            if (!HopByHop.Contains(h.Key)) ctx.Response.Headers[h.Key] = h.Value.ToArray();
        foreach (var h in resp.Content.Headers)
            ctx.Response.Headers[h.Key] = h.Value.ToArray();
        if (HttpMethods.IsHead(req.Method) || resp.StatusCode == System.Net.HttpStatusCode.NoContent) return;
        if (resp.StatusCode == System.Net.HttpStatusCode.Unauthorized && resp.Content.Headers.ContentLength is < 8192)
        {
            // Distribution says "authentication required"; ACR adds where to read about it.
            var text = await resp.Content.ReadAsStringAsync(ctx.RequestAborted).ConfigureAwait(false);
            text = text.Replace("\"message\":\"authentication required\"",
                "\"message\":\"authentication required, visit https://aka.ms/acr/authorization for more information.\"", StringComparison.Ordinal);
            ctx.Response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(text);
            await ctx.Response.WriteAsync(text, ctx.RequestAborted).ConfigureAwait(false);
            return;
        }
        await using var body = await resp.Content.ReadAsStreamAsync(ctx.RequestAborted).ConfigureAwait(false);
        await body.CopyToAsync(ctx.Response.Body, ctx.RequestAborted).ConfigureAwait(false);
    }
}
