using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>Runs tools/Package on the built module once, into a temp folder.</summary>
public sealed class PackagedModule : IDisposable
{
    public string Output { get; } = Path.Combine(Path.GetTempPath(), "acridentity-package-" + Guid.NewGuid().ToString("N"));

    public string Log { get; }

    public int ExitCode { get; }

    public PackagedModule()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repo.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in new[] { "run", "--project", "tools/Package", "--", "--module", Repo.ModuleDirectory, "--out", Output })
            start.ArgumentList.Add(a);
        using Process p = Process.Start(start)!;
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "tools/Package did not finish");
        ExitCode = p.ExitCode;
        Log = stdout + stderr.Result;
    }

    public void Dispose()
    {
        try { Directory.Delete(Output, recursive: true); } catch (IOException) { }
    }
}

public sealed class PackageTests : IClassFixture<PackagedModule>
{
    private readonly PackagedModule _package;

    public PackageTests(PackagedModule package)
    {
        _package = package;
        Assert.True(package.ExitCode == 0, "tools/Package failed:\n" + package.Log);
    }

    private static string Version()
    {
        string psd1 = File.ReadAllText(Repo.ModuleManifest);
        return System.Text.RegularExpressions.Regex.Match(psd1, @"ModuleVersion\s*=\s*'([^']+)'").Groups[1].Value;
    }

    [Fact]
    public void The_Automation_zip_has_the_module_folder_at_its_root()
    {
        using ZipArchive zip = ZipFile.OpenRead(Path.Combine(_package.Output, "AcrIdentity.zip"));
        var names = zip.Entries.Select(e => e.FullName.Replace('\\', '/')).ToList();
        Assert.All(names, n => Assert.StartsWith("AcrIdentity/", n));
        foreach (string required in new[]
                 {
                     "AcrIdentity/AcrIdentity.psd1", "AcrIdentity/AcrIdentity.psm1", "AcrIdentity/AcrIdentity.format.ps1xml", "AcrIdentity/LICENSE",
                     "AcrIdentity/core/AcrIdentity.dll", "AcrIdentity/desktop/AcrIdentity.dll", "AcrIdentity/dependencies/AcrIdentity.Engine.dll",
                     "AcrIdentity/core/en-US/AcrIdentity.dll-Help.xml", "AcrIdentity/desktop/en-US/AcrIdentity.dll-Help.xml",
                 })
        {
            Assert.Contains(required, names);
        }
    }

    [Fact]
    public void The_nupkg_has_a_nuspec_and_the_module_at_its_root()
    {
        string version = Version();
        using ZipArchive nupkg = ZipFile.OpenRead(Path.Combine(_package.Output, $"AcrIdentity.{version}.nupkg"));
        var names = nupkg.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("AcrIdentity.psd1", names);
        Assert.Contains("core/AcrIdentity.dll", names);
        Assert.Contains("[Content_Types].xml", names);
        using Stream s = nupkg.GetEntry("AcrIdentity.nuspec")!.Open();
        XElement meta = XDocument.Load(s).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Get(string n) => meta.Elements().Single(e => e.Name.LocalName == n).Value;
        Assert.Equal("AcrIdentity", Get("id"));
        Assert.Equal(version, Get("version"));
        Assert.StartsWith("https://", Get("projectUrl"));
        Assert.Contains("PSCmdlet_Enable-AcrManagedIdentityPull", Get("tags").Split(' '));
        Assert.Contains("PSEdition_Desktop", Get("tags").Split(' '));
        Assert.Contains("Test-AcrPullAccess", Get("releaseNotes"));
    }

    [Fact]
    public void Test_ModuleManifest_passes_on_the_packaged_manifest()
    {
        using var ps = new PowerShellSession(importModule: false);
        string psd1 = Path.Combine(_package.Output, "AcrIdentity", "AcrIdentity.psd1");
        var r = ps.Run(@"
$m = Test-ModuleManifest -Path $args[0] -ErrorAction Stop
$m.Version.ToString()
$m.PowerShellVersion.ToString()
$m.CompatiblePSEditions -join ','
$m.PrivateData.PSData.ProjectUri
$m.PrivateData.PSData.LicenseUri
$m.PrivateData.PSData.ReleaseNotes
@($m.ExportedCmdlets.Keys) -join ','
Import-Module $args[0] -ErrorAction Stop
@((Get-Command -Module AcrIdentity).Name) -join ','
(Get-Help Test-AcrPullAccess).Synopsis", psd1);

        Assert.True(r.Errors.Count == 0, r.ToString());
        var o = r.Output.Select(x => x.ToString()).ToList();
        Assert.Equal(Version(), o[0]);
        Assert.Equal("5.1", o[1]);
        Assert.Equal(new[] { "Core", "Desktop" }, o[2].Split(',').OrderBy(x => x, StringComparer.Ordinal));
        Assert.StartsWith("https://", o[3]);
        Assert.StartsWith("https://", o[4]);
        // The release notes are the changelog's section for this version, not a pointer to it.
        Assert.Contains("Enable-/Disable-AcrManagedIdentityPull", o[5]);
        Assert.DoesNotContain("## ", o[5]);
        // Explicit CmdletsToExport, equal to what the packaged module really exports.
        Assert.Equal(o[7].Split(',').OrderBy(x => x, StringComparer.Ordinal), o[6].Split(',').OrderBy(x => x, StringComparer.Ordinal));
        Assert.Contains("Connect-AcrRegistry", o[6]);
        Assert.StartsWith("Checks everything", o[8]);
    }
}
