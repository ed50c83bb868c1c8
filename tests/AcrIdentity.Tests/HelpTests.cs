using System.Management.Automation;
using System.Net;
using System.Text.RegularExpressions;
using AcrIdentity.Sandbox;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>Get-Help works for every exported cmdlet from the MAML the build compiles out of docs/en-US.</summary>
public class HelpTests
{
    private static string Docs => Path.Combine(Repo.Root, "docs", "en-US");

    [Theory]
    [InlineData("core")]
    [InlineData("desktop")]
    public void The_help_file_sits_in_a_culture_folder_beside_each_edition_dll(string edition)
    {
        // A test-project build makes only the core edition; the desktop one is checked when it was built.
        string dll = Path.Combine(Repo.ModuleDirectory, edition, "AcrIdentity.dll");
        Assert.True(edition == "desktop" || File.Exists(dll), dll + " was not built");
        if (!File.Exists(dll)) return;
        string help = Path.Combine(Repo.ModuleDirectory, edition, "en-US", "AcrIdentity.dll-Help.xml");
        Assert.True(File.Exists(help), help + " was not built");
        Assert.True(File.GetLastWriteTimeUtc(help) >= File.GetLastWriteTimeUtc(dll).AddMinutes(-5), "the help file is older than the dll beside it");
        Assert.True(File.GetLastWriteTimeUtc(help) >= Directory.GetFiles(Docs, "*-*.md").Max(File.GetLastWriteTimeUtc),
            "the help file is older than docs/en-US: the build did not compile it");
    }

    [Fact]
    public void Every_exported_cmdlet_and_every_parameter_has_help()
    {
        using var ps = new PowerShellSession();
        // The list comes from Get-Command, so a new cmdlet or parameter without help fails here.
        var result = ps.Run(@"
$common = [System.Management.Automation.PSCmdlet]::CommonParameters
foreach ($c in Get-Command -Module AcrIdentity) {
    $h = Get-Help $c.Name -Full
    # Without a help file Get-Help makes up a synopsis from the syntax and has no examples.
    if ($h.Synopsis -like ""*$($c.Name) *"" -or $h.Synopsis -like '*CommonParameters*') { ""$($c.Name): no synopsis"" }
    if (-not ($h.description | ForEach-Object Text)) { ""$($c.Name): no description"" }
    if (@($h.examples.example).Count -lt 2) { ""$($c.Name): fewer than 2 examples"" }
    if (@($h.relatedLinks.navigationLink | Where-Object uri -like 'https://*').Count -lt 1) { ""$($c.Name): no related link"" }
    if (-not $h.returnValues) { ""$($c.Name): no outputs"" }
    foreach ($p in $c.Parameters.Keys | Where-Object { $_ -notin $common }) {
        $ph = $h.parameters.parameter | Where-Object name -eq $p
        if (-not $ph) { ""$($c.Name) -$($p): no help"" }
        elseif (-not ($ph.description | ForEach-Object Text)) { ""$($c.Name) -$($p): empty description"" }
    }
    foreach ($ph in $h.parameters.parameter) {
        if (-not $c.Parameters.ContainsKey($ph.name)) { ""$($c.Name) -$($ph.name): documented but not a parameter"" }
    }
}
'--checked ' + @(Get-Command -Module AcrIdentity).Count");

        Assert.Empty(result.Errors);
        var lines = result.Output.Select(o => o.ToString()).ToList();
        Assert.Matches(@"^--checked (1[2-9]|[2-9]\d)$", lines[^1]);
        Assert.True(lines.Count == 1, "help is missing:\n" + string.Join("\n", lines.SkipLast(1)));
    }

    [Fact]
    public void The_documented_syntax_is_the_cmdlets_syntax()
    {
        using var ps = new PowerShellSession();
        foreach (string file in Directory.GetFiles(Docs, "*-*.md"))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            var actual = ps.Run("(Get-Command $args[0] -Syntax) -split \"`n\" | ForEach-Object Trim | Where-Object { $_ }", name);
            Assert.Empty(actual.Errors);
            Match block = Regex.Match(File.ReadAllText(file).Replace("\r\n", "\n"), "## SYNTAX\n```text\n(?<lines>.*?)\n```", RegexOptions.Singleline);
            Assert.True(block.Success, file + " has no SYNTAX block");
            Assert.Equal(actual.Output.Select(o => o.ToString()).ToList(), block.Groups["lines"].Value.Split('\n').Select(l => l.Trim()).ToList());
        }
    }

    [Fact]
    public void Get_Help_Examples_and_Full_show_the_compiled_text()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run(@"
$e = Get-Help Enable-AcrManagedIdentityPull -Examples
$f = Get-Help Enable-AcrManagedIdentityPull -Full
$e.examples.example[0].title
$e.examples.example[0].code
($f.parameters.parameter | Where-Object name -eq 'ResourceId').required
($f.parameters.parameter | Where-Object name -eq 'ResourceId').position
($f.parameters.parameter | Where-Object name -eq 'ResourceId').pipelineInput
@($f.syntax.syntaxItem).Count
$f.relatedLinks.navigationLink[0].uri");

        Assert.Empty(result.Errors);
        var o = result.Output.Select(x => x.ToString()).ToList();
        Assert.Contains("Example 1: A Linux web app pulls", o[0]);
        Assert.StartsWith("Enable-AcrManagedIdentityPull -ResourceId", o[1]);
        Assert.Equal(new[] { "true", "1", "True (ByValue, ByPropertyName)", "1" }, o.Skip(2).Take(4));
        Assert.StartsWith("https://learn.microsoft.com/azure/app-service/", o[6]);
    }

    /// <summary>Every example of every cmdlet: (cmdlet, example number), from the files the help is compiled from.</summary>
    public static IEnumerable<object[]> Examples()
    {
        foreach (string file in Directory.GetFiles(Path.Combine(Repo.Root, "docs", "en-US"), "*-*.md").OrderBy(f => f, StringComparer.Ordinal))
        {
            int count = Regex.Matches(File.ReadAllText(file), @"^### Example \d+:", RegexOptions.Multiline).Count;
            for (int i = 1; i <= count; i++)
            {
                yield return new object[] { Path.GetFileNameWithoutExtension(file), i };
            }
        }
    }

    /// <summary>The ```powershell setup block of one example, or null.</summary>
    internal static string? SetupBlock(string cmdlet, int number)
    {
        string text = File.ReadAllText(Path.Combine(Docs, cmdlet + ".md")).Replace("\r\n", "\n");
        Match example = Regex.Match(text, $@"^### Example {number}:.*?(?=^### |^## |\z)", RegexOptions.Multiline | RegexOptions.Singleline);
        Assert.True(example.Success, $"{cmdlet} has no example {number}");
        Match setup = Regex.Match(example.Value, "```powershell setup\n(?<code>.*?)\n```", RegexOptions.Singleline);
        return setup.Success ? setup.Groups["code"].Value : null;
    }
}

/// <summary>The seed world (samples/seed-world.json) with its registries running, for the help examples.</summary>
public sealed class SeedWorldSandbox : IAsyncLifetime
{
    private readonly string _stateDir = Path.Combine(Path.GetTempPath(), "acridentity-help-" + Guid.NewGuid().ToString("N"));
    private SandboxHost? _host;

    public SandboxHost Host => _host ?? throw new InvalidOperationException("sandbox not started");

    public async Task InitializeAsync()
    {
        string? caDir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        Assert.False(string.IsNullOrEmpty(caDir), "ACRIDENTITY_SANDBOX_CA_DIR is not set: run the tests through tests/run");
        _host = await SandboxHost.StartAsync(new SandboxOptions
        {
            StateDir = _stateDir,
            CaDir = caDir,
            ScenarioFile = Path.Combine(Repo.Root, "samples", "seed-world.json"),
        });
    }

    public async Task DisposeAsync()
    {
        if (_host is not null) await _host.DisposeAsync();
        try { Directory.Delete(_stateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Help examples are not decoration: each runs against the sandbox and must finish without an error.</summary>
[Collection(SandboxCollection.Name)]
public sealed class HelpExampleTests : IClassFixture<SeedWorldSandbox>
{
    private static readonly Regex Jwt = new(@"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.", RegexOptions.Compiled);
    private readonly SeedWorldSandbox _sandbox;

    public HelpExampleTests(SeedWorldSandbox sandbox) => _sandbox = sandbox;

    [Theory]
    [MemberData(nameof(HelpTests.Examples), MemberType = typeof(HelpTests))]
    public void Example_runs_against_the_sandbox(string cmdlet, int number)
    {
        string home = Path.Combine(Path.GetTempPath(), "acridentity-help-home-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(home);
        using EnvScope env = EnvScope.Clean()
            .Set("DOCKER_CONFIG", Path.Combine(home, "docker"))
            .Set("REGISTRY_AUTH_FILE", Path.Combine(home, "containers", "auth.json"));
        using var ps = new PowerShellSession();
        try
        {
            SandboxEndpoints ep = _sandbox.Host.Endpoints;
            var secret = new NetworkCredential(string.Empty, ep.Operator.ClientSecret).SecurePassword;
            var connected = ps.Run(@"
$global:SandboxEndpointsFile = $args[0]
$global:SandboxAppId = $args[1]
$global:SandboxSecret = $args[2]
$null = Connect-AcrIdentity -Environment $args[0] -ApplicationId $args[1] -ClientSecret $args[2]", _sandbox.Host.EndpointsFile, ep.Operator.ClientId, secret);
            Assert.True(connected.Errors.Count == 0, "connect: " + connected);

            // The code is what Get-Help shows users, not a copy kept for the test.
            var shown = ps.Run("@((Get-Help $args[0] -Examples).examples.example)[$args[1] - 1].code", cmdlet, number);
            string code = Assert.Single(shown.Output).ToString();
            Assert.False(string.IsNullOrWhiteSpace(code));

            string? setup = HelpTests.SetupBlock(cmdlet, number);
            string script = (setup is null ? string.Empty : setup + "\n") + code;
            ScriptResult run = ps.Run(script);
            Assert.True(run.Errors.Count == 0, $"{cmdlet} example {number} failed: {run}\n--- script ---\n{script}");
            Assert.False(Jwt.IsMatch(run.AllText()), $"{cmdlet} example {number} shows a token");
        }
        finally
        {
            ps.Run("Disconnect-AcrIdentity");
            try { Directory.Delete(home, recursive: true); } catch (IOException) { }
        }
    }
}
