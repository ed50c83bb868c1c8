namespace AcrIdentity.Sandbox.Arm;

/// <summary>RBAC checks on the caller, answered with ARM's AuthorizationFailed.</summary>
static class ArmAuthz
{
    public static bool Allowed(ArmRequest r, string action, string scope) => r.World.IsAllowed(r.Caller.ObjectId, action, scope);

    /// <summary>True when allowed; otherwise writes the 403 and returns false.</summary>
    public static async Task<bool> Require(ArmRequest r, string action, string scope)
    {
        if (Allowed(r, action, scope)) return true;
        await ArmHttp.Error(r.Http, 403, "AuthorizationFailed",
            $"The client '{r.Caller.AppId ?? r.Caller.ObjectId}' with object id '{r.Caller.ObjectId}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.");
        return false;
    }

    /// <summary>The caller's assignments, fetched once, for checking many items of a list.</summary>
    public static Func<string, string, bool> ReadChecker(ArmRequest r)
    {
        var mine = r.World.AssignmentsAt(r.Caller.ObjectId, "/", includeBelow: true);
        return (action, scope) => mine.Any(e => r.World.AppliesAt(e.Assignment.Scope, scope) && e.Definition.AllowsAction(action));
    }

    /// <summary>The control-plane action for a method on a resource type.</summary>
    public static string ActionFor(string type, string method) => method.ToUpperInvariant() switch
    {
        "GET" or "HEAD" => type + "/read",
        "DELETE" => type + "/delete",
        _ => type + "/write",
    };
}
