using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AcrIdentity.Engine.Errors;
using AcrIdentity.Engine.Login;
using AcrIdentity.Engine.Registry;
using AcrIdentity.Engine.Tests.Support;

namespace AcrIdentity.Engine.Tests.Registry;

/// <summary>
/// The auth-file writers on real files: only the one entry changes, the file stays owner-only, concurrent
/// writers all land, and credential helpers get the secret instead of the file.
/// </summary>
public sealed class AuthFileTests : IDisposable
{
    private const string Server = "contoso.azurecr.io";
    private const string Refresh = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2lnbmF0dXJl"; // token-shaped, exp 2100-01-01
    private readonly string _dir = Directory.CreateTempSubdirectory("acrid-authfile").FullName;

    private static RegistryCredential Credential(string server = Server, string refresh = Refresh) =>
        new(server, null, refresh, RegistryJwt.Expiry(refresh), "https://management.core.windows.net/", "test");

    private AuthFileLocation Docker(string? path = null) => new(LoginTarget.Docker, path ?? Path.Combine(_dir, "config.json"), "test");

    private static string AuthOf(byte[] file, string server)
    {
        using var doc = JsonDocument.Parse(file);
        string b64 = doc.RootElement.GetProperty("auths").GetProperty(server).GetProperty("auth").GetString()!;
        return Encoding.UTF8.GetString(Convert.FromBase64String(b64));
    }

    private static async Task<LoginRecord> WriteAsync(AuthFileLocation location, RegistryCredential? credential = null, RecordingHost? host = null) =>
        await RegistryLogin.WriteAsync(location, credential ?? Credential(), host ?? new RecordingHost(), CancellationToken.None);

    [Fact]
    public async Task New_file_is_created_owner_only_with_the_docker_login_entry()
    {
        var location = Docker(Path.Combine(_dir, "new", "config.json"));
        var host = new RecordingHost();
        LoginRecord record = await WriteAsync(location, host: host);

        byte[] file = File.ReadAllBytes(location.Path);
        Assert.Equal("00000000-0000-0000-0000-000000000000:" + Refresh, AuthOf(file, Server));
        Assert.True(record.Created);
        Assert.False(record.Replaced);
        Assert.Equal("AuthFile", record.Method);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(location.Path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(location.Path)!));
        }
        Assert.DoesNotContain("eyJ", host.AllText());
        Assert.DoesNotContain(Refresh, record.ToString());
    }

    [Fact]
    public async Task Replacing_an_entry_keeps_every_other_byte()
    {
        // Odd spacing, CRLF, other registries, a helper for another host, unknown keys, escapes and non-ASCII.
        string prefix = "{\r\n  \"auths\" : {\r\n    \"other.example\":{\"auth\":\"b3RoZXI6cHc=\",\"email\":\"\\u00e9t\\u00e9@x\"},\r\n    \"contoso.azurecr.io\": ";
        string old = "{\r\n      \"auth\": \"c3RhbGU6c3RhbGU=\",\r\n      \"identitytoken\": \"stale\"\r\n    }";
        string suffix = ",\r\n    \"zeta.example\": {\"auth\": \"emV0YTpw\"}\r\n  },\r\n  \"credHelpers\": {\"gcr.io\": \"gcloud\"},\r\n  \"HttpHeaders\": {\"User-Agent\": \"Ünïcode\"},\r\n  \"detachKeys\": \"ctrl-e,e\"\r\n}\r\n";
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, prefix + old + suffix, new UTF8Encoding(false));
        byte[] before = File.ReadAllBytes(path);
        byte[] pre = Encoding.UTF8.GetBytes(prefix), post = Encoding.UTF8.GetBytes(suffix);

        LoginRecord record = await WriteAsync(Docker(path));

        byte[] after = File.ReadAllBytes(path);
        Assert.True(record.Replaced);
        Assert.Equal(pre, after.Take(pre.Length).ToArray());
        Assert.Equal(post, after.Skip(after.Length - post.Length).ToArray());
        string entry = Encoding.UTF8.GetString(after, pre.Length, after.Length - pre.Length - post.Length);
        Assert.DoesNotContain("identitytoken", entry); // a stale identity token would win over the new auth in skopeo
        Assert.Contains("\r\n", entry);
        Assert.Equal("00000000-0000-0000-0000-000000000000:" + Refresh, AuthOf(after, Server));
        Assert.NotEqual(before, after);
    }

    [Fact]
    public async Task A_new_entry_is_inserted_after_the_last_one_and_nothing_else_moves()
    {
        string head = "{\n\t\"auths\": {\n\t\t\"a.example\": {\n\t\t\t\"auth\": \"YTpi\"\n\t\t}";
        string tail = "\n\t},\n\t\"credsStore\": \"\"\n}";
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, head + tail);

        await WriteAsync(Docker(path));

        string after = File.ReadAllText(path);
        Assert.StartsWith(head + ",\n\t\t\"contoso.azurecr.io\": {\n\t\t\t\"auth\": \"", after);
        Assert.EndsWith("\"\n\t\t}" + tail, after);
        Assert.Equal("00000000-0000-0000-0000-000000000000:" + Refresh, AuthOf(File.ReadAllBytes(path), Server));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"auths\":{}}")]
    [InlineData("{\"auths\": null, \"x\": 1}")]
    [InlineData("{\"psFormat\":\"table\"}")]
    [InlineData("\uFEFF{\n  \"auths\": {}\n}\n")]
    [InlineData("   \n")]
    public async Task Files_without_the_entry_get_it_and_keep_their_other_members(string original)
    {
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, original, new UTF8Encoding(false));

        await WriteAsync(Docker(path));

        byte[] after = File.ReadAllBytes(path);
        byte[] json = after.AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }) ? after[3..] : after;
        Assert.Equal("00000000-0000-0000-0000-000000000000:" + Refresh, AuthOf(json, Server));
        using var doc = JsonDocument.Parse(json);
        if (original.Contains("psFormat")) Assert.Equal("table", doc.RootElement.GetProperty("psFormat").GetString());
        if (original.Contains("\"x\"")) Assert.Equal(1, doc.RootElement.GetProperty("x").GetInt32());
        if (original.StartsWith('\uFEFF')) Assert.Equal(0xEF, after[0]);
        Assert.Equal(1, doc.RootElement.EnumerateObject().Count(p => p.Name == "auths"));
    }

    [Theory]
    [InlineData("{\"auths\": {\"a\": {}},}")]
    [InlineData("{\"auths\": []}")]
    [InlineData("// comment\n{}")]
    [InlineData("{} {}")]
    [InlineData("[1]")]
    public async Task Invalid_files_are_refused_and_left_untouched(string original)
    {
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, original);
        var ex = await Assert.ThrowsAsync<EngineException>(() => WriteAsync(Docker(path)));
        Assert.Equal("AuthFileInvalid", ex.Reason);
        Assert.Equal(original, File.ReadAllText(path));
        Assert.DoesNotContain(Refresh, ex.Message);
    }

    [Fact]
    public async Task Concurrent_writers_do_not_lose_or_corrupt_entries()
    {
        // Each writer opens its own lock file handle, so they contend through flock exactly as processes do.
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, "{\n\t\"auths\": {\n\t\t\"keep.example\": {\n\t\t\t\"auth\": \"a2VlcDpr\"\n\t\t}\n\t}\n}");
        const int writers = 32;
        var tasks = Enumerable.Range(0, writers).Select(i => Task.Run(() =>
            WriteAsync(Docker(path), Credential($"r{i}.azurecr.io", Refresh + i)))).ToArray();
        await Task.WhenAll(tasks);

        byte[] after = File.ReadAllBytes(path);
        for (int i = 0; i < writers; i++)
        {
            Assert.Equal("00000000-0000-0000-0000-000000000000:" + Refresh + i, AuthOf(after, $"r{i}.azurecr.io"));
        }
        Assert.Equal("keep:k", AuthOf(after, "keep.example"));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public async Task A_credsStore_helper_gets_the_secret_and_the_file_an_empty_entry()
    {
        if (OperatingSystem.IsWindows()) return;
        string bin = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        string received = Path.Combine(_dir, "helper-input.json");
        string helper = Path.Combine(bin, "docker-credential-acrtest");
        File.WriteAllText(helper, $"#!/bin/sh\n[ \"$1\" = store ] || exit 3\ncat > '{received}'\n");
        File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, "{\n\t\"auths\": {\n\t\t\"contoso.azurecr.io\": {\n\t\t\t\"auth\": \"b2xkOm9sZA==\"\n\t\t}\n\t},\n\t\"credsStore\": \"acrtest\"\n}");
        string? oldPath = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", bin + Path.PathSeparator + oldPath);
        try
        {
            var host = new RecordingHost();
            LoginRecord record = await WriteAsync(Docker(path), host: host);

            Assert.Equal("CredentialHelper", record.Method);
            Assert.Equal("docker-credential-acrtest", record.CredentialHelper);
            using var sent = JsonDocument.Parse(File.ReadAllText(received));
            Assert.Equal(Server, sent.RootElement.GetProperty("ServerURL").GetString());
            Assert.Equal("00000000-0000-0000-0000-000000000000", sent.RootElement.GetProperty("Username").GetString());
            Assert.Equal(Refresh, sent.RootElement.GetProperty("Secret").GetString());
            string after = File.ReadAllText(path);
            Assert.DoesNotContain("b2xkOm9sZA==", after);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("00000000-0000-0000-0000-000000000000:" + Refresh)), after);
            Assert.Equal("{\n\t\"auths\": {\n\t\t\"contoso.azurecr.io\": {}\n\t},\n\t\"credsStore\": \"acrtest\"\n}", after);
            Assert.Contains("docker-credential-acrtest", host.AllText());
            Assert.DoesNotContain("eyJ", host.AllText());
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", oldPath);
        }
    }

    [Fact]
    public async Task A_missing_credHelpers_program_is_an_error_and_nothing_is_written()
    {
        string path = Path.Combine(_dir, "config.json");
        string original = "{\"credHelpers\": {\"contoso.azurecr.io\": \"acr-nonexistent-helper\"}}";
        File.WriteAllText(path, original);
        var ex = await Assert.ThrowsAsync<EngineException>(() => WriteAsync(Docker(path)));
        Assert.Equal("CredentialHelperNotFound", ex.Reason);
        Assert.Contains("docker-credential-acr-nonexistent-helper", ex.Message);
        Assert.Equal(original, File.ReadAllText(path));
    }

    [Fact]
    public async Task A_symlinked_config_keeps_its_link_and_the_target_is_updated()
    {
        if (OperatingSystem.IsWindows()) return;
        string real = Path.Combine(_dir, "dotfiles-config.json");
        File.WriteAllText(real, "{\"auths\": {}}");
        string link = Path.Combine(_dir, "config.json");
        File.CreateSymbolicLink(link, real);

        await WriteAsync(Docker(link));

        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal("00000000-0000-0000-0000-000000000000:" + Refresh, AuthOf(File.ReadAllBytes(real), Server));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
