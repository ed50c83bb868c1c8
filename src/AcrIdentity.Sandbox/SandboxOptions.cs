namespace AcrIdentity.Sandbox;

/// <summary>How one sandbox instance starts. See docs/dev/contracts.md.</summary>
public sealed class SandboxOptions
{
    /// <summary>endpoints.json, registry data and logs go here; created if missing.</summary>
    public required string StateDir { get; init; }

    /// <summary>Reuse ca.crt/ca.key from here (tests: $ACRIDENTITY_SANDBOX_CA_DIR); default StateDir.</summary>
    public string? CaDir { get; init; }

    /// <summary>JSON scenario (docs/sandbox-scenarios.md, samples/seed-world.json); null = an empty world.</summary>
    public string? ScenarioFile { get; init; }

    /// <summary>Scenario JSON given inline (tests); applied after <see cref="ScenarioFile"/>.</summary>
    public string? ScenarioJson { get; init; }

    /// <summary>Start the docker-registry processes behind each registry.</summary>
    public bool StartRegistries { get; init; } = true;

    /// <summary>What runs Run Command's RunPowerShellScript: a pwsh executable, or a .dll run with dotnet (tools/PwshHost's
    /// PwshHost.dll); null = $ACRIDENTITY_SANDBOX_PWSH, else pwsh on PATH. Without one those commands end failed.</summary>
    public string? PowerShell { get; init; }

    /// <summary>ARM port; 0 = a free port.</summary>
    public int ArmPort { get; init; }
}
