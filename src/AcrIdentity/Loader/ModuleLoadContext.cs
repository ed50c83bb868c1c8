#if !NETFRAMEWORK
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace AcrIdentity.Loader
{
    /// <summary>
    /// PowerShell 7: the engine and everything in dependencies/ live here, beside whatever Azure.Core
    /// Az.Accounts (or anyone) loaded into the default context.
    /// </summary>
    internal sealed class ModuleLoadContext : AssemblyLoadContext
    {
        private static ModuleLoadContext? _instance;
        private static Func<AssemblyLoadContext, AssemblyName, Assembly?>? _handler;

        private readonly string _dependenciesDirectory;
        private readonly string _frameworkDirectory;
        private readonly ConcurrentDictionary<string, Version?> _versions = new ConcurrentDictionary<string, Version?>(StringComparer.OrdinalIgnoreCase);

        private ModuleLoadContext(string dependenciesDirectory)
            : base("AcrIdentity", isCollectible: false)
        {
            _dependenciesDirectory = dependenciesDirectory;
            // Microsoft.NETCore.App's folder: what "the shared framework provides" means here.
            _frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location) ?? string.Empty;
        }

        internal static void Hook(string dependenciesDirectory)
        {
            // The context survives Remove-Module/Import-Module: a loaded engine cannot be unloaded anyway.
            _instance ??= new ModuleLoadContext(dependenciesDirectory);
            ModuleLoadContext context = _instance;
            _handler = (_, name) => DependencyPolicy.IsEngine(name.Name) ? context.LoadFromAssemblyName(name) : null;
            AssemblyLoadContext.Default.Resolving += _handler;
        }

        internal static void Unhook()
        {
            if (_handler is not null)
            {
                AssemblyLoadContext.Default.Resolving -= _handler;
                _handler = null;
            }
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            string? fileName = DependencyPolicy.FileNameFor(assemblyName.Name);
            if (fileName is null)
            {
                return null;
            }

            string bundledPath = Path.Combine(_dependenciesDirectory, fileName);
            Version? bundled = VersionOf("dep:", bundledPath);
            Version? framework = VersionOf("fx:", Path.Combine(_frameworkDirectory, fileName));

            switch (DependencyPolicy.DecideInModuleContext(assemblyName.Name, framework, bundled))
            {
                case LoadDecision.LoadFromDependencies:
                    return LoadFromAssemblyPath(bundledPath);
                default:
                    // null = the default context resolves it (framework, PowerShell's own assemblies).
                    return null;
            }
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) => IntPtr.Zero;

        private Version? VersionOf(string prefix, string path) =>
            _versions.GetOrAdd(prefix + path, _ =>
            {
                if (!File.Exists(path))
                {
                    return null;
                }

                try
                {
                    return AssemblyName.GetAssemblyName(path).Version;
                }
                catch (BadImageFormatException)
                {
                    // Not a managed assembly: never ours to load.
                    return null;
                }
            });
    }
}
#endif
