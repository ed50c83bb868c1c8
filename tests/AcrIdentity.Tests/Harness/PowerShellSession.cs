using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;

namespace AcrIdentity.Tests.Harness;

/// <summary>What one script run returned: output objects and every stream.</summary>
public sealed class ScriptResult
{
    public required IReadOnlyList<PSObject> Output { get; init; }
    public required IReadOnlyList<ErrorRecord> Errors { get; init; }
    public required IReadOnlyList<WarningRecord> Warnings { get; init; }
    public required IReadOnlyList<VerboseRecord> Verbose { get; init; }
    public required IReadOnlyList<DebugRecord> Debug { get; init; }
    public required IReadOnlyList<InformationRecord> Information { get; init; }

    /// <summary>The terminating error that stopped the script (statement- or script-terminating), if any; it is also in Errors.</summary>
    public ErrorRecord? Terminating { get; init; }

    public PSObject Single()
    {
        Assert.True(Errors.Count == 0, "unexpected errors: " + string.Join(" | ", Errors.Select(Describe)));
        return Assert.Single(Output);
    }

    public object? Prop(int index, string name) => Output[index].Properties[name]?.Value;

    /// <summary>Everything a user could see or log: output, all streams and error details.</summary>
    public string AllText()
    {
        var sb = new StringBuilder();
        foreach (PSObject o in Output)
        {
            sb.AppendLine(o?.ToString());
            if (o?.BaseObject is not string && o is not null)
            {
                foreach (PSPropertyInfo p in o.Properties)
                {
                    try { sb.AppendLine(p.Name + "=" + p.Value); } catch (GetValueException) { }
                }
            }
        }

        foreach (ErrorRecord e in Errors) sb.AppendLine(Describe(e)).AppendLine(e.Exception?.ToString()).AppendLine(e.TargetObject?.ToString());
        foreach (var r in Warnings) sb.AppendLine(r.Message);
        foreach (var r in Verbose) sb.AppendLine(r.Message);
        foreach (var r in Debug) sb.AppendLine(r.Message);
        foreach (var r in Information) sb.AppendLine(r.MessageData?.ToString());
        return sb.ToString();
    }

    public static string Describe(ErrorRecord e) =>
        $"{e.FullyQualifiedErrorId} [{e.CategoryInfo.Category}] {e.ErrorDetails?.Message ?? e.Exception?.Message} (action: {e.ErrorDetails?.RecommendedAction})";

    public override string ToString() =>
        $"{Output.Count} output, errors: {string.Join(" | ", Errors.Select(Describe))}; warnings: {string.Join(" | ", Warnings.Select(w => w.Message))}";
}

/// <summary>
/// A runspace made like a user's (CreateDefault2) that imports the built out/AcrIdentity module. Each Run
/// is one pipeline in the same runspace, so state (Connect-AcrIdentity, imported modules) carries over.
/// </summary>
public sealed class PowerShellSession : IDisposable
{
    private readonly Runspace _runspace;

    public PowerShellSession(bool importModule = true)
    {
        _runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        _runspace.Open();
        if (importModule)
        {
            ScriptResult imported = Run("Import-Module -Name $args[0] -ErrorAction Stop", Repo.ModuleManifest);
            Assert.True(imported.Errors.Count == 0, "Import-Module failed: " + imported);
        }
    }

    /// <summary>Runs script text with verbose and debug on, so token checks see every stream. $args holds <paramref name="args"/>.</summary>
    public ScriptResult Run(string script, params object?[] args)
    {
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript("$VerbosePreference = 'Continue'; $DebugPreference = 'Continue'; $InformationPreference = 'Continue'; $global:AcrTestTerminating = $null", useLocalScope: false);
        ps.AddStatement();
        // try/catch sees statement-terminating errors (ThrowTerminatingError), which Invoke does not throw.
        ps.AddScript("try {\n" + script + "\n} catch { $global:AcrTestTerminating = $_ }", useLocalScope: true);
        foreach (object? a in args)
        {
            ps.AddArgument(a);
        }

        var output = new List<PSObject>();
        ErrorRecord? terminating = null;
        try
        {
            foreach (PSObject o in ps.Invoke())
            {
                output.Add(o);
            }
        }
        catch (RuntimeException ex)
        {
            terminating = ex.ErrorRecord;
        }

        terminating ??= _runspace.SessionStateProxy.GetVariable("AcrTestTerminating") as ErrorRecord
            ?? (_runspace.SessionStateProxy.GetVariable("AcrTestTerminating") as PSObject)?.BaseObject as ErrorRecord;
        var errors = ps.Streams.Error.ToList();
        if (terminating is not null)
        {
            errors.Add(terminating);
        }

        return new ScriptResult
        {
            Output = output,
            Errors = errors,
            Warnings = ps.Streams.Warning.ToList(),
            Verbose = ps.Streams.Verbose.ToList(),
            Debug = ps.Streams.Debug.ToList(),
            Information = ps.Streams.Information.ToList(),
            Terminating = terminating,
        };
    }

    /// <summary>Starts <paramref name="script"/>, stops the pipeline (Ctrl+C) after <paramref name="stopAfter"/>, and returns how long the stop took.</summary>
    public TimeSpan RunAndStop(string script, TimeSpan stopAfter, params object?[] args)
    {
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        foreach (object? a in args)
        {
            ps.AddArgument(a);
        }

        IAsyncResult running = ps.BeginInvoke();
        if (running.AsyncWaitHandle.WaitOne(stopAfter))
        {
            // Read the errors only now: enumerating a running pipeline's streams blocks.
            Assert.Fail("the script ended before it could be stopped: " + string.Join(" | ", ps.Streams.Error.Select(ScriptResult.Describe)));
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        ps.Stop();
        watch.Stop();
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        return watch.Elapsed;
    }

    public void Dispose() => _runspace.Dispose();
}
