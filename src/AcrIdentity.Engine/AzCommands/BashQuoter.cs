namespace AcrIdentity.Engine.AzCommands
{
    /// <summary>bash (and POSIX sh): single quotes keep everything literal; a quote itself is closed, escaped, reopened.</summary>
    public sealed class BashQuoter : ShellQuoter
    {
        public static readonly BashQuoter Instance = new BashQuoter();

        public override string Quote(string value)
        {
            if (value.Length > 0 && IsPlain(value)) return value;
            return "'" + value.Replace("'", "'\\''") + "'";
        }

        public override string Variable(string name) => "\"$" + name + "\"";
        public override string[] Capture(string variable, string commandLine) => new[] { variable + "=$(" + commandLine + ")" };
        public override string Comment(string text) => "# " + text;

        private static bool IsPlain(string value)
        {
            foreach (char c in value)
            {
                if (!(char.IsLetterOrDigit(c) && c < 128) && "-_./:=@,+".IndexOf(c) < 0) return false;
            }
            return true;
        }
    }
}
