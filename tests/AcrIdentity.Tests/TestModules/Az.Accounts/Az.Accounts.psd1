# A stand-in for Az.Accounts in tests: the same command names and object shapes, tokens from the sandbox.
# Never a real login. Configured by environment variables (see Az.Accounts.psm1), read at import.
@{
    RootModule        = 'Az.Accounts.psm1'
    ModuleVersion     = '5.0.0'
    GUID              = '17a2feff-488b-47f9-8729-e2cec094624c'
    Author            = 'AcrIdentity tests'
    Description       = 'Test stand-in for Az.Accounts (Get-AzContext, Get-AzAccessToken) backed by the AcrIdentity sandbox.'
    FunctionsToExport = @('Get-AzContext', 'Get-AzAccessToken')
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
