using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Notify.Core.Push;

namespace Notify.Tests.Push;

/// <summary>
/// A push service on loopback (Kestrel), as browsers' push services behave for the Worker: it checks
/// every request's VAPID authorization (RFC 8292: ES256 JWT signed by the configured key, <c>aud</c> = the
/// endpoint's origin, <c>exp</c> in the future and within 24 h, <c>sub</c>), decrypts the body per RFC 8291
/// (aes128gcm) with the keys of the browser it simulates, and answers the status codes a test scripts.
/// </summary>
internal sealed class LocalPushService : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Browser> _browsers = new();

    private LocalPushService(WebApplication app) => _app = app;

    /// <summary>The VAPID key pair the application server must sign with.</summary>
    public (string Public, string Private) Vapid { get; } = NewVapidPair();

    public string Origin { get; private set; } = "";

    public static async Task<LocalPushService> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var service = new LocalPushService(app);
        app.MapPost("/push/{id}", (string id, HttpContext context) => service.ReceiveAsync(id, context));
        await app.StartAsync(TestContext.Current.CancellationToken);
        service.Origin = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        return service;
    }

    /// <summary>A new simulated browser: its endpoint on this service and its RFC 8291 keys.</summary>
    public Browser NewBrowser(params int[] answers)
    {
        var browser = new Browser(Origin + "/push/" + Guid.NewGuid().ToString("N"), answers);
        _browsers[browser.Endpoint[(Origin.Length + "/push/".Length)..]] = browser;
        return browser;
    }

    private async Task<IResult> ReceiveAsync(string id, HttpContext context)
    {
        if (!_browsers.TryGetValue(id, out var browser))
        {
            return Results.NotFound();
        }
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var received = new Received(browser.Stopwatch.Elapsed);
        try
        {
            received.Subject = VerifyVapid(context.Request.Headers.Authorization.ToString());
            if (context.Request.Headers.ContentEncoding.ToString() != "aes128gcm")
            {
                throw new InvalidOperationException("Content-Encoding is not aes128gcm.");
            }
            received.Ttl = int.Parse(context.Request.Headers["TTL"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            received.Payload = browser.Decrypt(body.ToArray());
        }
        catch (Exception ex) when (ex is InvalidOperationException or CryptographicException or FormatException or JsonException or KeyNotFoundException)
        {
            received.Error = ex.Message;
            browser.Requests.Enqueue(received);
            return Results.BadRequest(ex.Message);
        }
        browser.Requests.Enqueue(received);
        var answer = browser.NextAnswer();
        if (answer == StatusCodes.Status429TooManyRequests)
        {
            context.Response.Headers.RetryAfter = "1";
        }
        return Results.StatusCode(answer);
    }

    /// <summary>Checks <c>Authorization: vapid t=&lt;jwt&gt;, k=&lt;public key&gt;</c>; returns the JWT's <c>sub</c>.</summary>
    private string VerifyVapid(string authorization)
    {
        if (!authorization.StartsWith("vapid ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("Authorization is not the vapid scheme: " + authorization.Split(' ')[0]);
        }
        var parameters = authorization["vapid ".Length..].Split(',', StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        if (parameters["k"] != Vapid.Public)
        {
            throw new InvalidOperationException("k is not the application server's public key.");
        }
        var parts = parameters["t"].Split('.');
        using var key = ECDsa.Create(PublicParameters(Base64Url.Decode(parameters["k"])));
        if (!key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.Decode(parts[2]), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw new InvalidOperationException("The VAPID JWT signature does not verify.");
        }
        using var header = JsonDocument.Parse(Base64Url.Decode(parts[0]));
        if (header.RootElement.GetProperty("alg").GetString() != "ES256")
        {
            throw new InvalidOperationException("The VAPID JWT is not ES256.");
        }
        using var claims = JsonDocument.Parse(Base64Url.Decode(parts[1]));
        if (claims.RootElement.GetProperty("aud").GetString() != Origin)
        {
            throw new InvalidOperationException($"aud {claims.RootElement.GetProperty("aud").GetString()} is not the endpoint's origin {Origin}.");
        }
        var exp = DateTimeOffset.FromUnixTimeSeconds(claims.RootElement.GetProperty("exp").GetInt64());
        var now = TimeProvider.System.GetUtcNow();
        if (exp <= now || exp > now.AddHours(24))
        {
            throw new InvalidOperationException("exp is not within the next 24 hours.");
        }
        return claims.RootElement.GetProperty("sub").GetString()!;
    }

    internal static ECParameters PublicParameters(byte[] point) => new()
    {
        Curve = ECCurve.NamedCurves.nistP256,
        Q = new ECPoint { X = point[1..33], Y = point[33..65] },
    };

    private static (string, string) NewVapidPair()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = key.ExportParameters(includePrivateParameters: true);
        return (Base64Url.Encode([4, .. p.Q.X!, .. p.Q.Y!]), Base64Url.Encode(p.D));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        foreach (var browser in _browsers.Values)
        {
            browser.Dispose();
        }
    }

    /// <summary>One request as the service saw it.</summary>
    internal sealed record Received(TimeSpan At)
    {
        public string? Subject { get; set; }
        public int Ttl { get; set; }
        public string? Payload { get; set; }
        public string? Error { get; set; }
    }

    /// <summary>A browser's subscription: endpoint, P-256 key pair (p256dh), auth secret; the answers its endpoint gives in turn (then 201).</summary>
    internal sealed class Browser : IDisposable
    {
        private readonly ECDiffieHellman _key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        private readonly byte[] _auth = RandomNumberGenerator.GetBytes(16);
        private readonly ConcurrentQueue<int> _answers;

        public Browser(string endpoint, int[] answers)
        {
            Endpoint = endpoint;
            _answers = new ConcurrentQueue<int>(answers);
            var q = _key.ExportParameters(false).Q;
            PublicKey = [4, .. q.X!, .. q.Y!];
        }

        public string Endpoint { get; }
        public byte[] PublicKey { get; }
        public string P256dh => Base64Url.Encode(PublicKey);
        public string Auth => Base64Url.Encode(_auth);
        public Stopwatch Stopwatch { get; } = Stopwatch.StartNew();
        public ConcurrentQueue<Received> Requests { get; } = new();

        public int NextAnswer() => _answers.TryDequeue(out var answer) ? answer : StatusCodes.Status201Created;

        /// <summary>RFC 8291 §3.4 and RFC 8188: the plaintext of a single-record aes128gcm body.</summary>
        public string Decrypt(byte[] body)
        {
            var salt = body[..16];
            var recordSize = (body[16] << 24) | (body[17] << 16) | (body[18] << 8) | body[19];
            var idLength = body[20];
            var serverPublic = body[21..(21 + idLength)];
            var record = body[(21 + idLength)..];
            if (idLength != 65 || record.Length > recordSize)
            {
                throw new InvalidOperationException($"Unexpected header: keyid {idLength} bytes, record {record.Length} of {recordSize}.");
            }
            using var server = ECDiffieHellman.Create(PublicParameters(serverPublic));
            var ecdhSecret = _key.DeriveRawSecretAgreement(server.PublicKey);
            var prkKey = HKDF.Extract(HashAlgorithmName.SHA256, ecdhSecret, _auth);
            byte[] keyInfo = [.. "WebPush: info\0"u8, .. PublicKey, .. serverPublic];
            var ikm = HKDF.Expand(HashAlgorithmName.SHA256, prkKey, 32, keyInfo);
            var prk = HKDF.Extract(HashAlgorithmName.SHA256, ikm, salt);
            var cek = HKDF.Expand(HashAlgorithmName.SHA256, prk, 16, "Content-Encoding: aes128gcm\0"u8.ToArray());
            var nonce = HKDF.Expand(HashAlgorithmName.SHA256, prk, 12, "Content-Encoding: nonce\0"u8.ToArray());
            var plain = new byte[record.Length - 16];
            using (var gcm = new AesGcm(cek, 16))
            {
                gcm.Decrypt(nonce, record[..^16], record[^16..], plain);
            }
            var end = plain.Length - 1;
            while (end >= 0 && plain[end] == 0)
            {
                end--;
            }
            if (end < 0 || plain[end] != 2)
            {
                throw new InvalidOperationException("The last record's padding delimiter (0x02) is missing.");
            }
            return Encoding.UTF8.GetString(plain, 0, end);
        }

        public void Dispose() => _key.Dispose();
    }
}
