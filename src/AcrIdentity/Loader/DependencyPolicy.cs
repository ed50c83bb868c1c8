using System;

namespace AcrIdentity.Loader
{
    /// <summary>Where a dependency request is answered from. Pure decisions, so both loaders can be unit-tested.</summary>
    internal enum LoadDecision
    {
        /// <summary>Not ours to answer: let the runtime (or another module's handler) decide.</summary>
        NotOurs,
        /// <summary>Use the copy the default context / shared framework already has.</summary>
        DeferToDefault,
        /// <summary>Load the file from our dependencies/ folder.</summary>
        LoadFromDependencies,
    }

    internal static class DependencyPolicy
    {
        internal const string EngineAssemblyName = "AcrIdentity.Engine";
        internal const string ThinAssemblyName = "AcrIdentity";

        /// <summary>
        /// PowerShell 7, AssemblyLoadContext.Default.Resolving: we answer only for the engine, so the
        /// runtime (and Az.Accounts' own handler) keep deciding everything else.
        /// </summary>
        internal static bool IsEngine(string? name) =>
            string.Equals(name, EngineAssemblyName, StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// PowerShell 7, inside the module's own load context. <paramref name="frameworkVersion"/> is the
        /// version the shared framework (Microsoft.NETCore.App) provides, <paramref name="bundledVersion"/>
        /// the version of the file in dependencies/; null when absent.
        /// The framework copy wins at an equal or higher version, so netstandard polyfills such as
        /// System.Memory are not loaded twice; a newer bundled package still wins over an older framework.
        /// </summary>
        internal static LoadDecision DecideInModuleContext(string? name, Version? frameworkVersion, Version? bundledVersion)
        {
            if (string.IsNullOrEmpty(name))
            {
                return LoadDecision.NotOurs;
            }

            if (IsEngine(name))
            {
                return bundledVersion is null ? LoadDecision.NotOurs : LoadDecision.LoadFromDependencies;
            }

            if (bundledVersion is null)
            {
                // Not shipped by us: whatever the default context has (framework or PowerShell's own).
                return LoadDecision.DeferToDefault;
            }

            if (frameworkVersion is not null && frameworkVersion >= bundledVersion)
            {
                return LoadDecision.DeferToDefault;
            }

            return LoadDecision.LoadFromDependencies;
        }

        /// <summary>
        /// Windows PowerShell 5.1, AppDomain.AssemblyResolve (one domain, no load contexts). We answer for the
        /// engine always, and for other files in dependencies/ only when one of our own assemblies asked,
        /// so another module's failed bindings are never satisfied with our copies. The bundled file must be
        /// at least the requested version (.NET Framework binds by exact version without redirects, and
        /// this event is how a request for an older polyfill version reaches the newer file we ship).
        /// </summary>
        internal static LoadDecision DecideInDesktop(string? name, Version? requestedVersion, bool requestedByOurAssembly, Version? bundledVersion)
        {
            if (string.IsNullOrEmpty(name) || bundledVersion is null)
            {
                return LoadDecision.NotOurs;
            }

            if (!IsEngine(name) && !requestedByOurAssembly)
            {
                return LoadDecision.NotOurs;
            }

            if (requestedVersion is not null && bundledVersion < requestedVersion)
            {
                return LoadDecision.NotOurs;
            }

            return LoadDecision.LoadFromDependencies;
        }

        /// <summary>The file in dependencies/ for an assembly name; null for names that could leave the folder.</summary>
        internal static string? FileNameFor(string? name)
        {
            if (string.IsNullOrEmpty(name) || name!.IndexOfAny(new[] { '/', '\\', ':' }) >= 0 || name.Contains(".."))
            {
                return null;
            }

            return name + ".dll";
        }

        /// <summary>
        /// Whether a requesting assembly is ours on Windows PowerShell: the thin assembly, the engine, or
        /// anything loaded from our dependencies/ folder.
        /// </summary>
        internal static bool IsOurAssembly(string? requestingName, string? requestingLocation, string dependenciesDirectory)
        {
            if (string.Equals(requestingName, ThinAssemblyName, StringComparison.OrdinalIgnoreCase) || IsEngine(requestingName))
            {
                return true;
            }

            if (string.IsNullOrEmpty(requestingLocation) || string.IsNullOrEmpty(dependenciesDirectory))
            {
                return false;
            }

            string dir = dependenciesDirectory.TrimEnd('/', '\\');
            string? parent = System.IO.Path.GetDirectoryName(requestingLocation);
            return parent is not null && string.Equals(parent.TrimEnd('/', '\\'), dir, StringComparison.OrdinalIgnoreCase);
        }
    }
}
