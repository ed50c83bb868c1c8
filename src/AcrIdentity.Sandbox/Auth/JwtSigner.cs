using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AcrIdentity.Sandbox.Auth;

/// <summary>RS256 JWTs signed with the sandbox's token-signing certificate (x5c + kid in the header).</summary>
public sealed class JwtSigner
{
    readonly RSA _key;
    readonly RSA _publicKey;
    readonly string _x5c;

    public JwtSigner(X509Certificate2 signing)
    {
        _key = signing.GetRSAPrivateKey() ?? throw new ArgumentException("signing certificate has no RSA private key");
        _publicKey = signing.GetRSAPublicKey()!;
        _x5c = Convert.ToBase64String(signing.RawData);
        KeyId = Base64Url(SHA256.HashData(signing.RawData).AsSpan(0, 16).ToArray());
        Certificate = signing;
    }

    public string KeyId { get; }
    public X509Certificate2 Certificate { get; }

    public string Sign(JsonObject claims)
    {
        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "RS256", ["kid"] = KeyId, ["x5c"] = new JsonArray(_x5c) };
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." +
                           Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var sig = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(sig);
    }

    /// <summary>Claims of a token this sandbox signed, if the signature holds and it has not expired.</summary>
    public JsonObject? Verify(string token, out string? error)
    {
        error = null;
        var parts = token.Split('.');
        if (parts.Length != 3) { error = "malformed token"; return null; }
        try
        {
            var sig = FromBase64Url(parts[2]);
            if (!_publicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), sig,
                    HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            { error = "signature verification failed"; return null; }
            var claims = JsonNode.Parse(FromBase64Url(parts[1])) as JsonObject;
            if (claims is null) { error = "malformed token"; return null; }
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (claims["exp"] is JsonValue exp && exp.TryGetValue(out long e) && e + 60 < now)
            { error = "token has expired"; return null; }
            if (claims["nbf"] is JsonValue nbf && nbf.TryGetValue(out long n) && n - 60 > now)
            { error = "token is not yet valid"; return null; }
            return claims;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or CryptographicException)
        {
            error = "malformed token";
            return null;
        }
    }

    /// <summary>JWKS document for the openid-configuration's jwks_uri.</summary>
    public JsonObject Jwks()
    {
        var p = _publicKey.ExportParameters(false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "RSA", ["use"] = "sig", ["kid"] = KeyId, ["x5t"] = KeyId,
                ["n"] = Base64Url(p.Modulus!), ["e"] = Base64Url(p.Exponent!), ["x5c"] = new JsonArray(_x5c),
            }),
        };
    }

    public static string Base64Url(byte[] data) =>
        Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] FromBase64Url(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}
