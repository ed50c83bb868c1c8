using System;
using System.IO;
using System.Runtime.InteropServices;

namespace AcrIdentity.Engine.Login
{
    /// <summary>The two POSIX calls netstandard2.0 lacks: chmod, and realpath to follow a symlinked config file.</summary>
    internal static class UnixFile
    {
        internal static bool IsUnix => !RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        internal static void OwnerOnly(string path, bool directory = false)
        {
            if (!IsUnix) return;
            if (chmod(path, directory ? 0x1C0u /* 0700 */ : 0x180u /* 0600 */) != 0)
            {
                throw new IOException($"chmod {(directory ? "700" : "600")} '{path}' failed (errno {Marshal.GetLastWin32Error()}).");
            }
        }

        /// <summary>The file a path finally names (dotfile managers symlink config.json); the path itself when it does not exist.</summary>
        internal static string Resolve(string path)
        {
            if (!IsUnix || !File.Exists(path)) return path;
            IntPtr resolved = realpath(path, IntPtr.Zero);
            if (resolved == IntPtr.Zero) return path;
            try
            {
                return Marshal.PtrToStringAnsi(resolved) ?? path;
            }
            finally
            {
                free(resolved);
            }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int chmod(string path, uint mode);

        [DllImport("libc", SetLastError = true)]
        private static extern IntPtr realpath(string path, IntPtr resolved);

        [DllImport("libc")]
        private static extern void free(IntPtr ptr);
    }
}
