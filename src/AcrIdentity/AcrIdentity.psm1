# Picks the build for this edition. Dependencies are not listed in the manifest on purpose: the loader
# in AcrIdentity.dll isolates them from the Azure.Core that Az.Accounts has already loaded.
$edition = if ($PSEdition -eq 'Core') { 'core' } else { 'desktop' }
Import-Module -Name ([System.IO.Path]::Combine($PSScriptRoot, $edition, 'AcrIdentity.dll'))

# Tab completion of registries, resource groups and identities from the current context (Completion/ResourceCompleter.cs).
foreach ($parameter in [AcrIdentity.Completion.ResourceCompleter]::Parameters) {
    $commands = [AcrIdentity.Completion.ResourceCompleter]::CommandsWith($parameter)
    if ($commands.Count -gt 0) {
        Register-ArgumentCompleter -CommandName $commands -ParameterName $parameter -ScriptBlock {
            param($commandName, $parameterName, $wordToComplete)
            [AcrIdentity.Completion.ResourceCompleter]::Complete($parameterName, $wordToComplete)
        }
    }
}
