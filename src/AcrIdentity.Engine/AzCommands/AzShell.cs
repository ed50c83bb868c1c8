using System;
using System.Collections.Generic;
using System.Text;

namespace AcrIdentity.Engine.AzCommands
{
    /// <summary>The shell an az command line is quoted for.</summary>
    public enum AzShell
    {
        /// <summary>Windows PowerShell 5.1, and PowerShell 7 with $PSNativeCommandArgumentPassing = 'Legacy'.</summary>
        PowerShell51,
        /// <summary>PowerShell 7.3+ with $PSNativeCommandArgumentPassing = 'Standard'.</summary>
        PowerShell,
        Cmd,
        Bash,
    }

    /// <summary>One argument: a literal, or a reference to a variable an earlier line of the script set.</summary>
    public readonly struct AzArg
    {
        private AzArg(string value, bool variable)
        {
            Value = value;
            IsVariable = variable;
        }

        public string Value { get; }
        public bool IsVariable { get; }

        public static AzArg Literal(string value) => new AzArg(value ?? throw new ArgumentNullException(nameof(value)), false);
        public static AzArg Variable(string name) => new AzArg(name, true);
        public static implicit operator AzArg(string value) => Literal(value);
        public override string ToString() => IsVariable ? "$" + Value : Value;
    }

    /// <summary>Turns one argv element into the text that makes a shell pass exactly that element to az.</summary>
    public abstract class ShellQuoter
    {
        public abstract string Quote(string value);
        public abstract string Variable(string name);
        /// <summary>Line that stores az's tsv output in a variable.</summary>
        public abstract string[] Capture(string variable, string commandLine);
        public abstract string Comment(string text);

        public static ShellQuoter For(AzShell shell) => shell switch
        {
            AzShell.Bash => BashQuoter.Instance,
            AzShell.PowerShell => PowerShellStandardQuoter.Instance,
            AzShell.PowerShell51 => PowerShellLegacyQuoter.Instance,
            AzShell.Cmd => CmdQuoter.Instance,
            _ => throw new ArgumentOutOfRangeException(nameof(shell)),
        };

        internal string Render(AzArg arg) => arg.IsVariable ? Variable(arg.Value) : Quote(arg.Value);

        public string CommandLine(IEnumerable<AzArg> args)
        {
            var sb = new StringBuilder("az");
            foreach (AzArg a in args) sb.Append(' ').Append(Render(a));
            return sb.ToString();
        }

        /// <summary>
        /// The command-line form the Microsoft C runtime (python.exe, so az on Windows) and CommandLineToArgvW
        /// split back into exactly <paramref name="value"/>: quotes escaped, backslashes before them doubled.
        /// </summary>
        internal static string WindowsArgv(string value, bool alwaysQuote)
        {
            bool quote = alwaysQuote || value.Length == 0 || value.IndexOfAny(new[] { ' ', '\t', '\n', '\v', '"' }) >= 0;
            var sb = new StringBuilder();
            if (quote) sb.Append('"');
            int backslashes = 0;
            foreach (char c in value)
            {
                if (c == '\\') { backslashes++; continue; }
                if (c == '"') sb.Append('\\', backslashes * 2 + 1).Append('"');
                else sb.Append('\\', backslashes).Append(c);
                backslashes = 0;
            }
            // Before the closing quote, trailing backslashes must be doubled or they would escape it.
            sb.Append('\\', quote ? backslashes * 2 : backslashes);
            if (quote) sb.Append('"');
            return sb.ToString();
        }
    }
}
