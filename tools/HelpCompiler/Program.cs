using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace AcrIdentity.HelpCompiler;

/// <summary>
/// HelpCompiler &lt;docs folder&gt; &lt;output .dll-Help.xml&gt;... : every &lt;Cmdlet&gt;.md in the folder (README.md excluded)
/// into one MAML file, written to each output path. Exit 1 with file:line on a layout error.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: HelpCompiler <docs/en-US> <out/AcrIdentity.dll-Help.xml> [more outputs...]");
            return 2;
        }

        try
        {
            var commands = Directory.GetFiles(args[0], "*-*.md").OrderBy(f => f, StringComparer.Ordinal).Select(CommandHelp.Parse).ToList();
            XDocument maml = Maml.Build(commands);
            foreach (string output in args.Skip(1))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
                string temp = output + ".tmp";
                maml.Save(temp);
                File.Move(temp, output, overwrite: true);
            }

            Console.WriteLine($"HelpCompiler: {commands.Count} cmdlets -> {string.Join(", ", args.Skip(1))}");
            return 0;
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine("error HELP001: " + ex.Message);
            return 1;
        }
    }
}

/// <summary>One parameter as a syntax line shows it.</summary>
public sealed record SyntaxParameter(string Name, string? Type, bool Required, int? Position);

public static class Maml
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace M = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace C = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace D = "http://schemas.microsoft.com/maml/dev/2004/10";

    // [[-Name] <T>] | [-Name] <T> | [-Name <T>] | [-Name] | -Name <T> | -Name
    private static readonly Regex Token = new(
        @"\[\[-(?<op>\w+)\] <(?<opt>[^>]+)>\]|\[-(?<rp>\w+)\] <(?<rpt>[^>]+)>|\[-(?<on>\w+) <(?<ont>[^>]+)>\]|\[-(?<os>\w+)\]|-(?<rn>\w+) <(?<rnt>[^>]+)>|-(?<rs>\w+)",
        RegexOptions.Compiled);

    private static readonly (string, string)[] CommonShouldProcess =
    {
        ("WhatIf", "Shows what the cmdlet would change, and changes nothing."),
        ("Confirm", "Asks for confirmation before each change."),
    };

    public static List<SyntaxParameter> ParseSyntax(string line)
    {
        var result = new List<SyntaxParameter>();
        int position = 0;
        string rest = line.Replace("[<CommonParameters>]", string.Empty);
        int space = rest.IndexOf(' ');
        rest = space < 0 ? string.Empty : rest[space..];
        foreach (Match m in Token.Matches(rest))
        {
            if (m.Groups["op"].Success) result.Add(new(m.Groups["op"].Value, m.Groups["opt"].Value, false, position++));
            else if (m.Groups["rp"].Success) result.Add(new(m.Groups["rp"].Value, m.Groups["rpt"].Value, true, position++));
            else if (m.Groups["on"].Success) result.Add(new(m.Groups["on"].Value, m.Groups["ont"].Value, false, null));
            else if (m.Groups["os"].Success) result.Add(new(m.Groups["os"].Value, null, false, null));
            else if (m.Groups["rn"].Success) result.Add(new(m.Groups["rn"].Value, m.Groups["rnt"].Value, true, null));
            else result.Add(new(m.Groups["rs"].Value, null, true, null));
        }

        return result;
    }

    public static XDocument Build(IEnumerable<CommandHelp> commands)
    {
        var root = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
            new XAttribute(XNamespace.Xmlns + "maml", M), new XAttribute(XNamespace.Xmlns + "command", C), new XAttribute(XNamespace.Xmlns + "dev", D));
        foreach (CommandHelp c in commands)
        {
            root.Add(Command(c));
        }

        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    private static XElement Paras(XName name, string text) =>
        new(name, text.Split("\n\n").Where(p => p.Length > 0).Select(p => new XElement(M + "para", p)));

    private static XElement Command(CommandHelp c)
    {
        string[] verbNoun = c.Name.Split('-', 2);
        var sets = c.Syntax.Select(ParseSyntax).ToList();
        var described = c.Parameters.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        // ShouldProcess's two parameters read the same everywhere; a file may still describe them itself.
        foreach (var (name, text) in CommonShouldProcess)
        {
            if (sets.Any(s => s.Any(p => p.Name == name)) && !described.ContainsKey(name))
            {
                var added = new HelpParameter { Name = name, Description = text };
                c.Parameters.Add(added);
                described[name] = added;
            }
        }

        foreach (var sp in sets.SelectMany(s => s))
        {
            if (!described.ContainsKey(sp.Name))
                throw new FormatException($"{c.SourceFile}: -{sp.Name} is in SYNTAX but has no '### -{sp.Name}' under PARAMETERS");
        }

        XElement ParameterElement(SyntaxParameter sp, bool withDescription)
        {
            HelpParameter p = described[sp.Name];
            string type = sp.Type ?? "SwitchParameter";
            var e = new XElement(C + "parameter",
                new XAttribute("required", sp.Required ? "true" : "false"),
                new XAttribute("variableLength", "true"),
                new XAttribute("globbing", "false"),
                new XAttribute("pipelineInput", p.PipelineInput ?? "False"),
                new XAttribute("position", sp.Position is int pos ? (pos + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : "named"),
                new XAttribute("aliases", "none"),
                new XElement(M + "name", p.Name));
            if (withDescription) e.Add(Paras(M + "description", p.Description));
            if (sp.Type is not null) e.Add(new XElement(C + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), type));
            e.Add(new XElement(D + "type", new XElement(M + "name", type)));
            if (withDescription) e.Add(new XElement(D + "defaultValue", "None"));
            return e;
        }

        var syntax = new XElement(C + "syntax", sets.Select(set => new XElement(C + "syntaxItem",
            new XElement(M + "name", c.Name), set.Select(sp => ParameterElement(sp, false)))));

        // Position as the first set that names it says; required when every set that has it requires it.
        var parameters = new XElement(C + "parameters");
        foreach (HelpParameter p in c.Parameters)
        {
            SyntaxParameter? sp = sets.SelectMany(s => s).FirstOrDefault(s => string.Equals(s.Name, p.Name, StringComparison.OrdinalIgnoreCase));
            if (sp is null) throw new FormatException($"{c.SourceFile}: '### -{p.Name}' is not in any SYNTAX line");
            var containing = sets.Where(s => s.Any(x => x.Name == sp.Name)).ToList();
            parameters.Add(ParameterElement(sp with { Required = containing.All(s => s.Any(x => x.Name == sp.Name && x.Required)) }, true));
        }

        XElement TypeNotes(XName list, XName item, List<HelpTypeNote> notes) =>
            new(list, notes.Select(n => new XElement(item, new XElement(D + "type", new XElement(M + "name", n.TypeName)), Paras(M + "description", n.Description))));

        var cmd = new XElement(C + "command",
            new XElement(C + "details",
                new XElement(C + "name", c.Name),
                new XElement(C + "verb", verbNoun[0]),
                new XElement(C + "noun", verbNoun.Length > 1 ? verbNoun[1] : string.Empty),
                Paras(M + "description", c.Synopsis)),
            Paras(M + "description", c.Description),
            syntax,
            parameters,
            TypeNotes(C + "inputTypes", C + "inputType", c.Inputs),
            TypeNotes(C + "returnValues", C + "returnValue", c.Outputs));
        if (c.Notes.Length > 0)
        {
            cmd.Add(new XElement(M + "alertSet", new XElement(M + "alert", Paras(M + "para", c.Notes).Elements())));
        }

        cmd.Add(new XElement(C + "examples", c.Examples.Select(ex => new XElement(C + "example",
            new XElement(M + "title", "-------------------------- " + ex.Title + " --------------------------"),
            new XElement(D + "code", ex.Code),
            Paras(D + "remarks", ex.Remarks)))));
        cmd.Add(new XElement(C + "relatedLinks", c.Links.Select(l => new XElement(M + "navigationLink",
            new XElement(M + "linkText", l.Text), new XElement(M + "uri", l.Uri)))));
        return cmd;
    }
}
