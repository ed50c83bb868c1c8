using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Security;
using System.Text;
using System.Xml.Linq;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// Every public output type has a view in AcrIdentity.format.ps1xml, and PowerShell's own formatter renders it
/// with the view's columns. The hosted engine has no Out-String/Format-Table, so output goes through Out-Host
/// to a host that records the lines, as a console would print them.
/// </summary>
public sealed class ViewTests
{
    private static XDocument Formats() => XDocument.Load(Path.Combine(Repo.ModuleDirectory, "AcrIdentity.format.ps1xml"));

    /// <summary>Public classes of the module assembly's AcrIdentity namespace: the output types (exceptions aside).</summary>
    public static IEnumerable<object[]> OutputTypes()
    {
        using var ps = new PowerShellSession();
        var r = ps.Run("(Get-Command Connect-AcrIdentity).ImplementingType.Assembly.GetExportedTypes() | Where-Object { $_.Namespace -eq 'AcrIdentity' -and $_.IsClass -and -not [Exception].IsAssignableFrom($_) } | ForEach-Object FullName");
        return r.Output.Select(o => new object[] { o.ToString() }).ToList();
    }

    [Fact]
    public void The_output_types_are_found()
    {
        // Guards the theory below against an empty list.
        Assert.Contains(OutputTypes(), t => (string)t[0] == "AcrIdentity.ManagedIdentityPullResult");
    }

    [Theory]
    [MemberData(nameof(OutputTypes))]
    public void Each_output_type_renders_with_its_view_columns(string typeName)
    {
        XElement? view = Formats().Descendants("View").FirstOrDefault(v => v.Element("ViewSelectedBy")!.Elements("TypeName").Any(t => t.Value == typeName));
        Assert.True(view is not null, typeName + " has no view in AcrIdentity.format.ps1xml");
        var labels = view.Descendants("TableColumnHeader").Select(h => h.Element("Label")?.Value).ToList();
        var listLabels = view.Descendants("ListItem").Select(i => i.Element("Label")?.Value ?? i.Element("PropertyName")?.Value).ToList();
        Assert.True(labels.Count + listLabels.Count > 0, typeName + "'s view has no columns");
        Assert.All(labels, l => Assert.False(string.IsNullOrEmpty(l), typeName + ": every column needs a Label"));

        var host = new RecordingHost();
        using Runspace runspace = RunspaceFactory.CreateRunspace(host, InitialSessionState.CreateDefault2());
        runspace.Open();
        using (PowerShell ps = PowerShell.Create())
        {
            ps.Runspace = runspace;
            ps.AddScript("Import-Module $args[0] -ErrorAction Stop; $t = $args[1] -as [type]; $o = $t::new(); $o, $o | Out-Host").AddArgument(Repo.ModuleManifest).AddArgument(typeName);
            ps.Invoke();
            Assert.True(ps.Streams.Error.Count == 0, string.Join(" | ", ps.Streams.Error));
        }

        // PowerShell 7 styles table headers with VT sequences; the columns are what is left without them.
        string text = System.Text.RegularExpressions.Regex.Replace(host.Text, "\u001b\\[[0-9;]*m", string.Empty);
        string[] lines = text.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToArray();
        if (labels.Count > 0)
        {
            // A table: one header line with every label in order, then the dashes line.
            int header = Array.FindIndex(lines, l => l.TrimStart().StartsWith(labels[0]!, StringComparison.Ordinal));
            Assert.True(header >= 0, $"{typeName}: no header line starting with '{labels[0]}' in:\n{text}");
            string[] columns = lines[header].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(labels, columns);
            Assert.Matches(@"^[-\s]+$", lines[header + 1]);
            // Two objects, one table: a second header would mean the view was not used for the pipeline.
            Assert.Single(lines, l => l == lines[header]);
        }
        else
        {
            foreach (string? l in listLabels)
            {
                Assert.Contains(lines, line => line.TrimStart().StartsWith(l + " ", StringComparison.Ordinal) || line.TrimStart().StartsWith(l + ":", StringComparison.Ordinal));
            }
        }
    }

    private sealed class RecordingHost : PSHost
    {
        private readonly RecordingUI _ui = new();

        public string Text => _ui.Buffer.ToString();

        public override string Name => "AcrIdentityViewTests";
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

    private sealed class RecordingUI : PSHostUserInterface
    {
        public StringBuilder Buffer { get; } = new();
        public override PSHostRawUserInterface RawUI { get; } = new WideRawUI();
        public override void Write(string value) => Buffer.Append(value);
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Buffer.Append(value);
        public override void WriteLine(string value) => Buffer.Append(value).Append('\n');
        public override void WriteErrorLine(string value) => Buffer.Append("ERROR: ").Append(value).Append('\n');
        public override void WriteDebugLine(string message) { }
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override void WriteVerboseLine(string message) { }
        public override void WriteWarningLine(string message) { }
        public override string ReadLine() => throw new NotSupportedException();
        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException();
        public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();
        public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice) => throw new NotSupportedException();
    }

    /// <summary>A wide console, so no column is dropped for lack of room.</summary>
    private sealed class WideRawUI : PSHostRawUserInterface
    {
        public override ConsoleColor BackgroundColor { get; set; }
        public override Size BufferSize { get; set; } = new(400, 1000);
        public override Coordinates CursorPosition { get; set; }
        public override int CursorSize { get; set; }
        public override ConsoleColor ForegroundColor { get; set; }
        public override bool KeyAvailable => false;
        public override Size MaxPhysicalWindowSize => new(400, 1000);
        public override Size MaxWindowSize => new(400, 1000);
        public override Coordinates WindowPosition { get; set; }
        public override Size WindowSize { get; set; } = new(400, 1000);
        public override string WindowTitle { get; set; } = string.Empty;
        public override void FlushInputBuffer() { }
        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();
        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException();
        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) => throw new NotSupportedException();
        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) => throw new NotSupportedException();
        public override void SetBufferContents(Rectangle rectangle, BufferCell fill) => throw new NotSupportedException();
    }
}
