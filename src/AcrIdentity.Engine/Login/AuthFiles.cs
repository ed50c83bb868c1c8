using System;
using System.Collections.Generic;
using System.IO;

namespace AcrIdentity.Engine.Login
{
    /// <summary>Which tools' credential files to write.</summary>
    public enum LoginTarget
    {
        /// <summary>docker's config.json ($DOCKER_CONFIG, else ~/.docker).</summary>
        Docker,
        /// <summary>The containers auth.json podman, skopeo and buildah read.</summary>
        Containers,
        All,
    }

    /// <summary>One credential file and why it is that path.</summary>
    public sealed class AuthFileLocation
    {
        internal AuthFileLocation(LoginTarget kind, string path, string source)
        {
            Kind = kind;
            Path = path;
            Source = source;
        }

        /// <summary>Docker or Containers.</summary>
        public LoginTarget Kind { get; }
        public string Path { get; }
        /// <summary>Where the path came from, e.g. "REGISTRY_AUTH_FILE".</summary>
        public string Source { get; }

        public override string ToString() => $"{Kind} {Path} ({Source})";
    }

    /// <summary>Where each tool reads its registry credentials, by the tools' own rules.</summary>
    public static class AuthFiles
    {
        public static IReadOnlyList<AuthFileLocation> Locate(LoginTarget target)
        {
            var list = new List<AuthFileLocation>();
            if (target == LoginTarget.Docker || target == LoginTarget.All) list.Add(Docker());
            if (target == LoginTarget.Containers || target == LoginTarget.All) list.Add(Containers());
            return list;
        }

        /// <summary>docker/cli: $DOCKER_CONFIG/config.json, else ~/.docker/config.json.</summary>
        internal static AuthFileLocation Docker()
        {
            string? dir = Env("DOCKER_CONFIG");
            if (dir != null) return new AuthFileLocation(LoginTarget.Docker, System.IO.Path.Combine(dir, "config.json"), "DOCKER_CONFIG");
            return new AuthFileLocation(LoginTarget.Docker, System.IO.Path.Combine(Home(), ".docker", "config.json"), "~/.docker");
        }

        /// <summary>containers-auth.json(5): REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else ~/.config/containers/auth.json.</summary>
        internal static AuthFileLocation Containers()
        {
            string? file = Env("REGISTRY_AUTH_FILE");
            if (file != null) return new AuthFileLocation(LoginTarget.Containers, file, "REGISTRY_AUTH_FILE");
            string? runtime = Env("XDG_RUNTIME_DIR");
            if (runtime != null && Directory.Exists(runtime))
            {
                return new AuthFileLocation(LoginTarget.Containers, System.IO.Path.Combine(runtime, "containers", "auth.json"), "XDG_RUNTIME_DIR");
            }
            return new AuthFileLocation(LoginTarget.Containers, System.IO.Path.Combine(Home(), ".config", "containers", "auth.json"), "~/.config/containers");
        }

        private static string Home()
        {
            string? home = Env("HOME");
            return home ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }

        private static string? Env(string name)
        {
            string? v = Environment.GetEnvironmentVariable(name);
            return string.IsNullOrWhiteSpace(v) ? null : v;
        }
    }
}
