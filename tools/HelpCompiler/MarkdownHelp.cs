using System.Text;
using System.Text.RegularExpressions;

namespace AcrIdentity.HelpCompiler;

public sealed class HelpParameter
{
    public required string Name { get; init; }
    public string Description { get; set; } = string.Empty;
    public string? PipelineInput { get; set; }
}

public sealed class HelpExample
{
    public required string Title { get; init; }
    public string? Setup { get; set; }
    public string Code { get; set; } = string.Empty;
    public string Remarks { get; set; } = string.Empty;
}

public sealed class HelpTypeNote
{
    public required string TypeName { get; init; }
    public string Description { get; set; } = string.Empty;
}

public sealed class HelpLink
{
    public required string Text { get; init; }
    public required string Uri { get; init; }
}

/// <summary>One cmdlet's markdown help, parsed. The layout is strict (docs/en-US/README.md): anything out of place is an error, not a guess.</summary>
public sealed class CommandHelp
{
    public required string Name { get; init; }
    public required string SourceFile { get; init; }
    public string Synopsis { get; set; } = string.Empty;
    public List<string> Syntax { get; } = new();
    public string Description { get; set; } = string.Empty;
    public List<HelpParameter> Parameters { get; } = new();
    public List<HelpTypeNote> Inputs { get; } = new();
    public List<HelpTypeNote> Outputs { get; } = new();
    public string Notes { get; set; } = string.Empty;
    public List<HelpExample> Examples { get; } = new();
    public List<HelpLink> Links { get; } = new();

    private static readonly string[] Sections = { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "EXAMPLES", "RELATED LINKS" };
    private static readonly string[] RequiredSections = { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "PARAMETERS", "OUTPUTS", "EXAMPLES", "RELATED LINKS" };
    private static readonly Regex LinkLine = new(@"^- \[(?<text>[^\]]+)\]\((?<uri>https://[^)\s]+)\)$", RegexOptions.Compiled);

    public static CommandHelp Parse(string path)
    {
        string[] lines = File.ReadAllText(path).Replace("\r\n", "\n").Split('\n');
        int i = 0;
        string Where() => $"{path}:{i + 1}";

        while (i < lines.Length && lines[i].Trim().Length == 0) i++;
        if (i >= lines.Length || !lines[i].StartsWith("# ", StringComparison.Ordinal))
            throw new FormatException($"{Where()}: the file must start with '# <Cmdlet-Name>'");
        var help = new CommandHelp { Name = lines[i][2..].Trim(), SourceFile = path };
        if (!string.Equals(Path.GetFileNameWithoutExtension(path), help.Name, StringComparison.Ordinal))
            throw new FormatException($"{Where()}: the title '{help.Name}' must match the file name");
        i++;

        var seen = new List<string>();
        while (i < lines.Length)
        {
            if (lines[i].Trim().Length == 0) { i++; continue; }
            if (!lines[i].StartsWith("## ", StringComparison.Ordinal))
                throw new FormatException($"{Where()}: expected a '## SECTION' heading, found '{lines[i]}'");
            string section = lines[i][3..].Trim();
            int order = Array.IndexOf(Sections, section);
            if (order < 0) throw new FormatException($"{Where()}: unknown section '{section}' (allowed: {string.Join(", ", Sections)})");
            if (seen.Count > 0 && Array.IndexOf(Sections, seen[^1]) >= order)
                throw new FormatException($"{Where()}: section '{section}' is out of order or repeated");
            seen.Add(section);
            i++;
            int end = i;
            while (end < lines.Length && !lines[end].StartsWith("## ", StringComparison.Ordinal)) end++;
            ArraySegment<string> body = new(lines, i, end - i);
            int bodyStart = i;
            switch (section)
            {
                case "SYNOPSIS": help.Synopsis = Prose(body); break;
                case "SYNTAX": help.Syntax.AddRange(Fences(body, path, bodyStart).Where(f => f.Info == "text").SelectMany(f => f.Text.Split('\n')).Where(l => l.Trim().Length > 0)); break;
                case "DESCRIPTION": help.Description = Prose(body); break;
                case "NOTES": help.Notes = Prose(body); break;
                case "PARAMETERS":
                    foreach (var (title, sub) in Subsections(body, path, bodyStart))
                    {
                        if (!title.StartsWith('-')) throw new FormatException($"{path}: parameter heading '### {title}' must be '### -Name'");
                        var p = new HelpParameter { Name = title[1..] };
                        var prose = new List<string>();
                        foreach (string l in sub)
                        {
                            if (l.StartsWith("Pipeline input:", StringComparison.Ordinal)) p.PipelineInput = l["Pipeline input:".Length..].Trim();
                            else prose.Add(l);
                        }
                        p.Description = Prose(prose);
                        help.Parameters.Add(p);
                    }
                    break;
                case "INPUTS":
                case "OUTPUTS":
                    foreach (var (title, sub) in Subsections(body, path, bodyStart))
                        (section == "INPUTS" ? help.Inputs : help.Outputs).Add(new HelpTypeNote { TypeName = title, Description = Prose(sub) });
                    break;
                case "EXAMPLES":
                    foreach (var (title, sub) in Subsections(body, path, bodyStart))
                    {
                        if (!Regex.IsMatch(title, @"^Example \d+: \S")) throw new FormatException($"{path}: example heading '### {title}' must be '### Example N: title'");
                        var ex = new HelpExample { Title = title };
                        var fences = Fences(sub, path, bodyStart);
                        foreach (var f in fences)
                        {
                            if (f.Info == "powershell setup") ex.Setup = f.Text;
                            else if (f.Info == "powershell") ex.Code = ex.Code.Length == 0 ? f.Text : throw new FormatException($"{path}: '{title}' has more than one powershell block");
                            else throw new FormatException($"{path}: '{title}': code fences must be 'powershell' or 'powershell setup', not '{f.Info}'");
                        }
                        if (ex.Code.Length == 0) throw new FormatException($"{path}: '{title}' has no powershell block");
                        ex.Remarks = Prose(OutsideFences(sub));
                        help.Examples.Add(ex);
                    }
                    break;
                case "RELATED LINKS":
                    foreach (string l in body.Where(l => l.Trim().Length > 0))
                    {
                        Match m = LinkLine.Match(l.Trim());
                        if (!m.Success) throw new FormatException($"{path}: related link '{l}' must be '- [text](https://…)'");
                        help.Links.Add(new HelpLink { Text = m.Groups["text"].Value, Uri = m.Groups["uri"].Value });
                    }
                    break;
            }
            i = end;
        }

        foreach (string s in RequiredSections)
            if (!seen.Contains(s)) throw new FormatException($"{path}: section '## {s}' is missing");
        if (help.Synopsis.Length == 0) throw new FormatException($"{path}: the synopsis is empty");
        if (help.Syntax.Count == 0) throw new FormatException($"{path}: SYNTAX needs a ```text block with one line per parameter set");
        foreach (HelpParameter p in help.Parameters)
            if (p.Description.Length == 0) throw new FormatException($"{path}: parameter -{p.Name} has no description");
        return help;
    }

    private static IEnumerable<(string Title, List<string> Body)> Subsections(IList<string> body, string path, int start)
    {
        string? title = null;
        var current = new List<string>();
        for (int k = 0; k < body.Count; k++)
        {
            string l = body[k];
            if (l.StartsWith("### ", StringComparison.Ordinal))
            {
                if (title is not null) yield return (title, current);
                title = l[4..].Trim();
                current = new List<string>();
            }
            else if (title is null)
            {
                if (l.Trim().Length > 0) throw new FormatException($"{path}:{start + k + 1}: text before the first '### ' heading");
            }
            else current.Add(l);
        }
        if (title is not null) yield return (title, current);
    }

    private static List<(string Info, string Text)> Fences(IList<string> body, string path, int start)
    {
        var result = new List<(string, string)>();
        for (int k = 0; k < body.Count; k++)
        {
            if (!body[k].StartsWith("```", StringComparison.Ordinal)) continue;
            string info = body[k][3..].Trim();
            var sb = new StringBuilder();
            int close = k + 1;
            while (close < body.Count && !body[close].StartsWith("```", StringComparison.Ordinal))
                sb.Append(body[close++]).Append('\n');
            if (close >= body.Count) throw new FormatException($"{path}:{start + k + 1}: unclosed code fence");
            result.Add((info, sb.ToString().TrimEnd('\n')));
            k = close;
        }
        return result;
    }

    private static List<string> OutsideFences(IList<string> body)
    {
        var result = new List<string>();
        bool inside = false;
        foreach (string l in body)
        {
            if (l.StartsWith("```", StringComparison.Ordinal)) { inside = !inside; continue; }
            if (!inside) result.Add(l);
        }
        return result;
    }

    /// <summary>Paragraphs separated by blank lines; lines within one are joined, as markdown renders them.</summary>
    private static string Prose(IEnumerable<string> lines)
    {
        var paragraphs = new List<string>();
        var current = new List<string>();
        foreach (string raw in lines)
        {
            string l = raw.Trim();
            if (l.Length == 0)
            {
                if (current.Count > 0) paragraphs.Add(string.Join(" ", current));
                current.Clear();
            }
            else current.Add(l);
        }
        if (current.Count > 0) paragraphs.Add(string.Join(" ", current));
        return string.Join("\n\n", paragraphs);
    }
}
