@{
    RootModule           = 'AcrIdentity.psm1'
    ModuleVersion        = '0.1.0'  # the build writes Directory.Build.props' Version here in out/
    GUID                 = '4f7c2f8e-3b1d-4c5a-9a57-0c6b1d2e8a41'
    Author               = 'AcrIdentity contributors'
    CompanyName          = 'AcrIdentity'
    Copyright            = '(c) AcrIdentity contributors. MIT License.'
    Description          = 'Pull images from Azure Container Registry with a managed identity: configure, verify, audit and log in, in one command each.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('AcrIdentity.format.ps1xml')
    FunctionsToExport    = @()
    CmdletsToExport      = @(
        'Connect-AcrIdentity'
        'Disconnect-AcrIdentity'
        'Get-AcrIdentityContext'
        'Enable-AcrManagedIdentityPull'
        'Test-AcrPullAccess'
        'Disable-AcrManagedIdentityPull'
        'Get-AcrAccessToken'
        'Connect-AcrRegistry'
        'Get-AcrPullAccess'
        'Grant-AcrPullAccess'
        'Revoke-AcrPullAccess'
        'New-AcrPullIdentity'
    )
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Azure', 'ACR', 'ContainerRegistry', 'ManagedIdentity', 'AcrPull', 'Docker', 'PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS')
            ProjectUri   = 'https://github.com/acridentity/AcrIdentity'
            LicenseUri   = 'https://github.com/acridentity/AcrIdentity/blob/main/LICENSE'
            ReleaseNotes = 'See CHANGELOG.md'
        }
    }
}
