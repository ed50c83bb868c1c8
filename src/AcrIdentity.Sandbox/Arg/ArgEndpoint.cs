namespace AcrIdentity.Sandbox.Arg;

static class ArgEndpoint
{
    public static Task HandleAsync(HttpContext http, SandboxContext ctx)
    {
        http.Response.StatusCode = 501;
        return Task.CompletedTask;
    }
}
