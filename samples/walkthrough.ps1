# The seed docs' recipes, each done with one AcrIdentity command against the sandbox, checked with
# Test-AcrPullAccess, and finished with a real skopeo pull as the VM's managed identity.
# Run by ./demo:  PwshHost -File samples/walkthrough.ps1 <endpoints.json> <work dir>
param(
    [Parameter(Mandatory)] [string] $EndpointsFile,
    [Parameter(Mandatory)] [string] $WorkDir
)
$ErrorActionPreference = 'Stop'
Import-Module AcrIdentity

$endpoints = [System.Text.Json.Nodes.JsonNode]::Parse([System.IO.File]::ReadAllText($EndpointsFile))
$subscription = $endpoints['subscriptionIds'][0].ToString()
$group = "/subscriptions/$subscription/resourceGroups/myResourceGroup"
$registry = 'myContainerRegistry'

function Show-Result($result) {
    foreach ($step in $result.Steps) { "   {0,-28} {1,-16} {2}" -f $step.Step, $step.Outcome, $step.Description }
}

function Assert-CanPull($target, [string] $what) {
    $report = $target | Test-AcrPullAccess
    $failed = @($report.Checks | Where-Object Result -eq 'Fail')
    "   Test-AcrPullAccess: CanPull={0} ({1} checks, {2} failed)" -f $report.CanPull, $report.Checks.Count, $failed.Count
    if (-not $report.CanPull) {
        foreach ($check in $failed) { "   FAIL {0}: {1} -> {2}" -f $check.Id, $check.Message, $check.Fix }
        throw "$what cannot pull from $registry"
    }
}

"== Sign in as the sandbox's operator (Connect-AcrIdentity with a custom environment)"
$operator = $endpoints['operator']
$secret = [System.Net.NetworkCredential]::new('', $operator['clientSecret'].ToString()).SecurePassword
$context = Connect-AcrIdentity -Environment $EndpointsFile -ServicePrincipal -ApplicationId $operator['clientId'].ToString() -ClientSecret $secret
"   {0} in subscription {1}" -f $context.Account, $context.SubscriptionId

$recipes = @(
    @{ Seed = '000'; Title = 'Linux web app, system-assigned identity'; Id = "$group/providers/Microsoft.Web/sites/myLinuxApp"; Args = @{} }
    @{ Seed = '001'; Title = 'Windows-container web app, system-assigned identity'; Id = "$group/providers/Microsoft.Web/sites/myWindowsApp"; Args = @{} }
    @{ Seed = '002'; Title = 'Container group, user-assigned identity myACRId'; Id = "$group/providers/Microsoft.ContainerInstance/containerGroups/myContainerGroup"; Args = @{ UserAssignedIdentity = 'myACRId' } }
    @{ Seed = '003'; Title = 'AKS cluster (the kubelet identity, as --attach-acr)'; Id = "$group/providers/Microsoft.ContainerService/managedClusters/myAKSCluster"; Args = @{} }
    @{ Seed = '004'; Title = 'Docker VM, user-assigned identity myACRId'; Id = "$group/providers/Microsoft.Compute/virtualMachines/myDockerVM"; Args = @{ UserAssignedIdentity = 'myACRId' } }
    @{ Seed = '---'; Title = 'Container app, system-assigned identity'; Id = "$group/providers/Microsoft.App/containerApps/myContainerApp"; Args = @{} }
)

$results = @{}
foreach ($recipe in $recipes) {
    ''
    "== Seed {0}: {1}" -f $recipe.Seed, $recipe.Title
    $options = $recipe.Args
    $result = Enable-AcrManagedIdentityPull -ResourceId $recipe.Id -Registry $registry @options
    Show-Result $result
    Assert-CanPull $result $recipe.Title
    $results[$recipe.Seed] = $result
}

''
"== Run it again: nothing left to do"
$again = Enable-AcrManagedIdentityPull -ResourceId "$group/providers/Microsoft.Web/sites/myLinuxApp" -Registry $registry
Show-Result $again

''
"== On myDockerVM: Connect-AcrRegistry with the VM's identity, then skopeo pulls (seed 004 without az or docker)"
$vmId = "$group/providers/Microsoft.Compute/virtualMachines/myDockerVM"
$runAs = $null
foreach ($entry in $endpoints['runAs'].AsObject()) {
    if ([string]::Equals($entry.Key, $vmId, [System.StringComparison]::OrdinalIgnoreCase)) { $runAs = $entry.Value }
}
if (-not $runAs) { throw "endpoints.json has no runAs entry for $vmId" }
# What the App Service/Automation style endpoint would be on the machine itself.
$env:IDENTITY_ENDPOINT = $runAs['identityEndpoint'].ToString()
$env:IDENTITY_HEADER = $runAs['identityHeader'].ToString()
$env:REGISTRY_AUTH_FILE = [System.IO.Path]::Combine($WorkDir, 'auth.json')
# AcrPull grants no ARM read, so the VM names the registry by its login server, as `az acr login` would.
$login = Connect-AcrRegistry -Registry $results['004'].RegistryLoginServer -Identity -ClientId $results['004'].ClientId -Target Containers -PassThru
"   wrote a credential for {0} to {1}" -f $login.LoginServer, $env:REGISTRY_AUTH_FILE

$image = "docker://{0}/aci-helloworld:v1" -f $login.LoginServer
$destination = "dir:" + [System.IO.Path]::Combine($WorkDir, 'aci-helloworld')
& skopeo copy --quiet $image $destination
if ($LASTEXITCODE -ne 0) { throw "skopeo could not pull $image" }
"   skopeo copy $image -> OK"
''
'All recipes done, checked and pulled.'
