namespace AcrIdentity.Sandbox.Arg;

/// <summary>Azure Resource Graph: POST /providers/Microsoft.ResourceGraph/resources.</summary>
public sealed class ArgArea : ISandboxArea
{
    public static readonly string[] ApiVersions = ["2024-04-01", "2022-10-01", "2021-03-01", "2020-04-01-preview", "2019-04-01"];

    public void Map(WebApplication app, SandboxContext ctx) =>
        app.MapPost("/providers/Microsoft.ResourceGraph/resources", http => ArgEndpoint.HandleAsync(http, ctx));
}
