using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Registry;

/// <summary>
/// Pushes a tiny but valid image (config + one gzip layer + Docker schema2 manifest) over the registry HTTP
/// API, so scenario images exist without docker. The layer holds one file naming the image.
/// </summary>
public static class ImageSeeder
{
    public const string ManifestMediaType = "application/vnd.docker.distribution.manifest.v2+json";

    public static async Task PushAsync(HttpClient client, string baseUrl, string bearer, string repository, string tag, CancellationToken ct)
    {
        var layer = Gzip(TarWithOneFile("hello.txt", Encoding.UTF8.GetBytes($"{repository}:{tag} from the AcrIdentity sandbox\n")));
        var diffId = "sha256:" + Hex(SHA256.HashData(Ungzip(layer)));
        var config = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Cmd"] = new JsonArray("/hello") },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(diffId) },
            ["history"] = new JsonArray(new JsonObject { ["created_by"] = "AcrIdentity sandbox seed" }),
        }.ToJsonString());
        var layerDigest = await PushBlobAsync(client, baseUrl, bearer, repository, layer, ct).ConfigureAwait(false);
        var configDigest = await PushBlobAsync(client, baseUrl, bearer, repository, config, ct).ConfigureAwait(false);
        var manifest = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestMediaType,
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.docker.container.image.v1+json", ["size"] = config.Length, ["digest"] = configDigest },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar.gzip", ["size"] = layer.Length, ["digest"] = layerDigest }),
        }.ToJsonString());
        using var put = new HttpRequestMessage(HttpMethod.Put, $"{baseUrl}/v2/{repository}/manifests/{tag}") { Content = new ByteArrayContent(manifest) };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue(ManifestMediaType);
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var r = await client.SendAsync(put, ct).ConfigureAwait(false);
        if (r.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"seeding {repository}:{tag}: manifest PUT answered {(int)r.StatusCode}");
    }

    static async Task<string> PushBlobAsync(HttpClient client, string baseUrl, string bearer, string repository, byte[] blob, CancellationToken ct)
    {
        var digest = "sha256:" + Hex(SHA256.HashData(blob));
        // Monolithic upload: POST for a session, then PUT the whole blob with its digest.
        using var start = new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/v2/{repository}/blobs/uploads/");
        start.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var s = await client.SendAsync(start, ct).ConfigureAwait(false);
        if (s.StatusCode != HttpStatusCode.Accepted || s.Headers.Location is null)
            throw new InvalidOperationException($"seeding {repository}: blob upload start answered {(int)s.StatusCode}");
        var location = s.Headers.Location.IsAbsoluteUri ? s.Headers.Location : new Uri(new Uri(baseUrl), s.Headers.Location);
        var sep = location.Query.Length > 0 ? "&" : "?";
        using var put = new HttpRequestMessage(HttpMethod.Put, location + sep + "digest=" + Uri.EscapeDataString(digest)) { Content = new ByteArrayContent(blob) };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var p = await client.SendAsync(put, ct).ConfigureAwait(false);
        if (p.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"seeding {repository}: blob PUT answered {(int)p.StatusCode}");
        return digest;
    }

    /// <summary>A ustar archive with one regular file (header, data padded to 512, two zero blocks).</summary>
    static byte[] TarWithOneFile(string name, byte[] content)
    {
        using var ms = new MemoryStream();
        using (var w = new System.Formats.Tar.TarWriter(ms, System.Formats.Tar.TarEntryFormat.Ustar, leaveOpen: true))
        {
            var e = new System.Formats.Tar.UstarTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name)
            {
                DataStream = new MemoryStream(content),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                ModificationTime = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero),
            };
            w.WriteEntry(e);
        }
        return ms.ToArray();
    }

    static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    static byte[] Ungzip(byte[] data)
    {
        using var ms = new MemoryStream(data);
        using var gz = new GZipStream(ms, CompressionMode.Decompress);
        using var o = new MemoryStream();
        gz.CopyTo(o);
        return o.ToArray();
    }

    static string Hex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();
}
