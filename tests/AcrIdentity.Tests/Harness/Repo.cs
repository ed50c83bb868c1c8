namespace AcrIdentity.Tests.Harness;

/// <summary>Paths in the repository, found from the test assembly's folder.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string ModuleManifest => Path.Combine(Root, "out", "AcrIdentity", "AcrIdentity.psd1");

    public static string ModuleDirectory => Path.Combine(Root, "out", "AcrIdentity");

    public static string TestModules => Path.Combine(Root, "tests", "AcrIdentity.Tests", "TestModules");

    /// <summary>The built dll of a console project under tools/ or tests/, in the configuration we were built in.</summary>
    public static string ProjectDll(string projectDir, string name)
    {
        // We run from tests/AcrIdentity.Tests/bin/<config>/net10.0/.
        string config = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/', '\\'))!)!;
        string path = Path.Combine(Root, projectDir, "bin", config, "net10.0", name + ".dll");
        Assert.True(File.Exists(path), $"{path} is not built (build the solution first)");
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AcrIdentity.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("AcrIdentity.sln not found above " + AppContext.BaseDirectory);
    }
}
