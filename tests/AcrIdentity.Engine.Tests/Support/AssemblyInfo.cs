// Tests change process-wide environment variables (IDENTITY_ENDPOINT, AZURE_*) and Session.Current.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
