#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds the module into out/AcrIdentity (only drives dotnet; `dotnet build src/AcrIdentity` does the same).
.EXAMPLE
    ./build.ps1; Import-Module ./out/AcrIdentity/AcrIdentity.psd1
.EXAMPLE
    ./build.ps1 -Test      # the whole suite through tests/run (needs bash; see README)
.EXAMPLE
    ./build.ps1 -Task Package   # out/package: PSGallery module folder + nupkg, Azure Automation zip (tools/Package)
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Remove out/AcrIdentity first, so no file from an older build survives.
    [switch] $Clean,

    [switch] $Test,

    # Build (default), Test (= -Test) or Package (a Release-grade build, then tools/Package).
    [ValidateSet('Build', 'Test', 'Package')]
    [string] $Task = 'Build'
)

$ErrorActionPreference = 'Stop'
Push-Location $PSScriptRoot
try {
    if ($Clean -and (Test-Path out/AcrIdentity)) {
        Remove-Item -Recurse -Force out/AcrIdentity
    }

    dotnet build src/AcrIdentity -c $Configuration -nologo
    if ($LASTEXITCODE -ne 0) { throw "dotnet build failed ($LASTEXITCODE)" }

    if ($Task -eq 'Package') {
        dotnet run --project tools/Package -c $Configuration -- --module out/AcrIdentity --out out/package
        if ($LASTEXITCODE -ne 0) { throw "packaging failed ($LASTEXITCODE)" }
    }

    if ($Test -or $Task -eq 'Test') {
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
