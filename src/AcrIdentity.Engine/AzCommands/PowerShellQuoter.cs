namespace AcrIdentity.Engine.AzCommands
{
    /// <summary>Shared by both PowerShell flavours: the script-level literal is a verbatim single-quoted string.</summary>
    public abstract class PowerShellQuoter : ShellQuoter
    {
        /// <summary>What the native command must receive as the argument's string value.</summary>
        protected abstract string NativeValue(string value);

        public override string Quote(string value)
        {
            string native = NativeValue(value);
            if (native.Length > 0 && IsPlain(native)) return native;
            var sb = new System.Text.StringBuilder("'");
            foreach (char c in native)
            {
                // PowerShell treats the typographic single quotes as quotes too; doubling escapes any of them.
                if (c == '\'' || c == '\u2018' || c == '\u2019' || c == '\u201A' || c == '\u201B') sb.Append(c);
                sb.Append(c);
            }
            return sb.Append('\'').ToString();
        }

        public override string Variable(string name) => "$" + name;
        public override string[] Capture(string variable, string commandLine) => new[] { "$" + variable + " = " + commandLine };
        public override string Comment(string text) => "# " + text;

        private static bool IsPlain(string value)
        {
            // A bare word starting with '-' is only safe as a plain option name: "--%" stops parsing, "-a:b" is split.
            if (value[0] == '-')
            {
                string name = value.TrimStart('-');
                if (name.Length == 0 || !char.IsLetter(name[0]) || value.Length - name.Length > 2) return false;
                foreach (char c in name) if (!(char.IsLetterOrDigit(c) && c < 128) && c != '-') return false;
                return true;
            }
            // '@' and ',' are operators, '$' and '`' expand.
            foreach (char c in value)
            {
                if (!(char.IsLetterOrDigit(c) && c < 128) && "-_./:".IndexOf(c) < 0) return false;
            }
            return true;
        }
    }

    /// <summary>PowerShell 7.3+ with $PSNativeCommandArgumentPassing = 'Standard': the string arrives as is.</summary>
    public sealed class PowerShellStandardQuoter : PowerShellQuoter
    {
        public static readonly PowerShellStandardQuoter Instance = new PowerShellStandardQuoter();
        protected override string NativeValue(string value) => value;
    }

    /// <summary>
    /// Windows PowerShell 5.1 and 'Legacy' passing: PowerShell joins the strings into one command line, adding
    /// quotes only around a value with whitespace outside quotes and escaping nothing, so embedded double quotes are
    /// eaten by the C runtime's parse (pain point 2). The value must already carry the \" escapes.
    /// </summary>
    public sealed class PowerShellLegacyQuoter : PowerShellQuoter
    {
        public static readonly PowerShellLegacyQuoter Instance = new PowerShellLegacyQuoter();

        // PowerShell adds the surrounding quotes itself when the value has whitespace (its scan skips \"); quoting
        // here too would double them.
        protected override string NativeValue(string value)
        {
            if (value.Length == 0) throw new AzCommandRenderException("PowerShell 5.1 drops an empty argument; it cannot be passed to az.");
            string escaped = WindowsArgv(value, alwaysQuote: false);
            if (escaped.Length > 0 && escaped[0] == '"')
            {
                // Strip the quotes WindowsArgv added: PowerShell re-adds them (and doubles trailing backslashes itself only since 7.x).
                if (value.EndsWith("\\", System.StringComparison.Ordinal) && HasWhitespace(value))
                {
                    throw new AzCommandRenderException("A value with whitespace that ends in a backslash is passed differently by PowerShell 5.1 and 7 (Legacy); render for another shell.");
                }
                escaped = escaped.Substring(1, escaped.Length - 2);
                if (!HasWhitespace(value)) return escaped;
            }
            return escaped;
        }

        private static bool HasWhitespace(string s)
        {
            foreach (char c in s) if (char.IsWhiteSpace(c)) return true;
            return false;
        }
    }
}
