using AcrIdentity.Engine.Arm;

namespace AcrIdentity.Engine.Tests.Unit;

public class RetryAfterTests
{
    [Fact]
    public void Seconds_and_http_dates_are_understood()
    {
        Assert.Equal(TimeSpan.FromSeconds(7), RetryAfterHeader.Parse("7"));
        var inTenSeconds = DateTimeOffset.UtcNow.AddSeconds(10).ToString("r");
        var parsed = RetryAfterHeader.Parse(inTenSeconds);
        Assert.NotNull(parsed);
        Assert.InRange(parsed!.Value.TotalSeconds, 5, 11);
        Assert.Null(RetryAfterHeader.Parse("soon"));
        Assert.Null(RetryAfterHeader.Parse(null));
    }
}
