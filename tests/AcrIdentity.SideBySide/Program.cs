using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AcrIdentity.SideBySide;

/// <summary>
/// AcrIdentity.SideBySide --endpoints FILE [--module PSD1] [--without-isolation]
/// 1. uses Azure.Core 1.36 in the default context (a pipeline request to the sandbox, a ResourceIdentifier);
/// 2. imports AcrIdentity and runs Connect-AcrIdentity (an authenticated ARM call) in hosted PowerShell;
/// 3. uses Azure.Core 1.36 again. Prints "azure.core <version> <context>" lines. Exit 0 only if all worked.
/// --without-isolation instead loads the engine straight into the default context and calls it, which must
/// fail the way an unisolated module does (exit 0 when it fails as expected).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string? endpointsFile = Arg(args, "--endpoints");
        string module = Arg(args, "--module") ?? FindModule();
        if (endpointsFile is null || !File.Exists(endpointsFile))
        {
            Console.Error.WriteLine("usage: AcrIdentity.SideBySide --endpoints <sandbox endpoints.json> [--module <AcrIdentity.psd1>] [--without-isolation]");
            return 2;
        }

        using JsonDocument endpoints = JsonDocument.Parse(File.ReadAllText(endpointsFile));
        string arm = endpoints.RootElement.GetProperty("armEndpoint").GetString()!;

        if (!UseOldAzureCore(arm, "before"))
        {
            return 1;
        }

        bool ok = args.Contains("--without-isolation")
            ? ImportWithoutIsolationFails(module, arm)
            : ConnectThroughModule(module, endpointsFile, endpoints.RootElement.GetProperty("operator"));

        ok &= UseOldAzureCore(arm, "after");
        PrintLoadedAzureCore();
        Console.WriteLine(ok ? "side-by-side: OK" : "side-by-side: FAILED");
        return ok ? 0 : 1;
    }

    /// <summary>Real use of Azure.Core 1.36: a pipeline GET of the sandbox's cloud metadata, and resource ID parsing.</summary>
    private static bool UseOldAzureCore(string arm, string when)
    {
        try
        {
            var id = new ResourceIdentifier("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r");
            HttpPipeline pipeline = HttpPipelineBuilder.Build(new PlainOptions());
            using HttpMessage message = pipeline.CreateMessage();
            message.Request.Method = RequestMethod.Get;
            message.Request.Uri.Reset(new Uri(arm.TrimEnd('/') + "/metadata/endpoints?api-version=2022-09-01"));
            pipeline.Send(message, CancellationToken.None);
            Version? version = typeof(HttpPipeline).Assembly.GetName().Version;
            Console.WriteLine($"{when}: Azure.Core {version} in {AssemblyLoadContext.GetLoadContext(typeof(HttpPipeline).Assembly)?.Name}: " +
                              $"GET metadata -> {message.Response.Status}, {id.ResourceType} parsed");
            return message.Response.Status == 200 && id.Name == "r" && version?.Major == 1 && version.Minor == 36;
        }
        catch (Exception ex)
        {
            Console.WriteLine($"{when}: Azure.Core 1.36 failed: {ex.GetType().Name}: {ex.Message}");
            return false;
        }
    }

    private static bool ConnectThroughModule(string module, string endpointsFile, JsonElement op)
    {
        using Runspace runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = runspace;
        // The secret goes in as a SecureString argument, never as script text.
        ps.AddScript(@"
            param($module, $endpoints, $appId, $secret)
            Import-Module -Name $module -ErrorAction Stop
            Connect-AcrIdentity -Environment $endpoints -ApplicationId $appId -ClientSecret $secret -ErrorAction Stop")
          .AddArgument(module).AddArgument(endpointsFile).AddArgument(op.GetProperty("clientId").GetString())
          .AddArgument(new System.Net.NetworkCredential(string.Empty, op.GetProperty("clientSecret").GetString()).SecurePassword);
        try
        {
            var output = ps.Invoke();
            foreach (ErrorRecord e in ps.Streams.Error)
            {
                Console.WriteLine($"error: {e.FullyQualifiedErrorId}: {e.Exception?.Message}");
            }

            PSObject? context = output.FirstOrDefault();
            string? subscription = context?.Properties["SubscriptionName"]?.Value?.ToString();
            Console.WriteLine($"Connect-AcrIdentity: source {context?.Properties["Source"]?.Value}, subscription '{subscription}'");
            return !ps.HadErrors && !string.IsNullOrEmpty(subscription);
        }
        catch (RuntimeException ex)
        {
            Console.WriteLine($"Connect-AcrIdentity failed: {ex.ErrorRecord.FullyQualifiedErrorId}: {ex.Message}");
            return false;
        }
    }

    /// <summary>
    /// What happens without the module's load context: the engine loaded the way Import-Module loads a dll
    /// (LoadFrom, default context, its folder probed) and asked to read a cloud description, which needs its
    /// Azure.Core 1.64 while the default context already holds 1.36.
    /// </summary>
    private static bool ImportWithoutIsolationFails(string module, string arm)
    {
        string engine = Path.Combine(Path.GetDirectoryName(module)!, "dependencies", "AcrIdentity.Engine.dll");
        try
        {
            Assembly assembly = Assembly.LoadFrom(engine);
            Type cloud = assembly.GetType("AcrIdentity.Engine.Auth.CloudEnvironment", throwOnError: true)!;
            Type hostType = assembly.GetType("AcrIdentity.Engine.Hosting.IEngineHost", throwOnError: true)!;
            object host = DispatchProxy.Create(hostType, typeof(SilentHost));
            var task = (Task)cloud.GetMethod("FromArmMetadataAsync")!.Invoke(null, new object?[] { new Uri(arm), host, CancellationToken.None, null })!;
            task.GetAwaiter().GetResult();
            Console.WriteLine("without isolation: the engine unexpectedly worked");
            return false;
        }
        catch (Exception ex)
        {
            Exception root = ex is TargetInvocationException { InnerException: { } inner } ? inner : ex;
            Console.WriteLine($"without isolation: {root.GetType().Name}: {FirstLine(root.Message)}");
            return root is FileLoadException && root.Message.Contains("Azure.Core", StringComparison.Ordinal);
        }
    }

    /// <summary>An IEngineHost that drops everything (for the unisolated call only).</summary>
    public class SilentHost : DispatchProxy
    {
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => null;
    }

    private static void PrintLoadedAzureCore()
    {
        foreach (Assembly a in AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "Azure.Core"))
        {
            Console.WriteLine($"azure.core {a.GetName().Version} {AssemblyLoadContext.GetLoadContext(a)?.Name}");
        }
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string FindModule()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "out", "AcrIdentity", "AcrIdentity.psd1");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return "AcrIdentity";
    }

    private sealed class PlainOptions : ClientOptions
    {
        public PlainOptions()
        {
            Retry.MaxRetries = 0;
        }
    }
}
