namespace AcrIdentity.Engine.Tests.Support;

/// <summary>Engine options with short waits, so retry and polling tests take seconds, not minutes.</summary>
public static class Fast
{
    public static EngineOptions Options() => new()
    {
        MaxRetries = 6,
        RetryDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryDelay = TimeSpan.FromMilliseconds(500),
        RetryBudget = TimeSpan.FromSeconds(20),
        LroPollInterval = TimeSpan.FromMilliseconds(100),
        LroTimeout = TimeSpan.FromSeconds(30),
        NetworkTimeout = TimeSpan.FromSeconds(20),
    };
}
