// PowerShell-level tests share process-wide state (environment variables, MSAL statics, the module's
// context), so nothing in this assembly runs in parallel.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
