using System.Text.Json;
using System.Text.Json.Nodes;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;

namespace AcrIdentity.Engine.Tests.Support;

/// <summary>
/// Entry point for child processes: `dotnet AcrIdentity.Engine.Tests.dll resolve [--identity] [--client-id X]`
/// resolves credentials from the environment it was given, makes one ARM call, and prints one JSON line.
/// The test host itself never runs Main.
/// </summary>
public static class ChildProgram
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] != "resolve")
        {
            Console.Error.WriteLine("usage: resolve [--identity] [--client-id ID]");
            return 2;
        }
        var request = new ResolveRequest { Options = Fast.Options() };
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--identity") request.Identity = true;
            else if (args[i] == "--client-id") request.ClientId = args[++i];
        }
        var host = new RecordingHost();
        var result = new JsonObject();
        try
        {
            var context = CredentialResolver.ResolveAsync(request, host, CancellationToken.None).GetAwaiter().GetResult();
            result["source"] = context.Source.ToString();
            result["account"] = context.Account;
            result["accountType"] = context.AccountType;
            result["subscriptionId"] = context.SubscriptionId;
            result["tenantId"] = context.TenantId;
            result["cloud"] = context.Cloud.Name;
            var reply = context.CreateGateway(host).GetAsync("/subscriptions/" + context.SubscriptionId, CancellationToken.None).GetAwaiter().GetResult();
            result["status"] = reply.Status;
        }
        catch (EngineException ex)
        {
            result["reason"] = ex.Reason;
            result["category"] = ex.Category.ToString();
            result["message"] = ex.Message;
        }
        result["streams"] = host.AllText();
        Console.WriteLine(result.ToJsonString());
        return 0;
    }
}
