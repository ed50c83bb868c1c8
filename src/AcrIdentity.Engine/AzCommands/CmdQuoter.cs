using System.Text;

namespace AcrIdentity.Engine.AzCommands
{
    /// <summary>
    /// cmd.exe running az, which is az.cmd: cmd parses the line once, az.cmd's "%*" hands the text to a second
    /// parse, then python.exe splits it with the C runtime's rules. Each value is written in the C runtime form,
    /// always quoted; a \" toggles cmd's quote state, so a special character cmd then sees outside quotes gets
    /// ^^^ (one caret survives the first parse and protects it in the second).
    /// </summary>
    public sealed class CmdQuoter : ShellQuoter
    {
        public static readonly CmdQuoter Instance = new CmdQuoter();

        public override string Quote(string value)
        {
            // cmd expands %name% even inside quotes and no escape works there; '!' only with delayed expansion.
            if (value.IndexOf('%') >= 0) throw new AzCommandRenderException("A value containing '%' cannot be passed through cmd.exe reliably; render for PowerShell or bash.");
            if (value.IndexOfAny(new[] { '\r', '\n' }) >= 0) throw new AzCommandRenderException("A value containing a line break cannot be passed through cmd.exe.");
            string argv = WindowsArgv(value, alwaysQuote: true);
            var sb = new StringBuilder();
            bool inQuotes = false;
            foreach (char c in argv)
            {
                if (c == '"') inQuotes = !inQuotes;
                else if (!inQuotes && "&|<>^()".IndexOf(c) >= 0) sb.Append("^^^");
                sb.Append(c);
            }
            return sb.ToString();
        }

        public override string Variable(string name) => "\"%" + name + "%\"";
        // A for /f capture would add a third parse with other rules; the reader sets the variable instead.
        public override string[] Capture(string variable, string commandLine) =>
            new[] { Comment("Run this, then: set " + variable + "=<the ID it prints>"), commandLine };
        public override string Comment(string text) => "rem " + text;
    }

    /// <summary>A value that no quoting makes the chosen shell pass unchanged.</summary>
    public sealed class AzCommandRenderException : System.Exception
    {
        public AzCommandRenderException(string message) : base(message) { }
    }
}
