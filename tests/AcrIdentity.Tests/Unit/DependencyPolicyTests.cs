using AcrIdentity.Loader;

namespace AcrIdentity.Tests.Unit;

public class DependencyPolicyTests
{
    private static readonly Version V1 = new(1, 0, 0, 0);
    private static readonly Version V4 = new(4, 0, 1, 2);
    private static readonly Version V8 = new(8, 0, 0, 0);
    private static readonly Version V10 = new(10, 0, 0, 0);

    [Theory]
    [InlineData("AcrIdentity.Engine", true)]
    [InlineData("acridentity.engine", true)]
    [InlineData("AcrIdentity", false)]
    [InlineData("Azure.Core", false)]
    [InlineData(null, false)]
    public void Default_context_hook_answers_only_for_the_engine(string? name, bool expected) =>
        Assert.Equal(expected, DependencyPolicy.IsEngine(name));

    [Fact]
    public void Engine_loads_from_dependencies_when_shipped() =>
        Assert.Equal(LoadDecision.LoadFromDependencies, DependencyPolicy.DecideInModuleContext("AcrIdentity.Engine", null, V1));

    [Fact]
    public void Package_missing_from_the_framework_loads_from_dependencies() =>
        Assert.Equal(LoadDecision.LoadFromDependencies, DependencyPolicy.DecideInModuleContext("Azure.Core", null, new Version(1, 64, 0, 0)));

    [Fact]
    public void Polyfill_older_than_the_framework_defers_to_default() =>
        Assert.Equal(LoadDecision.DeferToDefault, DependencyPolicy.DecideInModuleContext("System.Memory", V10, V4));

    [Fact]
    public void Equal_versions_defer_to_the_framework() =>
        Assert.Equal(LoadDecision.DeferToDefault, DependencyPolicy.DecideInModuleContext("System.Text.Json", V10, V10));

    [Fact]
    public void Newer_package_wins_over_an_older_framework() =>
        Assert.Equal(LoadDecision.LoadFromDependencies, DependencyPolicy.DecideInModuleContext("System.Text.Json", V8, V10));

    [Fact]
    public void Names_we_do_not_ship_are_left_to_default() =>
        Assert.Equal(LoadDecision.DeferToDefault, DependencyPolicy.DecideInModuleContext("System.Management.Automation", null, null));

    [Fact]
    public void Desktop_answers_for_the_engine_whoever_asks() =>
        Assert.Equal(LoadDecision.LoadFromDependencies, DependencyPolicy.DecideInDesktop("AcrIdentity.Engine", V1, requestedByOurAssembly: false, V1));

    [Fact]
    public void Desktop_leaves_other_modules_bindings_alone() =>
        Assert.Equal(LoadDecision.NotOurs, DependencyPolicy.DecideInDesktop("Azure.Core", new Version(1, 36, 0, 0), requestedByOurAssembly: false, new Version(1, 64, 0, 0)));

    [Fact]
    public void Desktop_serves_our_own_requests_at_an_equal_or_newer_version()
    {
        Assert.Equal(LoadDecision.LoadFromDependencies, DependencyPolicy.DecideInDesktop("System.Memory", new Version(4, 0, 1, 1), true, V4));
        Assert.Equal(LoadDecision.LoadFromDependencies, DependencyPolicy.DecideInDesktop("System.Memory", V4, true, V4));
    }

    [Fact]
    public void Desktop_never_serves_an_older_file_than_requested() =>
        Assert.Equal(LoadDecision.NotOurs, DependencyPolicy.DecideInDesktop("System.Memory", new Version(4, 0, 2, 0), true, V4));

    [Fact]
    public void Desktop_needs_a_shipped_file() =>
        Assert.Equal(LoadDecision.NotOurs, DependencyPolicy.DecideInDesktop("Newtonsoft.Json", V10, true, null));

    [Theory]
    [InlineData("AcrIdentity", null, true)]
    [InlineData("AcrIdentity.Engine", null, true)]
    [InlineData("Azure.Core", "/m/AcrIdentity/dependencies/Azure.Core.dll", true)]
    [InlineData("Azure.Core", "/m/AcrIdentity/dependencies/sub/Azure.Core.dll", false)]
    [InlineData("Azure.Core", "/m/Az.Accounts/lib/Azure.Core.dll", false)]
    [InlineData("Az.Accounts", null, false)]
    public void Our_assemblies_are_the_thin_one_the_engine_and_files_in_dependencies(string name, string? location, bool expected) =>
        Assert.Equal(expected, DependencyPolicy.IsOurAssembly(name, location, "/m/AcrIdentity/dependencies/"));

    [Theory]
    [InlineData("Azure.Core", "Azure.Core.dll")]
    [InlineData("../evil", null)]
    [InlineData("a/b", null)]
    [InlineData("a\\b", null)]
    [InlineData("", null)]
    public void File_names_stay_inside_dependencies(string name, string? expected) =>
        Assert.Equal(expected, DependencyPolicy.FileNameFor(name));
}
