using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Security;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// What a user at a console sees: -WhatIf lines and -Confirm prompts go to the host's UI, which the plain test
/// runspace does not have, so these tests run the cmdlet under a host that records its UI.
/// </summary>
public sealed class EnableHostTests
{
    private sealed class RecordingUi : PSHostUserInterface
    {
        public List<string> Lines { get; } = new();
        public List<string> Prompts { get; } = new();
        /// <summary>Answers to -Confirm prompts in order: 0 = Yes, 2 = No (PowerShell's choice order).</summary>
        public Queue<int> Answers { get; } = new();

        public override PSHostRawUserInterface? RawUI => null;
        public override string ReadLine() => string.Empty;
        public override SecureString ReadLineAsSecureString() => new();
        public override void Write(string value) => Lines.Add(value);
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Lines.Add(value);
        public override void WriteLine(string value) => Lines.Add(value);
        public override void WriteErrorLine(string value) => Lines.Add(value);
        public override void WriteDebugLine(string message) { }
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override void WriteVerboseLine(string message) { }
        public override void WriteWarningLine(string message) { }
        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => new();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            Prompts.Add(message);
            return Answers.Count > 0 ? Answers.Dequeue() : defaultChoice;
        }
    }

    private sealed class RecordingHost : PSHost
    {
        private readonly RecordingUi _ui = new();
        public RecordingUi Recorded => _ui;
        public override string Name => "AcrIdentityTestHost";
        public override Version Version => new(1, 0);
        public override Guid InstanceId { get; } = Guid.NewGuid();
        public override PSHostUserInterface UI => _ui;
        public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
        public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
        public override void EnterNestedPrompt() => throw new NotSupportedException();
        public override void ExitNestedPrompt() => throw new NotSupportedException();
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
        public override void SetShouldExit(int exitCode) { }
    }

    private static Collection<PSObject> Invoke(Runspace runspace, string script, params object?[] args)
    {
        using PowerShell ps = PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript(script);
        foreach (object? a in args) ps.AddArgument(a);
        var result = ps.Invoke();
        Assert.True(ps.Streams.Error.Count == 0, string.Join(" | ", ps.Streams.Error.Select(ScriptResult.Describe)));
        return result;
    }

    private static (Runspace Runspace, RecordingHost Host) Open()
    {
        var host = new RecordingHost();
        Runspace runspace = RunspaceFactory.CreateRunspace(host, InitialSessionState.CreateDefault2());
        runspace.Open();
        Invoke(runspace, "Import-Module -Name $args[0] -ErrorAction Stop", Repo.ModuleManifest);
        // Connect-AcrIdentity's context is process-wide: the EnableSandbox session already connected it.
        return (runspace, host);
    }

    [Fact]
    public async Task WhatIf_prints_one_line_per_planned_step()
    {
        await using var s = await EnableSandbox.StartAsync();
        var (runspace, host) = Open();
        using (runspace)
        {
            int mark = s.Mark;
            Invoke(runspace, "Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -UserAssignedIdentity myACRId -WhatIf", s.LinuxApp);

            var whatIf = host.Recorded.Lines.Where(l => l.StartsWith("What if:", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, whatIf.Count);
            Assert.Contains("Grant AcrPull on myContainerRegistry", whatIf[0]);
            Assert.Contains("Attach user-assigned identity myACRId to myLinuxApp", whatIf[1]);
            Assert.Contains("acrUserManagedIdentityID=", whatIf[2]);
            Assert.All(whatIf, l => Assert.Contains(s.LinuxApp, l, StringComparison.OrdinalIgnoreCase));
            Assert.Empty(s.WritesSince(mark));
        }
    }

    [Fact]
    public async Task Confirm_asks_per_step_and_No_stops_that_target_there()
    {
        await using var s = await EnableSandbox.StartAsync();
        var (runspace, host) = Open();
        using (runspace)
        {
            host.Recorded.Answers.Enqueue(0); // Yes: identity
            host.Recorded.Answers.Enqueue(2); // No: role assignment
            var output = Invoke(runspace, "Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -Confirm", s.LinuxApp);

            Assert.Equal(2, host.Recorded.Prompts.Count);
            var result = Assert.Single(output);
            Assert.Equal("Declined", result.Properties["Status"].Value);
            var outcomes = ((object[])result.Properties["Steps"].Value).Select(st => (string)PSObject.AsPSObject(st).Properties["Outcome"].Value).ToArray();
            Assert.Equal(new[] { "Done", "Declined", "NotRun" }, outcomes);
            Assert.Equal("SystemAssigned", (string?)s.Get(s.LinuxApp)["identity"]!["type"]);
            Assert.Empty(s.RegistryAssignments());
        }
    }
}
