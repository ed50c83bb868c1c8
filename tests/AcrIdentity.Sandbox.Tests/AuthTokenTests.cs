using System.Text;
using System.Text.Json.Nodes;
using AcrIdentity.Sandbox.Auth;
using AcrIdentity.Sandbox.Certificates;

namespace AcrIdentity.Sandbox.Tests;

public sealed class AuthTokenTests : IClassFixture<AuthCertificates>
{
    const string Tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    readonly TokenService _tokens;
    static readonly DirectoryPrincipal App = new("0b3c7c3e-0000-4000-8000-000000000001", "2d1a6f1e-0000-4000-8000-000000000002",
        PrincipalKind.ServicePrincipal, "ci");

    public AuthTokenTests(AuthCertificates certs) => _tokens = new TokenService(new JwtSigner(certs.Certs.Signing), Tenant);

    [Fact]
    public void Issued_token_carries_the_callers_ids_and_validates_for_ARM()
    {
        var (token, exp) = _tokens.Issue(App, TokenService.AudienceFromScope("https://management.core.windows.net//.default"));
        var claims = Claims(token);
        Assert.Equal(App.ObjectId, (string?)claims["oid"]);
        Assert.Equal(App.ClientId, (string?)claims["appid"]);
        Assert.Equal(Tenant, (string?)claims["tid"]);
        Assert.Equal("https://management.core.windows.net/", (string?)claims["aud"]);
        Assert.Equal($"https://sts.windows.net/{Tenant}/", (string?)claims["iss"]);
        Assert.Equal(exp.ToUnixTimeSeconds(), (long)claims["exp"]!);
        var header = JsonNode.Parse(JwtSigner.FromBase64Url(token.Split('.')[0]))!;
        Assert.Equal("RS256", (string?)header["alg"]);

        var check = _tokens.ValidateArmRequest("Bearer " + token);
        Assert.True(check.Ok, check.Message);
        Assert.Equal(App.ObjectId, check.Caller!.ObjectId);
    }

    [Fact]
    public void ARM_check_refuses_missing_tampered_and_wrong_audience_tokens_with_ARMs_codes()
    {
        Assert.Equal("AuthenticationFailed", _tokens.ValidateArmRequest(null).Code);
        var (token, _) = _tokens.Issue(App, "https://management.azure.com");
        var parts = token.Split('.');
        var body = JsonNode.Parse(JwtSigner.FromBase64Url(parts[1]))!.AsObject();
        body["oid"] = Guid.NewGuid().ToString();
        var forged = parts[0] + "." + JwtSigner.Base64Url(Encoding.UTF8.GetBytes(body.ToJsonString())) + "." + parts[2];
        Assert.Equal("InvalidAuthenticationToken", _tokens.ValidateArmRequest("Bearer " + forged).Code);

        var (vault, _) = _tokens.Issue(App, "https://vault.azure.net");
        var wrong = _tokens.ValidateArmRequest("Bearer " + vault);
        Assert.Equal("InvalidAuthenticationTokenAudience", wrong.Code);
        Assert.Contains("https://vault.azure.net", wrong.Message);
    }

    [Fact]
    public void Expired_token_is_refused_as_expired()
    {
        var claims = new JsonObject
        {
            ["aud"] = "https://management.azure.com/", ["iss"] = _tokens.Issuer, ["oid"] = App.ObjectId, ["tid"] = Tenant,
            ["exp"] = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds(),
        };
        var token = _tokens.Signer.Sign(claims);
        Assert.Equal("ExpiredAuthenticationToken", _tokens.ValidateArmRequest("Bearer " + token).Code);
    }

    [Fact]
    public void Token_signed_by_another_key_is_refused()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var req = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=other", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var other = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var foreign = new TokenService(new JwtSigner(other), Tenant).Issue(App, "https://management.azure.com/").Token;
        Assert.Equal("InvalidAuthenticationToken", _tokens.ValidateArmRequest("Bearer " + foreign).Code);
    }

    [Theory]
    [InlineData("https://management.core.windows.net//.default", "https://management.core.windows.net/")]
    [InlineData("https://management.azure.com/.default", "https://management.azure.com")]
    [InlineData("https://management.azure.com", "https://management.azure.com")]
    [InlineData("https://containerregistry.azure.net/.default", "https://containerregistry.azure.net")]
    public void Scope_maps_to_audience(string scope, string audience) =>
        Assert.Equal(audience, TokenService.AudienceFromScope(scope));

    [Fact]
    public void CA_directory_is_reused_and_bundle_holds_system_and_sandbox_CAs()
    {
        var dir = Path.Combine(Path.GetTempPath(), "acrid-ca-" + Guid.NewGuid().ToString("N"));
        try
        {
            string thumb;
            using (var a = SandboxCertificates.LoadOrCreate(dir)) thumb = a.Ca.Thumbprint;
            using var b = SandboxCertificates.LoadOrCreate(dir);
            Assert.Equal(thumb, b.Ca.Thumbprint);
            Assert.True(File.Exists(Path.Combine(dir, "ca.crt")) && File.Exists(Path.Combine(dir, "ca.key")));
            var bundle = File.ReadAllText(b.CaBundlePath);
            Assert.Contains(b.Ca.ExportCertificatePem(), bundle);
            if (File.Exists("/etc/ssl/certs/ca-certificates.crt"))
                Assert.True(bundle.Split("BEGIN CERTIFICATE").Length > 3, "system CAs missing from the bundle");
            // The TLS leaf chains to the CA and names 127.0.0.1.
            using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
            chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(b.Ca);
            chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
            Assert.True(chain.Build(b.Tls));
            Assert.True(b.Tls.MatchesHostname("127.0.0.1"));
            Assert.True(b.Tls.MatchesHostname("localhost"));
        }
        finally { Directory.Delete(dir, true); }
    }

    static JsonObject Claims(string jwt) => JsonNode.Parse(JwtSigner.FromBase64Url(jwt.Split('.')[1]))!.AsObject();
}

/// <summary>One CA and signing key for the unit tests (made once: RSA key generation is slow).</summary>
public sealed class AuthCertificates : IDisposable
{
    readonly string? _tempDir;

    public AuthCertificates()
    {
        var dir = Environment.GetEnvironmentVariable("ACRIDENTITY_SANDBOX_CA_DIR");
        if (string.IsNullOrEmpty(dir))
        {
            _tempDir = dir = Path.Combine(Path.GetTempPath(), "acrid-ca-" + Guid.NewGuid().ToString("N"));
        }
        Certs = SandboxCertificates.LoadOrCreate(dir);
    }

    public SandboxCertificates Certs { get; }

    public void Dispose()
    {
        Certs.Dispose();
        if (_tempDir is not null) Directory.Delete(_tempDir, true);
    }
}
