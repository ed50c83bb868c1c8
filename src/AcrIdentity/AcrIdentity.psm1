# Picks the build for this edition. Dependencies are not listed in the manifest on purpose: the loader
# in AcrIdentity.dll isolates them from the Azure.Core that Az.Accounts has already loaded.
$edition = if ($PSEdition -eq 'Core') { 'core' } else { 'desktop' }
Import-Module -Name ([System.IO.Path]::Combine($PSScriptRoot, $edition, 'AcrIdentity.dll'))
