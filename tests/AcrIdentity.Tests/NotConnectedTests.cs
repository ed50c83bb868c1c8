using System.Management.Automation;
using AcrIdentity.Tests.Harness;

namespace AcrIdentity.Tests;

/// <summary>Nothing signed in anywhere: one clear, terminating error that says what to do.</summary>
public class NotConnectedTests : IDisposable
{
    private readonly EnvScope _env = EnvScope.Clean();

    [Fact]
    public void Get_AcrIdentityContext_says_to_run_Connect_AzAccount()
    {
        using var ps = new PowerShellSession();
        ps.Run("Disconnect-AcrIdentity");

        var result = ps.Run("Get-AcrIdentityContext");

        ErrorRecord error = Assert.IsType<ErrorRecord>(result.Terminating);
        Assert.Empty(result.Output);
        Assert.Equal("Get-AcrIdentityContext.NotConnected", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.AuthenticationError, error.CategoryInfo.Category);
        Assert.Equal("NotConnected", error.CategoryInfo.Reason);
        Assert.Contains("Connect-AzAccount", error.ErrorDetails.RecommendedAction, StringComparison.Ordinal);
        Assert.Null(error.TargetObject); // no ARM resource involved; never the cmdlet itself
        Assert.Equal("AcrIdentity.AcrIdentityException", error.Exception.GetType().FullName);
        Assert.Equal("NotConnected", error.Exception.GetType().GetProperty("Reason")!.GetValue(error.Exception));
    }

    [Fact]
    public void Scripts_can_catch_the_module_exception_by_type()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("Disconnect-AcrIdentity; try { Get-AcrIdentityContext } catch [AcrIdentity.AcrIdentityException] { 'caught ' + $_.Exception.Reason }");
        Assert.Equal("caught NotConnected", Assert.Single(result.Output).ToString());
    }

    public void Dispose()
    {
        _env.Dispose();
        GC.SuppressFinalize(this);
    }
}
