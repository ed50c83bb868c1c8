using AcrIdentity.Engine.Arm;
using AcrIdentity.Engine.Errors;

namespace AcrIdentity.Engine.Tests.Unit;

public class ArmErrorsTests
{
    private const string Target = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg";

    [Theory]
    [InlineData(403, "AuthorizationFailed", EngineErrorCategory.PermissionDenied)]
    [InlineData(409, "RoleAssignmentExists", EngineErrorCategory.ResourceExists)]
    [InlineData(400, "PrincipalNotFound", EngineErrorCategory.ObjectNotFound)]
    [InlineData(404, "ResourceNotFound", EngineErrorCategory.ObjectNotFound)]
    [InlineData(404, "ResourceGroupNotFound", EngineErrorCategory.ObjectNotFound)]
    [InlineData(400, "RoleAssignmentUpdateNotPermitted", EngineErrorCategory.InvalidOperation)]
    [InlineData(400, "NoRegisteredProviderFound", EngineErrorCategory.NotImplemented)]
    [InlineData(429, "SubscriptionRequestsThrottled", EngineErrorCategory.LimitsExceeded)]
    [InlineData(401, "InvalidAuthenticationToken", EngineErrorCategory.AuthenticationError)]
    public void Envelope_code_decides_reason_and_category(int status, string code, EngineErrorCategory category)
    {
        string body = $$$"""{"error":{"code":"{{{code}}}","message":"the message","target":null,"details":[{"code":"Inner","message":"m"}]}}""";
        var ex = ArmErrors.FromReply("PUT", Target, status, body);
        Assert.Equal(code, ex.Reason);
        Assert.Equal(code, ex.ArmCode);
        Assert.Equal(category, ex.Category);
        Assert.Equal(status, ex.Status);
        Assert.Equal("the message", ex.ArmMessage);
        Assert.Equal(Target, ex.TargetId);
        Assert.Equal(new[] { "Inner" }, ex.DetailCodes);
        Assert.False(string.IsNullOrWhiteSpace(ex.RecommendedAction));
        Assert.Contains(code, ex.Message);
    }

    [Fact]
    public void Authorization_failure_names_the_scope_in_the_fix()
    {
        var ex = ArmErrors.FromReply("PUT", Target, 403, """{"error":{"code":"AuthorizationFailed","message":"no"}}""");
        Assert.Contains(Target, ex.RecommendedAction);
    }

    [Fact]
    public void Top_level_code_and_message_are_accepted()
    {
        var ex = ArmErrors.FromReply("GET", Target, 404, """{"Code":"NotFound","Message":"gone"}""");
        Assert.Equal("NotFound", ex.ArmCode);
        Assert.Equal("gone", ex.ArmMessage);
        Assert.Equal(EngineErrorCategory.ObjectNotFound, ex.Category);
    }

    [Theory]
    [InlineData(503, "Http503", EngineErrorCategory.ResourceUnavailable)]
    [InlineData(500, "Http500", EngineErrorCategory.ResourceUnavailable)]
    [InlineData(504, "Http504", EngineErrorCategory.OperationTimeout)]
    [InlineData(429, "Http429", EngineErrorCategory.LimitsExceeded)]
    [InlineData(403, "Http403", EngineErrorCategory.PermissionDenied)]
    public void No_envelope_falls_back_to_the_status(int status, string reason, EngineErrorCategory category)
    {
        var ex = ArmErrors.FromReply("GET", Target, status, "<html>bad gateway</html>");
        Assert.Equal(reason, ex.Reason);
        Assert.Equal(category, ex.Category);
        Assert.Null(ex.ArmCode);
    }
}
