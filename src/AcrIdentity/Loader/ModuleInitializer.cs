using System;
using System.IO;
using System.Management.Automation;

namespace AcrIdentity.Loader
{
    /// <summary>
    /// Runs when Import-Module loads AcrIdentity.dll, before any cmdlet type touches the engine.
    /// Hooks resolution so the engine and its Azure dependencies never meet Az.Accounts' copies.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static readonly object Gate = new object();
        private static int _imports;

        /// <summary>out/AcrIdentity/dependencies, next to the edition folder holding this assembly.</summary>
        internal static string DependenciesDirectory
        {
            get
            {
                string here = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? ".";
                return Path.GetFullPath(Path.Combine(here, "..", "dependencies"));
            }
        }

        public void OnImport()
        {
            // Import-Module in several runspaces calls this once per import; hook once per process.
            lock (Gate)
            {
                if (_imports++ == 0)
                {
                    Hook(DependenciesDirectory);
                }
            }
        }

        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            lock (Gate)
            {
                if (_imports > 0 && --_imports == 0)
                {
                    Unhook();
                }
            }
        }

#if NETFRAMEWORK
        private static void Hook(string dependenciesDirectory) => DesktopResolver.Hook(dependenciesDirectory);

        private static void Unhook() => DesktopResolver.Unhook();
#else
        private static void Hook(string dependenciesDirectory) => ModuleLoadContext.Hook(dependenciesDirectory);

        private static void Unhook() => ModuleLoadContext.Unhook();
#endif
    }
}
