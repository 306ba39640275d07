using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Notify.Tests.Auth;

/// <summary>
/// A minimal OpenID Connect provider on loopback (Kestrel in the test process): a discovery document and
/// a JWKS whose keys the test can change at any time, and the signing of tokens with those keys.
/// </summary>
internal sealed class OidcProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile IReadOnlyList<SecurityKey> _published = [];
    private int _jwksReads;

    private OidcProvider(WebApplication app) => _app = app;

    /// <summary>The issuer and authority, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Authority { get; private set; } = "";

    /// <summary>How often the JWKS was fetched.</summary>
    public int JwksReads => Volatile.Read(ref _jwksReads);

    public static async Task<OidcProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var provider = new OidcProvider(app);
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = provider.Authority,
            ["jwks_uri"] = provider.Authority + "/jwks",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256", "ES256" },
        }));
        app.MapGet("/jwks", () =>
        {
            Interlocked.Increment(ref provider._jwksReads);
            return Results.Json(new { keys = provider._published.Select(Jwk).ToArray() });
        });
        await app.StartAsync();
        provider.Authority = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        return provider;
    }

    /// <summary>Replaces the published key set.</summary>
    public void Publish(params SecurityKey[] keys) => _published = keys;

    public static RsaSecurityKey NewRsaKey(string kid) => new(RSA.Create(2048)) { KeyId = kid };

    public static ECDsaSecurityKey NewEcKey(string kid) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = kid };

    /// <summary>A token for <paramref name="userId"/> signed with <paramref name="key"/> using <paramref name="algorithm"/>.</summary>
    public string Token(SecurityKey key, string algorithm, string userId, bool admin = false, TimeSpan? lifetime = null, DateTimeOffset? now = null, string? issuer = null)
    {
        var issued = now ?? DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = userId };
        if (admin)
        {
            claims["role"] = new[] { "admin" };
        }
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Authority,
            Audience = "notify",
            Claims = claims,
            IssuedAt = issued.UtcDateTime,
            NotBefore = issued.UtcDateTime,
            Expires = (issued + (lifetime ?? TimeSpan.FromHours(1))).UtcDateTime,
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static Dictionary<string, string> Jwk(SecurityKey key) => key switch
    {
        RsaSecurityKey rsa => Rsa(rsa),
        ECDsaSecurityKey ec => Ec(ec),
        _ => throw new ArgumentOutOfRangeException(nameof(key)),
    };

    private static Dictionary<string, string> Rsa(RsaSecurityKey key)
    {
        var p = key.Rsa.ExportParameters(includePrivateParameters: false);
        return new() { ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = key.KeyId, ["n"] = Base64UrlEncoder.Encode(p.Modulus), ["e"] = Base64UrlEncoder.Encode(p.Exponent) };
    }

    private static Dictionary<string, string> Ec(ECDsaSecurityKey key)
    {
        var p = key.ECDsa.ExportParameters(includePrivateParameters: false);
        return new() { ["kty"] = "EC", ["use"] = "sig", ["alg"] = "ES256", ["crv"] = "P-256", ["kid"] = key.KeyId, ["x"] = Base64UrlEncoder.Encode(p.Q.X), ["y"] = Base64UrlEncoder.Encode(p.Q.Y) };
    }
}
