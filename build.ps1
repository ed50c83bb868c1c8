#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds the module into out/AcrIdentity (only drives dotnet; `dotnet build src/AcrIdentity` does the same).
.EXAMPLE
    ./build.ps1; Import-Module ./out/AcrIdentity/AcrIdentity.psd1
.EXAMPLE
    ./build.ps1 -Test      # the whole suite through tests/run (needs bash; see README)
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Remove out/AcrIdentity first, so no file from an older build survives.
    [switch] $Clean,

    [switch] $Test
)

$ErrorActionPreference = 'Stop'
Push-Location $PSScriptRoot
try {
    if ($Clean -and (Test-Path out/AcrIdentity)) {
        Remove-Item -Recurse -Force out/AcrIdentity
    }

    dotnet build src/AcrIdentity -c $Configuration -nologo
    if ($LASTEXITCODE -ne 0) { throw "dotnet build failed ($LASTEXITCODE)" }

    if ($Test) {
        # tests/run makes the sandbox CA and starts the test processes trusting it (SSL_CERT_FILE).
        $env:CONFIGURATION = $Configuration
        bash tests/run
        if ($LASTEXITCODE -ne 0) { throw "tests failed ($LASTEXITCODE)" }
    }

    Write-Host "Module: $(Join-Path $PSScriptRoot 'out/AcrIdentity/AcrIdentity.psd1')"
}
finally {
    Pop-Location
}
