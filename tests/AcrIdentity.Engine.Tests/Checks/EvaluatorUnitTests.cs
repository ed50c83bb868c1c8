using AcrIdentity.Engine.Checks;
using AcrIdentity.Engine.Configure;

namespace AcrIdentity.Engine.Tests.Checks;

public sealed class EvaluatorUnitTests
{
    private const string Pull = PermissionEvaluator.PullAction;

    [Theory]
    [InlineData("*", "", true)]
    [InlineData("*/read", "", true)]
    [InlineData("Microsoft.ContainerRegistry/*", "", true)]
    [InlineData("microsoft.containerregistry/registries/PULL/read", "", true)]
    [InlineData("Microsoft.ContainerRegistry/*", "Microsoft.ContainerRegistry/registries/pull/*", false)]
    [InlineData("*", "*/read", false)]
    [InlineData("Microsoft.ContainerRegistry/registries/push/write", "", false)]
    [InlineData("Microsoft.ContainerRegistry/registries/pull", "", false)]
    public void Actions_and_notActions_with_wildcards(string allow, string deny, bool expected)
    {
        var denies = deny.Length == 0 ? Array.Empty<string>() : new[] { deny };
        Assert.Equal(expected, PermissionEvaluator.Allows(new[] { allow }, denies, Pull));
    }

    [Theory]
    [InlineData("team/app", "team/app", true)]
    [InlineData("team/app", "TEAM/App", true)]
    [InlineData("team/app", "team/app2", false)]
    [InlineData("team/", "team/app", true)]
    [InlineData("team/", "teamx/app", false)]
    public void Conditions_written_by_enable_cover_exactly_their_repository(string granted, string repository, bool expected)
    {
        Assert.Equal(expected, PermissionEvaluator.ConditionCovers(PullRoles.Condition(granted), repository));
    }

    [Fact]
    public void A_condition_without_a_repository_clause_covers_nothing()
    {
        Assert.False(PermissionEvaluator.ConditionCovers("@Resource[Microsoft.Storage/x:name] StringEquals 'y'", "app"));
    }

    [Theory]
    [InlineData("contoso.azurecr.io/team/app:1.0", "contoso.azurecr.io", "team/app", "1.0")]
    [InlineData("127.0.0.1:5000/app@sha256:abc", "127.0.0.1:5000", "app", "sha256:abc")]
    [InlineData("Contoso.AzureCR.io/App", "contoso.azurecr.io", "app", "latest")]
    [InlineData("nginx:1.25", null, "nginx", "1.25")]
    [InlineData("library/nginx", null, "library/nginx", "latest")]
    public void Image_references(string image, string? host, string repository, string reference)
    {
        var r = ImageReference.Parse(image);
        Assert.Equal(host, r.Host);
        Assert.Equal(repository, r.Repository);
        Assert.Equal(reference, r.Reference);
    }
}
