# Stand-in for Az.Accounts. Only core cmdlets exist in the hosted engine, so this uses .NET APIs.
#
# Environment variables (set before Import-Module -Force):
#   AZSTANDIN_GENERATION   '2'  Az.Accounts before 2.17: Token is a string, no -AsSecureString
#                          '4'  2.17 to 4.x: string unless -AsSecureString (and a breaking-change warning)
#                          '5'  5.0 and later: Token is always a SecureString (default)
#   AZSTANDIN_SIGNED_IN    '0' = no context (as after Disconnect-AzAccount)
#   AZSTANDIN_AUTHORITY, AZSTANDIN_TENANT, AZSTANDIN_CLIENT_ID, AZSTANDIN_CLIENT_SECRET: the service
#                          principal signed in (the sandbox's operator), tokens via its Entra endpoint
#   AZSTANDIN_ENVIRONMENT, AZSTANDIN_ARM, AZSTANDIN_AUDIENCE, AZSTANDIN_ACR_SUFFIX: the context's Environment
#   AZSTANDIN_GRAPH: Environment.ExtendedProperties MicrosoftGraphUrl / MicrosoftGraphEndpointResourceId (unset: none)
#   AZSTANDIN_SUBSCRIPTION_ID, AZSTANDIN_SUBSCRIPTION_NAME
# $global:AzStandInTokenRequests lists the resources Get-AzAccessToken was asked for.

$ErrorActionPreference = 'Stop'   # a failed token request must fail the command, as in Az
$script:Generation = if ($env:AZSTANDIN_GENERATION) { $env:AZSTANDIN_GENERATION } else { '5' }
$global:AzStandInTokenRequests = [System.Collections.Generic.List[string]]::new()

function New-Typed([string[]] $TypeNames, [System.Collections.IDictionary] $Properties) {
    $o = [pscustomobject] $Properties
    foreach ($t in $TypeNames) { $o.PSObject.TypeNames.Insert(0, $t) }
    $o
}

function Get-AzContext {
    [CmdletBinding()]
    param([switch] $ListAvailable)
    if ($env:AZSTANDIN_SIGNED_IN -eq '0') { return }

    $account = New-Typed 'Microsoft.Azure.Commands.Profile.Models.PSAzureRmAccount' ([ordered]@{
        Id = $env:AZSTANDIN_CLIENT_ID; Type = 'ServicePrincipal'; Tenants = @($env:AZSTANDIN_TENANT)
        AccessToken = $null; Credential = $null; TenantMap = @{}; CertificateThumbprint = $null; ExtendedProperties = @{}
    })
    # Az keeps Microsoft Graph's endpoint in ExtendedProperties (a string dictionary).
    $extended = [System.Collections.Generic.Dictionary[string, string]]::new()
    if ($env:AZSTANDIN_GRAPH) {
        $extended['MicrosoftGraphUrl'] = $env:AZSTANDIN_GRAPH
        $extended['MicrosoftGraphEndpointResourceId'] = $env:AZSTANDIN_GRAPH
    }
    $environment = New-Typed 'Microsoft.Azure.Commands.Profile.Models.PSAzureEnvironment' ([ordered]@{
        Name = $env:AZSTANDIN_ENVIRONMENT; Type = 'User-defined'; EnableAdfsAuthentication = $false; OnPremise = $false
        ActiveDirectoryServiceEndpointResourceId = $env:AZSTANDIN_AUDIENCE; AdTenant = 'Common'
        GalleryUrl = $null; ManagementPortalUrl = $null; ServiceManagementUrl = $null; PublishSettingsFileUrl = $null
        ResourceManagerUrl = $env:AZSTANDIN_ARM; SqlDatabaseDnsSuffix = $null; StorageEndpointSuffix = $null
        ActiveDirectoryAuthority = $env:AZSTANDIN_AUTHORITY; GraphUrl = $null; GraphEndpointResourceId = $null
        TrafficManagerDnsSuffix = $null; AzureKeyVaultDnsSuffix = $null; AzureKeyVaultServiceEndpointResourceId = $null
        ContainerRegistryEndpointSuffix = $env:AZSTANDIN_ACR_SUFFIX; BatchEndpointResourceId = $null
        VersionProfiles = @(); ExtendedProperties = $extended
    })
    $subscription = New-Typed 'Microsoft.Azure.Commands.Profile.Models.PSAzureSubscription' ([ordered]@{
        Id = $env:AZSTANDIN_SUBSCRIPTION_ID; Name = $env:AZSTANDIN_SUBSCRIPTION_NAME; State = 'Enabled'
        SubscriptionId = $env:AZSTANDIN_SUBSCRIPTION_ID; TenantId = $env:AZSTANDIN_TENANT; HomeTenantId = $env:AZSTANDIN_TENANT
        ManagedByTenantIds = @(); ExtendedProperties = @{}
    })
    $tenant = New-Typed 'Microsoft.Azure.Commands.Profile.Models.PSAzureTenant' ([ordered]@{
        Id = $env:AZSTANDIN_TENANT; TenantId = $env:AZSTANDIN_TENANT; Name = $null; Directory = $null; ExtendedProperties = @{}
    })
    New-Typed 'Microsoft.Azure.Commands.Profile.Models.Core.PSAzureContext' ([ordered]@{
        Name = "$($env:AZSTANDIN_SUBSCRIPTION_NAME) ($($env:AZSTANDIN_SUBSCRIPTION_ID)) - $($env:AZSTANDIN_TENANT) - $($env:AZSTANDIN_CLIENT_ID)"
        Account = $account; Environment = $environment; Subscription = $subscription; Tenant = $tenant
        TokenCache = $null; VersionProfile = $null; ExtendedProperties = @{}
    })
}

# Client credentials against the sandbox's Entra v2 endpoint; returns @{ Token; ExpiresOn }.
function Request-Token([string] $Resource) {
    if ($env:AZSTANDIN_SIGNED_IN -eq '0') {
        throw 'Run Connect-AzAccount to login.'
    }
    $global:AzStandInTokenRequests.Add($Resource)
    $form = [System.Collections.Generic.Dictionary[string, string]]::new()
    $form['grant_type'] = 'client_credentials'
    $form['client_id'] = $env:AZSTANDIN_CLIENT_ID
    $form['client_secret'] = $env:AZSTANDIN_CLIENT_SECRET
    $form['scope'] = $Resource + '/.default'   # "https://management.core.windows.net//.default", as Az asks
    $url = $env:AZSTANDIN_AUTHORITY.TrimEnd('/') + '/' + $env:AZSTANDIN_TENANT + '/oauth2/v2.0/token'
    $client = [System.Net.Http.HttpClient]::new()
    try {
        $content = [System.Net.Http.FormUrlEncodedContent]::new($form)
        $response = $client.PostAsync($url, $content).GetAwaiter().GetResult()
        $body = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
        if (-not $response.IsSuccessStatusCode) {
            # The body of a failed token reply holds no token; the status is enough.
            throw "The sandbox's token endpoint answered $([int]$response.StatusCode)."
        }
        $json = [System.Text.Json.JsonDocument]::Parse($body)
        try {
            $root = $json.RootElement
            @{
                Token     = $root.GetProperty('access_token').GetString()
                ExpiresOn = [System.DateTimeOffset]::UtcNow.AddSeconds([double] $root.GetProperty('expires_in').ToString())
            }
        } finally { $json.Dispose() }
    } finally { $client.Dispose() }
}

function New-AccessToken([string] $Resource, [bool] $Secure) {
    $t = Request-Token $Resource
    $token = if ($Secure) { [System.Net.NetworkCredential]::new('', $t.Token).SecurePassword } else { $t.Token }
    $typeName = if ($Secure) { 'Microsoft.Azure.Commands.Profile.Models.PSSecureAccessToken' } else { 'Microsoft.Azure.Commands.Profile.Models.PSAccessToken' }
    New-Typed $typeName ([ordered]@{
        Token = $token; ExpiresOn = $t.ExpiresOn; TenantId = $env:AZSTANDIN_TENANT; UserId = $env:AZSTANDIN_CLIENT_ID; Type = 'Bearer'
    })
}

$script:DefaultResource = { if ($env:AZSTANDIN_AUDIENCE) { $env:AZSTANDIN_AUDIENCE } else { 'https://management.core.windows.net/' } }

if ($script:Generation -eq '2') {
    function Get-AzAccessToken {
        [CmdletBinding()]
        param(
            [Alias('Resource', 'ResourceUri')] [string] $ResourceUrl,
            [string] $ResourceTypeName,
            [string] $TenantId
        )
        if (-not $ResourceUrl) { $ResourceUrl = & $script:DefaultResource }
        New-AccessToken $ResourceUrl $false
    }
}
else {
    function Get-AzAccessToken {
        [CmdletBinding()]
        param(
            [Alias('Resource', 'ResourceUri')] [string] $ResourceUrl,
            [string] $ResourceTypeName,
            [string] $TenantId,
            [switch] $AsSecureString
        )
        if (-not $ResourceUrl) { $ResourceUrl = & $script:DefaultResource }
        if ($script:Generation -eq '4' -and -not $AsSecureString) {
            Write-Warning ("Upcoming breaking changes in the cmdlet 'Get-AzAccessToken' :`nThe Token property of the output type will be changed from String to SecureString. " +
                'Add the [-AsSecureString] switch to avoid the impact of this upcoming breaking change.')
        }
        New-AccessToken $ResourceUrl ($script:Generation -eq '5' -or $AsSecureString)
    }
}

Export-ModuleMember -Function Get-AzContext, Get-AzAccessToken
