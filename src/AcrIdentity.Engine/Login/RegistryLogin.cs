using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Hosting;
using AcrIdentity.Engine.Registry;

namespace AcrIdentity.Engine.Login
{
    /// <summary>What was written for one tool. Never holds the secret.</summary>
    public sealed class LoginRecord
    {
        internal LoginRecord(AuthFileLocation location, RegistryCredential credential, string method, string? helper, bool created, bool replaced)
        {
            Kind = location.Kind;
            Path = location.Path;
            LoginServer = credential.LoginServer;
            Username = credential.Username;
            ExpiresOn = credential.ExpiresOn;
            Method = method;
            CredentialHelper = helper;
            Created = created;
            Replaced = replaced;
        }

        public LoginTarget Kind { get; }
        public string Path { get; }
        public string LoginServer { get; }
        public string Username { get; }
        public DateTimeOffset? ExpiresOn { get; }
        /// <summary>AuthFile (an auths entry holds the credential) or CredentialHelper (docker-credential-&lt;name&gt; holds it).</summary>
        public string Method { get; }
        /// <summary>The helper program, e.g. docker-credential-desktop, when one holds the credential.</summary>
        public string? CredentialHelper { get; }
        /// <summary>The file did not exist before.</summary>
        public bool Created { get; }
        /// <summary>An entry for this login server was already there and was replaced.</summary>
        public bool Replaced { get; }

        public override string ToString() => $"{LoginServer} → {Path} ({(CredentialHelper ?? Method)})";
    }

    /// <summary>
    /// Writes an ACR credential where docker, podman and skopeo read it: one auths entry
    /// {"auth": base64("00000000-…:&lt;refresh token&gt;")} (what `docker login` writes for ACR), merged into the
    /// existing file without touching its other bytes, under a lock, by atomic replace, owner-only (0600).
    /// A credential helper named in the file gets the secret instead, as docker login does.
    /// </summary>
    public static class RegistryLogin
    {
        internal static TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(30);
        internal static TimeSpan HelperTimeout { get; set; } = TimeSpan.FromSeconds(60);

        public static async Task<LoginRecord> WriteAsync(AuthFileLocation location, RegistryCredential credential, IEngineHost host, CancellationToken ct)
        {
            if (location == null) throw new ArgumentNullException(nameof(location));
            if (credential == null) throw new ArgumentNullException(nameof(credential));
            if (host == null) throw new ArgumentNullException(nameof(host));
            string path = UnixFile.Resolve(location.Path);
            if (!string.Equals(path, location.Path, StringComparison.Ordinal)) host.WriteVerbose($"{location.Path} is a link to {path}; writing there.");
            string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            try
            {
                EnsureDirectory(dir);
                using (await AcquireLockAsync(dir, System.IO.Path.GetFileName(path), ct).ConfigureAwait(false))
                {
                    byte[]? before = File.Exists(path) ? File.ReadAllBytes(path) : null;
                    string? helper;
                    bool fromCredHelpers;
                    bool replaced;
                    try
                    {
                        helper = AuthFileEditor.FindHelper(before, credential.LoginServer, out fromCredHelpers);
                        replaced = AuthFileEditor.HasEntry(before, credential.LoginServer);
                    }
                    catch (JsonException ex)
                    {
                        throw Invalid(path, ex);
                    }

                    if (helper != null)
                    {
                        string program = "docker-credential-" + helper;
                        await StoreInHelperAsync(program, credential, path, fromCredHelpers, ct).ConfigureAwait(false);
                        host.WriteVerbose($"{path} names the credential helper '{helper}' ({(fromCredHelpers ? "credHelpers" : "credsStore")}): the credential went to {program}, not into the file.");
                        if (location.Kind == LoginTarget.Docker)
                        {
                            // docker login leaves an empty auths entry beside a helper; it also drops a stale inline secret.
                            WriteAtomically(path, AuthFileEditor.SetEntry(before, credential.LoginServer, Array.Empty<KeyValuePair<string, string>>()));
                        }
                        return new LoginRecord(location, credential, "CredentialHelper", program, before == null, replaced);
                    }

                    string auth = Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.Username + ":" + credential.RefreshToken));
                    byte[] after = AuthFileEditor.SetEntry(before, credential.LoginServer, new[] { new KeyValuePair<string, string>("auth", auth) });
                    WriteAtomically(path, after);
                    host.WriteVerbose($"{(replaced ? "Replaced" : "Added")} the auths entry for {credential.LoginServer} in {path}{(before == null ? " (new file)" : string.Empty)}.");
                    return new LoginRecord(location, credential, "AuthFile", null, before == null, replaced);
                }
            }
            catch (UnauthorizedAccessException ex)
            {
                throw NotWritable(path, ex);
            }
            catch (IOException ex)
            {
                throw NotWritable(path, ex);
            }
        }

        private static void EnsureDirectory(string dir)
        {
            if (Directory.Exists(dir)) return;
            Directory.CreateDirectory(dir);
            // Like docker and podman: the folder of a credential file is the user's alone.
            UnixFile.OwnerOnly(dir, directory: true);
        }

        /// <summary>
        /// An exclusive lock on "&lt;dir&gt;/.&lt;file&gt;.lock" (flock on Unix, a share mode on Windows). The lock file is
        /// left in place: deleting it would let a waiter lock an unlinked file while a newcomer locks a new one.
        /// </summary>
        private static async Task<IDisposable> AcquireLockAsync(string dir, string fileName, CancellationToken ct)
        {
            string lockPath = System.IO.Path.Combine(dir, "." + fileName + ".lock");
            var watch = Stopwatch.StartNew();
            int delay = 10;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                    try
                    {
                        UnixFile.OwnerOnly(lockPath);
                    }
                    catch (IOException)
                    {
                        // The lock file is empty; another owner (an earlier sudo run) does not make it a secret.
                    }
                    return stream;
                }
                catch (IOException) when (watch.Elapsed < LockTimeout && File.Exists(lockPath))
                {
                    await Task.Delay(delay, ct).ConfigureAwait(false);
                    delay = Math.Min(delay * 2, 200);
                }
                catch (IOException ex) when (watch.Elapsed >= LockTimeout)
                {
                    throw new EngineException("AuthFileLocked", EngineErrorCategory.ResourceUnavailable,
                        $"Another process has held {lockPath} for {LockTimeout.TotalSeconds:0} s.",
                        "Wait for the other Connect-AcrRegistry to finish, then run this again.", lockPath, ex);
                }
            }
        }

        /// <summary>Temp file in the same folder, owner-only before any byte is written, flushed, then renamed over the original.</summary>
        private static void WriteAtomically(string path, byte[] content)
        {
            string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            string temp = System.IO.Path.Combine(dir, "." + System.IO.Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N").Substring(0, 12) + ".tmp");
            try
            {
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    UnixFile.OwnerOnly(temp);
                    stream.Write(content, 0, content.Length);
                    stream.Flush(true);
                }
                if (File.Exists(path))
                {
                    File.Replace(temp, path, null);
                }
                else
                {
                    File.Move(temp, path);
                }
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
        }

        /// <summary>docker-credential-&lt;name&gt; store, with the credential as JSON on stdin (docker's helper protocol).</summary>
        private static async Task StoreInHelperAsync(string program, RegistryCredential credential, string path, bool fromCredHelpers, CancellationToken ct)
        {
            var psi = new ProcessStartInfo(program, "store")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                CreateNoWindow = true,
            };
            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new Win32Exception("not started");
            }
            catch (Win32Exception ex)
            {
                throw new EngineException("CredentialHelperNotFound", EngineErrorCategory.NotInstalled,
                    $"{path} sends credentials for {credential.LoginServer} to '{program}' ({(fromCredHelpers ? "credHelpers" : "credsStore")}), but it could not be started: {ex.Message}. Nothing was written.",
                    $"Install {program}, or remove the {(fromCredHelpers ? "credHelpers entry" : "credsStore setting")} from {path}, then run this again (or use -Target Containers).", path, ex);
            }
            using (process)
            {
                var payload = new StringBuilder()
                    .Append("{\"ServerURL\":").Append(AuthFileEditor.Quote(credential.LoginServer))
                    .Append(",\"Username\":").Append(AuthFileEditor.Quote(credential.Username))
                    .Append(",\"Secret\":").Append(AuthFileEditor.Quote(credential.RefreshToken)).Append('}').ToString();
                Task<string> stdout = process.StandardOutput.ReadToEndAsync();
                Task<string> stderr = process.StandardError.ReadToEndAsync();
                await process.StandardInput.WriteAsync(payload).ConfigureAwait(false);
                process.StandardInput.Close();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(HelperTimeout);
                var exited = new TaskCompletionSource<bool>();
                process.EnableRaisingEvents = true;
                process.Exited += (_, __) => exited.TrySetResult(true);
                if (process.HasExited) exited.TrySetResult(true);
                using (timeout.Token.Register(() => exited.TrySetCanceled()))
                {
                    try
                    {
                        await exited.Task.ConfigureAwait(false);
                    }
                    catch (TaskCanceledException)
                    {
                        try { process.Kill(); } catch (InvalidOperationException) { }
                        ct.ThrowIfCancellationRequested();
                        throw new EngineException("CredentialHelperFailed", EngineErrorCategory.OperationTimeout,
                            $"{program} store did not finish in {HelperTimeout.TotalSeconds:0} s (it may be waiting for a keyring unlock).", $"Unlock the keyring or fix {program}, then run this again.", path);
                    }
                }
                process.WaitForExit();
                if (process.ExitCode != 0)
                {
                    string said = ((await stdout.ConfigureAwait(false)) + " " + (await stderr.ConfigureAwait(false))).Trim();
                    said = RegistryReply.Scrub(said.Replace(credential.RefreshToken, "<token removed>"));
                    throw new EngineException("CredentialHelperFailed", EngineErrorCategory.InvalidOperation,
                        $"{program} store failed (exit {process.ExitCode}): {said}", $"Fix {program} (try `{program} list`), or remove it from {path}, then run this again.", path);
                }
            }
        }

        private static EngineException Invalid(string path, Exception ex) =>
            new EngineException("AuthFileInvalid", EngineErrorCategory.InvalidData,
                $"{path} is not valid JSON ({ex.Message}); it was left unchanged.",
                "Fix or move the file, then run this again.", path, ex);

        private static EngineException NotWritable(string path, Exception ex) =>
            new EngineException("AuthFileNotWritable", EngineErrorCategory.PermissionDenied,
                $"Cannot write {path}: {ex.Message}", "Check the file's owner and permissions (a file made by `sudo docker login` belongs to root), or point DOCKER_CONFIG/REGISTRY_AUTH_FILE elsewhere.", path, ex);
    }
}
