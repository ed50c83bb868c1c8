using System.Text.Json.Nodes;
using AcrIdentity.Engine.Auth;
using AcrIdentity.Engine.Errors;

namespace AcrIdentity.Engine.Tests.Support;

/// <summary>
/// Entry point for child processes (the test host itself never runs Main). Modes:
///   resolve [--identity] [--client-id ID]      CredentialResolver from the environment given
///   connect-identity [--client-id ID]          Connect-AcrIdentity -Identity, then a plain resolve
///   connect-sp-then-identity                   Connect as CHILD_APP_ID/CHILD_SECRET, then resolve -Identity
/// Each makes one ARM call with the context it ends with and prints one JSON line.
/// </summary>
public static class ChildProgram
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: resolve|connect-identity|connect-sp-then-identity [--identity] [--client-id ID]");
            return 2;
        }
        string? clientId = null;
        bool identity = false;
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--identity") identity = true;
            else if (args[i] == "--client-id") clientId = args[++i];
        }
        var host = new RecordingHost();
        var result = new JsonObject();
        string? environment = Environment.GetEnvironmentVariable(CredentialResolver.EnvironmentVariable);
        try
        {
            ModuleContext context;
            switch (args[0])
            {
                case "resolve":
                    context = Resolve(new ResolveRequest { Identity = identity, ClientId = clientId, Options = Fast.Options() }, host);
                    break;
                case "connect-identity":
                    var connected = Session.ConnectAsync(new ConnectRequest { Environment = environment, Identity = true, ClientId = clientId, Options = Fast.Options() }, host, CancellationToken.None).GetAwaiter().GetResult();
                    result["connectedSource"] = connected.Source.ToString();
                    context = Resolve(new ResolveRequest { Options = Fast.Options() }, host);
                    result["sameAsConnected"] = ReferenceEquals(context, connected);
                    break;
                case "connect-sp-then-identity":
                    Session.ConnectAsync(new ConnectRequest
                    {
                        Environment = environment, ApplicationId = Environment.GetEnvironmentVariable("CHILD_APP_ID"),
                        ClientSecret = SandboxFixture.Secure(Environment.GetEnvironmentVariable("CHILD_SECRET") ?? ""), Options = Fast.Options(),
                    }, host, CancellationToken.None).GetAwaiter().GetResult();
                    result["connectedSource"] = Session.Current?.Source.ToString();
                    context = Resolve(new ResolveRequest { Identity = true, Options = Fast.Options() }, host);
                    break;
                default:
                    Console.Error.WriteLine("unknown mode " + args[0]);
                    return 2;
            }
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

    private static ModuleContext Resolve(ResolveRequest request, RecordingHost host) =>
        CredentialResolver.ResolveAsync(request, host, CancellationToken.None).GetAwaiter().GetResult();
}
