#if NETFRAMEWORK
using System;
using System.IO;
using System.Reflection;

namespace AcrIdentity.Loader
{
    /// <summary>
    /// Windows PowerShell 5.1 has one AppDomain and no load contexts: answer failed bindings for the engine,
    /// and for files in dependencies/ only when our own assemblies asked.
    /// </summary>
    internal static class DesktopResolver
    {
        private static string _dependenciesDirectory = string.Empty;
        private static ResolveEventHandler? _handler;

        internal static void Hook(string dependenciesDirectory)
        {
            _dependenciesDirectory = dependenciesDirectory;
            _handler = Resolve;
            AppDomain.CurrentDomain.AssemblyResolve += _handler;
        }

        internal static void Unhook()
        {
            if (_handler is not null)
            {
                AppDomain.CurrentDomain.AssemblyResolve -= _handler;
                _handler = null;
            }
        }

        private static Assembly? Resolve(object? sender, ResolveEventArgs args)
        {
            AssemblyName requested = new AssemblyName(args.Name);
            string? fileName = DependencyPolicy.FileNameFor(requested.Name);
            if (fileName is null)
            {
                return null;
            }

            string path = Path.Combine(_dependenciesDirectory, fileName);
            if (!File.Exists(path))
            {
                return null;
            }

            Assembly? requester = args.RequestingAssembly;
            bool ours = requester is not null && DependencyPolicy.IsOurAssembly(
                requester.GetName().Name, requester.IsDynamic ? null : requester.Location, _dependenciesDirectory);
            Version? bundled = AssemblyName.GetAssemblyName(path).Version;

            return DependencyPolicy.DecideInDesktop(requested.Name, requested.Version, ours, bundled) == LoadDecision.LoadFromDependencies
                ? Assembly.LoadFrom(path)
                : null;
        }
    }
}
#endif
