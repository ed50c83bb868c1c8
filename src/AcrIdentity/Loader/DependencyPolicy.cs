namespace AcrIdentity.Loader
{
    internal static class DependencyPolicy
    {
        internal const string EngineAssemblyName = "AcrIdentity.Engine";
    }
}
