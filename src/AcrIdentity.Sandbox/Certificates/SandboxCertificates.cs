using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace AcrIdentity.Sandbox.Certificates;

/// <summary>
/// The sandbox CA (persisted, so clients can trust it before the sandbox starts), a TLS leaf for
/// 127.0.0.1/localhost (fresh per start) and the RSA key that signs every token (persisted beside the CA,
/// so tokens survive a restart and the registries' trust bundle stays valid).
/// </summary>
public sealed class SandboxCertificates : IDisposable
{
    public const string CaCertFile = "ca.crt";
    public const string CaKeyFile = "ca.key";
    public const string CaBundleFile = "ca-bundle.pem";
    public const string SigningCertFile = "token-signing.crt";
    public const string SigningKeyFile = "token-signing.key";
    const string SystemBundle = "/etc/ssl/certs/ca-certificates.crt";

    SandboxCertificates(string caDir, X509Certificate2 ca, X509Certificate2 tls, X509Certificate2 signing)
    {
        CaDir = caDir;
        Ca = ca;
        Tls = tls;
        Signing = signing;
    }

    public string CaDir { get; }
    public X509Certificate2 Ca { get; }
    /// <summary>Server certificate (with key) for every HTTPS listener.</summary>
    public X509Certificate2 Tls { get; }
    /// <summary>RS256 token-signing certificate (with key); its DER goes into each JWT's x5c.</summary>
    public X509Certificate2 Signing { get; }
    public string CaCertPath => Path.Combine(CaDir, CaCertFile);
    public string CaBundlePath => Path.Combine(CaDir, CaBundleFile);
    public string SigningCertPath => Path.Combine(CaDir, SigningCertFile);

    /// <summary>Writes the CA files into <paramref name="caDir"/> if they are missing; reuses them otherwise.</summary>
    public static SandboxCertificates LoadOrCreate(string caDir)
    {
        Directory.CreateDirectory(caDir);
        var ca = LoadOrCreateCa(caDir);
        var signing = LoadOrCreateSigning(caDir, ca);
        EnsureBundle(caDir, ca);
        var tls = CreateTlsLeaf(ca);
        return new SandboxCertificates(caDir, ca, tls, signing);
    }

    static X509Certificate2 LoadOrCreateCa(string caDir)
    {
        string crt = Path.Combine(caDir, CaCertFile), key = Path.Combine(caDir, CaKeyFile);
        if (File.Exists(crt) && File.Exists(key))
            return X509Certificate2.CreateFromPemFile(crt, key);

        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=AcrIdentity Sandbox CA, O=AcrIdentity", ecdsa, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var ca = req.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        // Key before certificate, each by rename: a concurrent reader sees either nothing or whole files.
        WriteAtomic(key, ecdsa.ExportPkcs8PrivateKeyPem());
        WriteAtomic(crt, ca.ExportCertificatePem());
        return X509Certificate2.CreateFromPemFile(crt, key);
    }

    static X509Certificate2 LoadOrCreateSigning(string caDir, X509Certificate2 ca)
    {
        string crt = Path.Combine(caDir, SigningCertFile), key = Path.Combine(caDir, SigningKeyFile);
        if (File.Exists(crt) && File.Exists(key))
        {
            var existing = X509Certificate2.CreateFromPemFile(crt, key);
            if (existing.Issuer == ca.Subject) return existing;   // a CA regenerated since: reissue
            existing.Dispose();
        }
        using var rsa = RSA.Create(2048);
        var req = new CertificateRequest("CN=AcrIdentity Sandbox token signing", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var now = DateTimeOffset.UtcNow;
        // An RSA key under the ECDSA CA: sign with the CA's key explicitly.
        using var caKey = ca.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the sandbox CA has no ECDSA private key");
        using var issued = req.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddDays(-1), now.AddYears(5), RandomSerial());
        WriteAtomic(key, rsa.ExportPkcs8PrivateKeyPem());
        WriteAtomic(crt, issued.ExportCertificatePem());
        return X509Certificate2.CreateFromPemFile(crt, key);
    }

    static void EnsureBundle(string caDir, X509Certificate2 ca)
    {
        var path = Path.Combine(caDir, CaBundleFile);
        var caPem = ca.ExportCertificatePem();
        if (File.Exists(path) && File.ReadAllText(path).Contains(caPem, StringComparison.Ordinal)) return;
        var sb = new StringBuilder();
        if (File.Exists(SystemBundle)) sb.Append(File.ReadAllText(SystemBundle)).Append('\n');
        sb.Append("# AcrIdentity Sandbox CA\n").Append(caPem).Append('\n');
        WriteAtomic(path, sb.ToString());
    }

    static X509Certificate2 CreateTlsLeaf(X509Certificate2 ca)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        san.AddDnsName("localhost");
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        var now = DateTimeOffset.UtcNow;
        using var pub = req.Create(ca, now.AddHours(-1), now.AddDays(30), RandomSerial());
        using var withKey = pub.CopyWithPrivateKey(key);
        // Round trip through PKCS#12 so Kestrel's SslStream gets a key it can use on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    static byte[] RandomSerial() => RandomNumberGenerator.GetBytes(16);

    static void WriteAtomic(string path, string content)
    {
        var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(tmp, content);
        if (path.EndsWith(".key", StringComparison.Ordinal) && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Tls.Dispose();
        Signing.Dispose();
    }
}
