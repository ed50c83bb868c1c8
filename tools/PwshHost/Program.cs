using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace AcrIdentity.PwshHost;

/// <summary>
/// dotnet PwshHost.dll [-AllowErrors] (-File script.ps1 [args...] | -Command 'text')
/// Exit code: 0, or 1 after a terminating error or any error record (unless -AllowErrors), 2 for bad usage.
/// </summary>
public static class Program
{
    public static int Main(string[] argv)
    {
        Invocation? invocation = Invocation.Parse(argv, out string? usageError);
        if (invocation is null)
        {
            Console.Error.WriteLine(usageError);
            Console.Error.WriteLine("usage: PwshHost [-AllowErrors] (-File script.ps1 [args...] | -Command 'script text')");
            return 2;
        }

        PrependModulePath();
        using Runspace runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = runspace;
        invocation.AddTo(ps);

        int errors = 0;
        ps.Streams.Error.DataAdded += (s, e) =>
        {
            errors++;
            Console.Error.WriteLine(Describe(ps.Streams.Error[e.Index]));
        };
        ps.Streams.Warning.DataAdded += (s, e) => Console.Error.WriteLine("WARNING: " + ps.Streams.Warning[e.Index].Message);
        ps.Streams.Verbose.DataAdded += (s, e) => Console.Error.WriteLine("VERBOSE: " + ps.Streams.Verbose[e.Index].Message);
        ps.Streams.Debug.DataAdded += (s, e) => Console.Error.WriteLine("DEBUG: " + ps.Streams.Debug[e.Index].Message);
        ps.Streams.Information.DataAdded += (s, e) => Console.Out.WriteLine(ps.Streams.Information[e.Index].MessageData);

        var output = new PSDataCollection<PSObject>();
        output.DataAdded += (s, e) => Console.Out.Write(Formatter.Format(output[e.Index]));

        // Ctrl+C stops the pipeline (the module's cancellation reaches its HTTP calls) instead of killing us.
        Console.CancelKeyPress += (s, e) =>
        {
            e.Cancel = true;
            ps.BeginStop(null, null);
        };

        try
        {
            ps.Invoke(null, output);
        }
        catch (PipelineStoppedException)
        {
            Console.Error.WriteLine("stopped");
            return 130;
        }
        catch (RuntimeException ex)
        {
            Console.Error.WriteLine(Describe(ex.ErrorRecord));
            return 1;
        }

        return errors > 0 && !invocation.AllowErrors ? 1 : 0;
    }

    private static string Describe(ErrorRecord error)
    {
        string command = error.InvocationInfo?.MyCommand?.Name ?? string.Empty;
        string message = error.ErrorDetails?.Message ?? error.Exception?.Message ?? error.ToString();
        string text = (command.Length > 0 ? command + ": " : string.Empty) + message;
        text += $"{Environment.NewLine}  [{error.FullyQualifiedErrorId}, {error.CategoryInfo.Category}]";
        string? action = error.ErrorDetails?.RecommendedAction;
        return string.IsNullOrEmpty(action) ? text : text + Environment.NewLine + "  " + action;
    }

    /// <summary>Makes `Import-Module AcrIdentity` find out/AcrIdentity (ACRIDENTITY_MODULE_ROOT overrides).</summary>
    private static void PrependModulePath()
    {
        string? root = Environment.GetEnvironmentVariable("ACRIDENTITY_MODULE_ROOT") ?? FindOut(AppContext.BaseDirectory);
        if (root is null)
        {
            return;
        }

        string current = Environment.GetEnvironmentVariable("PSModulePath") ?? string.Empty;
        Environment.SetEnvironmentVariable("PSModulePath", current.Length == 0 ? root : root + Path.PathSeparator + current);
    }

    private static string? FindOut(string start)
    {
        for (DirectoryInfo? dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "out");
            if (File.Exists(Path.Combine(candidate, "AcrIdentity", "AcrIdentity.psd1")))
            {
                return candidate;
            }
        }

        return null;
    }
}

internal sealed class Invocation
{
    private string? _file;
    private string? _command;
    private readonly List<string> _args = new();

    public bool AllowErrors { get; private set; }

    public static Invocation? Parse(string[] argv, out string? error)
    {
        var inv = new Invocation();
        error = null;
        for (int i = 0; i < argv.Length; i++)
        {
            string a = argv[i];
            if (inv._file is not null)
            {
                inv._args.Add(a);
            }
            else if (a.Equals("-AllowErrors", StringComparison.OrdinalIgnoreCase))
            {
                inv.AllowErrors = true;
            }
            else if (a.Equals("-File", StringComparison.OrdinalIgnoreCase) && i + 1 < argv.Length)
            {
                inv._file = Path.GetFullPath(argv[++i]);
            }
            else if (a.Equals("-Command", StringComparison.OrdinalIgnoreCase) && i + 1 < argv.Length)
            {
                inv._command = string.Join(" ", argv.Skip(i + 1));
                break;
            }
            else
            {
                error = $"unexpected argument '{a}'";
                return null;
            }
        }

        if (inv._file is null && inv._command is null)
        {
            error = "give -File or -Command";
            return null;
        }

        if (inv._file is not null && !File.Exists(inv._file))
        {
            error = $"no such script: {inv._file}";
            return null;
        }

        return inv;
    }

    public void AddTo(PowerShell ps)
    {
        if (_command is not null)
        {
            ps.AddScript(_command);
            return;
        }

        ps.AddCommand(_file!);
        for (int i = 0; i < _args.Count; i++)
        {
            string a = _args[i];
            bool isName = a.Length > 1 && a[0] == '-' && !char.IsDigit(a[1]);
            if (!isName)
            {
                ps.AddArgument(a);
                continue;
            }

            string name = a.Substring(1);
            int colon = name.IndexOf(':');
            if (colon >= 0)
            {
                ps.AddParameter(name.Substring(0, colon), name.Substring(colon + 1));
            }
            else if (i + 1 < _args.Count && !(_args[i + 1].Length > 1 && _args[i + 1][0] == '-' && !char.IsDigit(_args[i + 1][1])))
            {
                ps.AddParameter(name, _args[++i]);
            }
            else
            {
                ps.AddParameter(name); // a switch
            }
        }
    }
}

/// <summary>Console text for output objects without Out-String (not in the hosted engine).</summary>
internal static class Formatter
{
    public static string Format(PSObject? obj)
    {
        object? value = obj?.BaseObject;
        if (obj is null || value is null)
        {
            return string.Empty;
        }

        if (value is string || value.GetType().IsPrimitive || value is decimal || value is DateTime || value is DateTimeOffset || value is Guid || value is Enum || value is Version || value is TimeSpan || value is Uri)
        {
            return value + Environment.NewLine;
        }

        // Objects: one "Name : Value" block each, like Format-List.
        var props = DisplayProperties(obj);
        int width = props.Count == 0 ? 0 : props.Max(p => p.Name.Length);
        var sb = new System.Text.StringBuilder();
        sb.AppendLine();
        foreach (PSPropertyInfo p in props)
        {
            sb.Append(p.Name.PadRight(width)).Append(" : ").AppendLine(ValueText(p));
        }

        return sb.ToString();
    }

    private static List<PSPropertyInfo> DisplayProperties(PSObject obj)
    {
        // Respect a type's DefaultDisplayPropertySet when it has one.
        if (obj.Members["PSStandardMembers"]?.Value is PSMemberSet standard &&
            standard.Members["DefaultDisplayPropertySet"] is PSPropertySet set)
        {
            return set.ReferencedPropertyNames.Select(n => obj.Properties[n]).Where(p => p is not null).ToList();
        }

        return obj.Properties.Where(p => p.IsGettable).ToList();
    }

    private static string ValueText(PSPropertyInfo p)
    {
        object? v;
        try
        {
            v = p.Value;
        }
        catch (GetValueException)
        {
            return string.Empty;
        }

        v = v is PSObject pso ? pso.BaseObject : v;
        if (v is System.Security.SecureString)
        {
            return "System.Security.SecureString";
        }

        if (v is IEnumerable e && v is not string)
        {
            return "{" + string.Join(", ", e.Cast<object?>().Select(x => x?.ToString())) + "}";
        }

        return v?.ToString() ?? string.Empty;
    }
}
