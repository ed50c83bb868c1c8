using System.IO.Compression;
using System.Security;
using System.Text;
using System.Text.RegularExpressions;

namespace AcrIdentity.Package;

/// <summary>
/// Package [--module out/AcrIdentity] [--out out/package]: from the built module folder makes
///   out/package/AcrIdentity/                  the module as published (manifest ReleaseNotes from CHANGELOG.md, LICENSE)
///   out/package/AcrIdentity.&lt;version&gt;.nupkg  what Publish-Module would upload to the PowerShell Gallery
///   out/package/AcrIdentity.zip               Azure Automation's import format: the module folder at the zip's root
/// Exit 1 when the build is incomplete (an edition, its help or the engine missing) or CHANGELOG.md lacks the version.
/// </summary>
public static class Program
{
    private const string Name = "AcrIdentity";

    public static int Main(string[] args)
    {
        string root = FindRoot();
        string module = Arg(args, "--module") ?? Path.Combine(root, "out", Name);
        string output = Arg(args, "--out") ?? Path.Combine(root, "out", "package");
        try
        {
            Package(root, module, output);
            return 0;
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine("error PKG001: " + ex.Message);
            return 1;
        }
    }

    public static void Package(string root, string module, string output)
    {
        // The parts without which an import works on one edition only, or Get-Help is empty.
        string[] required =
        {
            "AcrIdentity.psd1", "AcrIdentity.psm1", "AcrIdentity.format.ps1xml",
            "core/AcrIdentity.dll", "desktop/AcrIdentity.dll",
            "core/en-US/AcrIdentity.dll-Help.xml", "desktop/en-US/AcrIdentity.dll-Help.xml",
            "dependencies/AcrIdentity.Engine.dll",
        };
        foreach (string r in required)
        {
            if (!File.Exists(Path.Combine(module, r)))
                throw new InvalidOperationException($"{Path.Combine(module, r)} is missing: build both editions first (dotnet build src/AcrIdentity -c Release)");
        }

        string manifest = File.ReadAllText(Path.Combine(module, "AcrIdentity.psd1"));
        string version = Match(manifest, @"ModuleVersion\s*=\s*'([^']+)'", "ModuleVersion");
        string notes = ReleaseNotes(Path.Combine(root, "CHANGELOG.md"), version);

        string staged = Path.Combine(output, Name);
        if (Directory.Exists(staged)) Directory.Delete(staged, recursive: true);
        CopyTree(module, staged);
        File.Copy(Path.Combine(root, "LICENSE"), Path.Combine(staged, "LICENSE"), overwrite: true);
        manifest = Regex.Replace(manifest, @"ReleaseNotes\s*=\s*'(?:[^']|'')*'", _ => "ReleaseNotes = '" + notes.Replace("'", "''") + "'");
        File.WriteAllText(Path.Combine(staged, "AcrIdentity.psd1"), manifest, new UTF8Encoding(false));

        string zip = Path.Combine(output, Name + ".zip");
        File.Delete(zip);
        ZipFile.CreateFromDirectory(staged, zip, CompressionLevel.Optimal, includeBaseDirectory: true);

        string nupkg = Path.Combine(output, $"{Name}.{version}.nupkg");
        File.Delete(nupkg);
        using (ZipArchive archive = ZipFile.Open(nupkg, ZipArchiveMode.Create))
        {
            AddText(archive, Name + ".nuspec", Nuspec(manifest, version, notes));
            AddText(archive, "[Content_Types].xml",
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">" +
                "<Default Extension=\"nuspec\" ContentType=\"application/octet\" /><Default Extension=\"xml\" ContentType=\"application/octet\" />" +
                "<Default Extension=\"dll\" ContentType=\"application/octet\" /><Default Extension=\"pdb\" ContentType=\"application/octet\" />" +
                "<Default Extension=\"psd1\" ContentType=\"application/octet\" /><Default Extension=\"psm1\" ContentType=\"application/octet\" />" +
                "<Default Extension=\"ps1xml\" ContentType=\"application/octet\" /><Default Extension=\"json\" ContentType=\"application/octet\" />" +
                "<Override PartName=\"/LICENSE\" ContentType=\"application/octet\" /></Types>");
            foreach (string file in Directory.GetFiles(staged, "*", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
            {
                archive.CreateEntryFromFile(file, Path.GetRelativePath(staged, file).Replace('\\', '/'), CompressionLevel.Optimal);
            }
        }

        Console.WriteLine($"Package: {staged}{Environment.NewLine}         {nupkg}{Environment.NewLine}         {zip} (Azure Automation)");
    }

    /// <summary>The "## version" section of the changelog, without its heading.</summary>
    public static string ReleaseNotes(string changelog, string version)
    {
        string text = File.ReadAllText(changelog).Replace("\r\n", "\n");
        System.Text.RegularExpressions.Match m = Regex.Match(text, $@"^## {Regex.Escape(version)}\s*\n(?<body>.*?)(?=^## |\z)", RegexOptions.Multiline | RegexOptions.Singleline);
        if (!m.Success || m.Groups["body"].Value.Trim().Length == 0)
            throw new InvalidOperationException($"CHANGELOG.md has no '## {version}' section: write the release notes first");
        return m.Groups["body"].Value.Trim();
    }

    private static string Nuspec(string manifest, string version, string notes)
    {
        string X(string s) => SecurityElement.Escape(s) ?? string.Empty;
        string tagList = Match(manifest, @"Tags\s*=\s*@\(([^)]*)\)", "Tags");
        var tags = Regex.Matches(tagList, "'([^']+)'").Select(t => t.Groups[1].Value).ToList();
        string cmdletList = Match(manifest, @"CmdletsToExport\s*=\s*@\(([^)]*)\)", "CmdletsToExport");
        var cmdlets = Regex.Matches(cmdletList, "'([^']+)'").Select(t => t.Groups[1].Value).ToList();
        // The gallery's search reads these tags (what Publish-Module adds).
        tags.Add("PSModule");
        tags.Add("PSIncludes_Cmdlet");
        tags.AddRange(cmdlets.Select(c => "PSCmdlet_" + c));
        tags.AddRange(cmdlets.Select(c => "PSCommand_" + c));
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <package xmlns="http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd">
              <metadata>
                <id>{Name}</id>
                <version>{X(version)}</version>
                <authors>{X(Match(manifest, @"Author\s*=\s*'([^']+)'", "Author"))}</authors>
                <owners>{X(Match(manifest, @"CompanyName\s*=\s*'([^']+)'", "CompanyName"))}</owners>
                <requireLicenseAcceptance>false</requireLicenseAcceptance>
                <license type="expression">MIT</license>
                <projectUrl>{X(Match(manifest, @"ProjectUri\s*=\s*'([^']+)'", "ProjectUri"))}</projectUrl>
                <description>{X(Match(manifest, @"Description\s*=\s*'([^']+)'", "Description"))}</description>
                <releaseNotes>{X(notes)}</releaseNotes>
                <copyright>{X(Match(manifest, @"Copyright\s*=\s*'([^']+)'", "Copyright"))}</copyright>
                <tags>{X(string.Join(" ", tags))}</tags>
              </metadata>
            </package>
            """;
    }

    private static string Match(string text, string pattern, string what)
    {
        System.Text.RegularExpressions.Match m = Regex.Match(text, pattern, RegexOptions.Singleline);
        if (!m.Success) throw new InvalidOperationException($"the manifest has no {what}");
        return m.Groups[1].Value;
    }

    private static void AddText(ZipArchive archive, string name, string text)
    {
        using var writer = new StreamWriter(archive.CreateEntry(name).Open(), new UTF8Encoding(false));
        writer.Write(text);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AcrIdentity.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
