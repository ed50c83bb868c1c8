namespace AcrIdentity.Sandbox.World;

/// <summary>Small helpers on ARM IDs. IDs compare case-insensitively; stored casing is kept for output.</summary>
public static class ResourceIds
{
    public static string Normalize(string id)
    {
        var s = id.Trim();
        if (!s.StartsWith('/')) s = "/" + s;
        while (s.Length > 1 && s.EndsWith('/')) s = s[..^1];
        return s;
    }

    public static bool Same(string? a, string? b) =>
        a is not null && b is not null && string.Equals(Normalize(a), Normalize(b), StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="outer"/> is <paramref name="inner"/> or one of its parent scopes
    /// within the subscription tree ("/" contains everything).</summary>
    public static bool IsAtOrAbove(string outer, string inner)
    {
        outer = Normalize(outer); inner = Normalize(inner);
        if (outer == "/") return true;
        return string.Equals(outer, inner, StringComparison.OrdinalIgnoreCase)
            || inner.StartsWith(outer + "/", StringComparison.OrdinalIgnoreCase);
    }

    public static string? SubscriptionOf(string id)
    {
        var seg = Normalize(id).Split('/', StringSplitOptions.RemoveEmptyEntries);
        return seg.Length >= 2 && seg[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase) ? seg[1] : null;
    }

    public static string? ResourceGroupOf(string id)
    {
        var seg = Normalize(id).Split('/', StringSplitOptions.RemoveEmptyEntries);
        return seg.Length >= 4 && seg[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase)
            && seg[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase) ? seg[3] : null;
    }

    public static string? ManagementGroupOf(string id)
    {
        var seg = Normalize(id).Split('/', StringSplitOptions.RemoveEmptyEntries);
        return seg.Length >= 4 && seg[0].Equals("providers", StringComparison.OrdinalIgnoreCase)
            && seg[1].Equals("Microsoft.Management", StringComparison.OrdinalIgnoreCase)
            && seg[2].Equals("managementGroups", StringComparison.OrdinalIgnoreCase) ? seg[3] : null;
    }

    /// <summary>The full resource type of a resource ID: "Microsoft.Web/sites/slots" for a slot ID.</summary>
    public static string? TypeOf(string id)
    {
        var seg = Normalize(id).Split('/', StringSplitOptions.RemoveEmptyEntries);
        int p = Array.FindLastIndex(seg, s => s.Equals("providers", StringComparison.OrdinalIgnoreCase));
        if (p < 0 || p + 3 > seg.Length) return null;
        var parts = new List<string> { seg[p + 1] };
        for (int i = p + 2; i < seg.Length; i += 2) parts.Add(seg[i]);
        return string.Join('/', parts);
    }

    public static string NameOf(string id) => Normalize(id).Split('/').Last();

    /// <summary>Parent resource of a nested resource ID (slot → site); null for top-level resources.</summary>
    public static string? ParentOf(string id)
    {
        var seg = Normalize(id).Split('/', StringSplitOptions.RemoveEmptyEntries);
        int p = Array.FindLastIndex(seg, s => s.Equals("providers", StringComparison.OrdinalIgnoreCase));
        if (p < 0 || seg.Length - p <= 4) return null;
        return "/" + string.Join('/', seg.Take(seg.Length - 2));
    }

    public static bool IsGuid(string? s) => Guid.TryParseExact(s, "D", out _);
}
