using System.Diagnostics;
using System.Management.Automation.Language;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>
/// Enable-AcrManagedIdentityPull -AsAzCommand: every rendering is parsed back by the target shell's rules and
/// must give az exactly the intended argv. bash and PowerShell 7 (Standard and Legacy passing) really run,
/// against an argv-echo script; PowerShell 5.1 and cmd.exe are reproduced from their documented rules.
/// </summary>
public sealed class EnableAzCommandTests : IDisposable
{
    private static readonly string[] Hostile =
    {
        "plain",
        "two words",
        "{\"acrUseManagedIdentityCreds\": true, \"acrUserManagedIdentityID\": \"1f1e…\"}",
        "{\"a b\"}",
        "it's",
        "'single quoted'",
        "\u2018typographic\u2019 quotes",
        "$HOME and $(whoami) and `backtick`",
        "%PATH% 100%",
        "caret^ and amp& and pipe| <in >out (paren)",
        "a \"b&c|d<e>f^g(h)\" i",
        "back\\slash\\\"quote \\\\\" end",
        "C:\\path\\",
        "\\\\\"\"",
        "tab\there",
        "@splat, comma; semicolon # hash",
        "--flag-like",
        "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'})) OR (@Resource[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'a b/c'))",
        "!bang! *glob? ~tilde",
        "",
    };

    public static IEnumerable<object[]> Values() => Hostile.Select((v, i) => new object[] { i });

    private readonly PowerShellSession _ps = new();
    private readonly string _echo;

    public EnableAzCommandTests()
    {
        // Prints each argument it receives as one line of hex, so nothing about the argv is lost in transit.
        _echo = Path.Combine(Directory.CreateTempSubdirectory("acrid-argv").FullName, "argv.sh");
        File.WriteAllText(_echo, "#!/bin/sh\nfor a in \"$@\"; do printf '%s' \"$a\" | od -An -tx1 -v | tr -d ' \\n'; echo .; done\n");
    }

    public void Dispose()
    {
        _ps.Dispose();
        Directory.Delete(Path.GetDirectoryName(_echo)!, recursive: true);
    }

    // ---- the quoters, value by value -------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Values))]
    public void Bash_gives_back_the_value(int index)
    {
        string value = Hostile[index];
        Assert.Equal(new[] { value }, Bash(Quote("Bash", value)));
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void PowerShell_standard_passing_gives_back_the_value(int index)
    {
        string value = Hostile[index];
        Assert.Equal(new[] { value }, PowerShell(Quote("PowerShell", value), "Standard"));
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void PowerShell_legacy_passing_gives_back_the_value(int index)
    {
        string value = Hostile[index];
        string? rendered = TryQuote("PowerShell51", value);
        if (rendered is null)
        {
            // Refused only where 5.1 cannot pass the value at all.
            Assert.True(value.Length == 0, $"PowerShell51 refused '{value}'");
            return;
        }
        // PowerShell 7 in Legacy mode, for real (on Unix .NET splits the joined line with the C runtime's rules)...
        Assert.Equal(new[] { value }, PowerShell(rendered, "Legacy"));
        // ...and Windows PowerShell 5.1's joining, followed by the split python.exe (az) makes on Windows.
        Assert.Equal(new[] { value }, WindowsPowerShell51(rendered));
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void Cmd_gives_back_the_value_or_refuses_it(int index)
    {
        string value = Hostile[index];
        string? rendered = TryQuote("Cmd", value);
        if (rendered is null)
        {
            Assert.Contains('%', value);
            return;
        }
        Assert.Equal(new[] { value }, CmdThroughAzCmd(rendered));
    }

    [Fact]
    public void The_legacy_rendering_is_the_escaping_the_App_Service_doc_asks_for()
    {
        // Seed 000's tip: --generic-configurations '{\"acrUseManagedIdentityCreds\": true}' in PowerShell.
        Assert.Equal("'{\\\"acrUseManagedIdentityCreds\\\": true}'", Quote("PowerShell51", "{\"acrUseManagedIdentityCreds\": true}"));
        Assert.Equal("'{\"acrUseManagedIdentityCreds\": true}'", Quote("PowerShell", "{\"acrUseManagedIdentityCreds\": true}"));
        Assert.Equal("'{\"acrUseManagedIdentityCreds\": true}'", Quote("Bash", "{\"acrUseManagedIdentityCreds\": true}"));
        // The Standard rendering run the Legacy way loses its quotes: the difference is real, not cosmetic.
        Assert.NotEqual(new[] { "{\"a\": 1}" }, PowerShell(Quote("PowerShell", "{\"a\": 1}"), "Legacy"));
    }

    // ---- the cmdlet, against the seed world ------------------------------------------------------------------

    [Fact]
    public async Task User_assigned_web_app_commands_parse_to_the_same_argv_in_every_shell_and_nothing_is_written()
    {
        await using var s = await EnableSandbox.StartAsync();
        int mark = s.Mark;
        var perShell = new Dictionary<string, List<string[]>>();
        foreach (string shell in new[] { "Bash", "PowerShell", "PowerShell51", "Cmd" })
        {
            var r = s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -UserAssignedIdentity myACRId -AsAzCommand -Shell $args[1]", s.LinuxApp, shell);
            Assert.True(r.Errors.Count == 0, r.ToString());
            List<string> lines = r.Output.Select(o => Assert.IsType<string>(o.BaseObject)).ToList();
            Assert.All(lines, l => Assert.StartsWith("az ", l));
            perShell[shell] = lines.Select(l => ParseLine(shell, l.Substring(3))).ToList();
        }
        Assert.Empty(s.WritesSince(mark));

        List<string[]> bash = perShell["Bash"];
        foreach (var other in perShell) Assert.Equal(bash, other.Value);

        string clientId = (string)s.Get(s.Uami)["properties"]!["clientId"]!;
        string principalId = (string)s.Get(s.Uami)["properties"]!["principalId"]!;
        Assert.Equal(3, bash.Count);
        Assert.Equal(new[] { "role", "assignment", "create", "--assignee-object-id", principalId, "--assignee-principal-type", "ServicePrincipal",
            "--role", "AcrPull", "--scope", s.Registry }, bash[0]);
        Assert.Equal(new[] { "webapp", "identity", "assign", "--resource-group", "myResourceGroup", "--name", "myLinuxApp", "--identities" }, bash[1][..8]);
        Assert.Equal(s.Uami, bash[1][8], ignoreCase: true);
        Assert.Equal(new[] { "webapp", "config", "set", "--resource-group", "myResourceGroup", "--name", "myLinuxApp", "--generic-configurations",
            $"{{\"acrUseManagedIdentityCreds\": true, \"acrUserManagedIdentityID\": \"{clientId}\"}}" }, bash[2]);
    }

    [Fact]
    public async Task Each_target_kind_renders_its_own_az_command_or_says_it_has_none()
    {
        await using var s = await EnableSandbox.StartAsync();
        int mark = s.Mark;
        string[] Lines(string id, string extra = "") =>
            s.Run($"Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -AsAzCommand -Shell Bash {extra}", id).Output.Select(o => (string)o.BaseObject).ToArray();

        string[] aks = Lines(s.Aks);
        Assert.Equal(new[] { "aks", "update", "--resource-group", "myResourceGroup", "--name", "myAKSCluster", "--attach-acr", s.Registry },
            ParseLine("Bash", Assert.Single(aks).Substring(3)));

        // System-assigned, not yet there: the identity command stores the new principal ID, the role command reads it.
        string[] app = Lines(s.ContainerApp);
        Assert.StartsWith("principalId=$(az containerapp identity assign ", app[0]);
        Assert.EndsWith(" --system-assigned --query principalId --output tsv)", app[0]);
        Assert.StartsWith("az role assignment create --assignee-object-id \"$principalId\" ", app[1]);
        Assert.Contains(app, l => l.StartsWith("az containerapp registry set ", StringComparison.Ordinal) && l.Contains("--identity system"));

        string[] vm = Lines(s.Vm, "-UserAssignedIdentity myACRId");
        Assert.Contains(vm, l => l.StartsWith("az vm identity assign --resource-group myResourceGroup --name myDockerVM --identities ", StringComparison.Ordinal));
        Assert.DoesNotContain(vm, l => l.Contains("config set"));

        // No az command changes an existing container group's identity or registry credential: comments only.
        string[] group = Lines(s.ContainerGroup, "-UserAssignedIdentity myACRId");
        Assert.Contains(group, l => l.StartsWith("az role assignment create ", StringComparison.Ordinal));
        Assert.DoesNotContain(group, l => l.StartsWith("az container", StringComparison.Ordinal));
        Assert.Equal(2, group.Count(l => l.StartsWith("# ", StringComparison.Ordinal) && l.Contains("no az equivalent")));

        Assert.Empty(s.WritesSince(mark));
    }

    [Theory]
    [InlineData("Legacy", "PowerShell51")]
    [InlineData("Standard", "PowerShell")]
    public async Task Without_Shell_the_quoting_follows_the_sessions_native_argument_passing(string passing, string shell)
    {
        await using var s = await EnableSandbox.StartAsync();
        var byDefault = s.Run("$PSNativeCommandArgumentPassing = $args[1]; Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -UserAssignedIdentity myACRId -AsAzCommand", s.LinuxApp, passing);
        var chosen = s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -UserAssignedIdentity myACRId -AsAzCommand -Shell $args[1]", s.LinuxApp, shell);
        Assert.Empty(byDefault.Errors);
        Assert.Equal(chosen.Output.Select(o => o.BaseObject), byDefault.Output.Select(o => o.BaseObject));
        Assert.Contains(byDefault.Output, o => ((string)o.BaseObject).Contains(passing == "Legacy" ? "'{\\\"acrUse" : "'{\"acrUse"));
    }

    [Fact]
    public async Task Shell_without_AsAzCommand_is_refused()
    {
        await using var s = await EnableSandbox.StartAsync();
        int mark = s.Mark;
        var r = s.Run("Enable-AcrManagedIdentityPull $args[0] myContainerRegistry -Shell Bash", s.LinuxApp);
        Assert.StartsWith("Enable-AcrManagedIdentityPull.ShellWithoutAsAzCommand", r.Terminating?.FullyQualifiedErrorId);
        Assert.Empty(s.WritesSince(mark));
    }

    // ---- the shells ------------------------------------------------------------------------------------------

    private string[] ParseLine(string shell, string args) => shell switch
    {
        "Bash" => Bash(args),
        "PowerShell" => PowerShell(args, "Standard"),
        "PowerShell51" => PowerShell(args, "Legacy") is var seven && WindowsPowerShell51(args) is var five && seven.SequenceEqual(five)
            ? seven : throw new Xunit.Sdk.XunitException($"7 Legacy and 5.1 disagree: [{string.Join("|", seven)}] vs [{string.Join("|", five)}]"),
        "Cmd" => CmdThroughAzCmd(args),
        _ => throw new ArgumentOutOfRangeException(nameof(shell)),
    };

    private string[] Bash(string args)
    {
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("/bin/sh " + _echo + " " + args);
        using var p = Process.Start(start)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        return Decode(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private string[] PowerShell(string args, string passing)
    {
        var r = _ps.Run($"$PSNativeCommandArgumentPassing = '{passing}'\n& /bin/sh {_echo} {args}");
        Assert.True(r.Errors.Count == 0, r.ToString());
        return Decode(r.Output.Select(o => o.BaseObject.ToString()!));
    }

    private static string[] Decode(IEnumerable<string> hexLines) =>
        hexLines.Select(l => Encoding.UTF8.GetString(Convert.FromHexString(l.TrimEnd('.')))).ToArray();

    /// <summary>
    /// Windows PowerShell 5.1: each word of the command is evaluated by PowerShell's parser (here the real
    /// Parser), then joined into one line, wrapped in quotes only when it has whitespace outside quotes (a \"
    /// does not count) — nothing is escaped. az's python.exe then splits the line.
    /// </summary>
    private static string[] WindowsPowerShell51(string args)
    {
        Ast ast = Parser.ParseInput("az " + args, out _, out ParseError[] errors);
        Assert.Empty(errors);
        var command = (CommandAst)ast.Find(a => a is CommandAst, searchNestedScriptBlocks: false)!;
        var line = new StringBuilder();
        foreach (CommandElementAst element in command.CommandElements.Skip(1))
        {
            string value = element switch
            {
                StringConstantExpressionAst c => c.Value,
                CommandParameterAst p => p.Extent.Text,
                _ => throw new Xunit.Sdk.XunitException("not a constant argument: " + element.Extent.Text),
            };
            if (value.Length == 0) continue; // 5.1 drops empty arguments
            if (line.Length > 0) line.Append(' ');
            line.Append(NeedQuotes(value) ? "\"" + value + "\"" : value);
        }
        return WindowsArgv(line.ToString());
    }

    private static bool NeedQuotes(string value)
    {
        int quotes = 0;
        bool afterBackslash = false;
        foreach (char c in value)
        {
            if (c == '"' && !afterBackslash) quotes++;
            else if (char.IsWhiteSpace(c) && quotes % 2 == 0) return true;
            afterBackslash = c == '\\';
        }
        return false;
    }

    /// <summary>
    /// The C runtime's / CommandLineToArgvW's split: 2n backslashes + quote = n backslashes and a quote that
    /// toggles quoting; 2n+1 backslashes + quote = n backslashes and a literal quote; other backslashes are
    /// literal; "" inside quotes is a literal quote.
    /// </summary>
    internal static string[] WindowsArgv(string line)
    {
        var args = new List<string>();
        var current = new StringBuilder();
        bool inQuotes = false, any = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '\\')
            {
                int n = 0;
                while (i < line.Length && line[i] == '\\') { n++; i++; }
                if (i < line.Length && line[i] == '"')
                {
                    current.Append('\\', n / 2);
                    if (n % 2 == 1) current.Append('"');
                    else inQuotes = !inQuotes;
                }
                else
                {
                    current.Append('\\', n);
                    i--;
                }
                any = true;
            }
            else if (c == '"')
            {
                if (inQuotes && i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
                else inQuotes = !inQuotes;
                any = true;
            }
            else if ((c == ' ' || c == '\t') && !inQuotes)
            {
                if (any) args.Add(current.ToString());
                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
                any = true;
            }
        }
        if (any) args.Add(current.ToString());
        return args.ToArray();
    }

    /// <summary>
    /// cmd.exe typing az: cmd's parse (quotes toggle on every ", outside them ^ makes the next character literal
    /// and &amp; | &lt; &gt; are operators, %name% expands everywhere), then az.cmd's "%*" gives the same parse
    /// a second time, then python.exe splits the line.
    /// </summary>
    private static string[] CmdThroughAzCmd(string args)
    {
        Assert.DoesNotContain('%', args);
        return WindowsArgv(CmdParse(CmdParse(args)));
    }

    private static string CmdParse(string line)
    {
        var sb = new StringBuilder();
        bool inQuotes = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '"') inQuotes = !inQuotes;
            else if (!inQuotes && c == '^')
            {
                Assert.True(i + 1 < line.Length, "a trailing caret continues the line");
                sb.Append(line[++i]);
                continue;
            }
            else if (!inQuotes && "&|<>".IndexOf(c) >= 0) throw new Xunit.Sdk.XunitException($"cmd reads '{c}' as an operator in: {line}");
            sb.Append(c);
        }
        return sb.ToString();
    }

    // ---- the engine's quoters, from the copy the module loaded ------------------------------------------------

    private static string Quote(string shell, string value) =>
        TryQuote(shell, value) ?? throw new Xunit.Sdk.XunitException($"{shell} refused '{value}'");

    // Import-Module leaves the engine unloaded; the first engine call loads it into the module's context.
    private static readonly Lazy<Assembly> Engine = new(() =>
    {
        using (var ps = new PowerShellSession()) ps.Run("[AcrIdentity.Completion.ResourceCompleter]::ClearCache()");
        return AssemblyLoadContext.All.SelectMany(c => c.Assemblies).First(a => a.GetName().Name == "AcrIdentity.Engine");
    });

    private static string? TryQuote(string shell, string value)
    {
        Assembly engine = Engine.Value;
        Type quoter = engine.GetType("AcrIdentity.Engine.AzCommands.ShellQuoter", throwOnError: true)!;
        Type shells = engine.GetType("AcrIdentity.Engine.AzCommands.AzShell", throwOnError: true)!;
        object instance = quoter.GetMethod("For")!.Invoke(null, new[] { Enum.Parse(shells, shell) })!;
        try
        {
            return (string)quoter.GetMethod("Quote")!.Invoke(instance, new object[] { value })!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException?.GetType().Name == "AzCommandRenderException")
        {
            return null;
        }
    }
}
