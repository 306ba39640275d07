using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Notify.Realtime.Options;

namespace Notify.Realtime.Transports;

/// <summary>
/// A Kestrel connection middleware (<c>Realtime:DirectUpgrade</c>) that answers a WebSocket stream's upgrade on
/// the connection itself. It peeks at the connection's first request head: a WebSocket upgrade of a stream
/// path (<see cref="WebSocketRequestHead"/>) is answered 101 here and runs the same stream code as the request
/// pipeline's (<see cref="WebSocketTransport"/>) on the connection's own pipes, so no request context,
/// header dictionaries or upgrade stream are kept for the socket's lifetime. Anything else (other paths,
/// plain requests, TLS, HTTP/2, a head it does not read as a plain upgrade, or one that takes longer than
/// Kestrel's <c>RequestHeadersTimeout</c> to arrive) goes to HTTP with its bytes unread.
/// </summary>
internal sealed class DirectWebSocketUpgrade(
    ConnectionDelegate next,
    WebSocketTransport transport,
    CompressionOptions compression,
    DirectAnswers answers,
    TimeSpan headTimeout,
    TimeProvider time)
{
    /// <summary>Adds the middleware to <paramref name="listen"/> unless <c>Realtime:DirectUpgrade</c> is off or <c>AllowedHosts</c> restricts hosts.</summary>
    public static void UseOn(ListenOptions listen) => listen.Use(next =>
    {
        var services = listen.ApplicationServices;
        if (!services.GetRequiredService<IOptions<RealtimeOptions>>().Value.DirectUpgrade)
        {
            return next;
        }
        // Host filtering is a request middleware: with a restricted AllowedHosts every request takes the pipeline.
        var hosts = services.GetRequiredService<IOptions<HostFilteringOptions>>().Value.AllowedHosts;
        if (hosts.Count > 0 && !hosts.Contains("*"))
        {
            RealtimeLog.DirectUpgradeOff(services.GetRequiredService<ILogger<DirectWebSocketUpgrade>>(), "AllowedHosts restricts the hosts");
            return next;
        }
        var kestrel = services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        var json = services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        return new DirectWebSocketUpgrade(
            next,
            services.GetRequiredService<WebSocketTransport>(),
            services.GetRequiredService<IOptions<CompressionOptions>>().Value,
            new DirectAnswers(kestrel.AddServerHeader, json, time),
            kestrel.Limits.RequestHeadersTimeout,
            time).OnConnectionAsync;
    });

    private async Task OnConnectionAsync(ConnectionContext connection)
    {
        if (await ReadHeadAsync(connection) is not { } request)
        {
            await next(connection);
            return;
        }
        // The head (token included) is not kept: the stream's parts take what they need and let the rest go.
        await transport.RunAsync(new ConnectionWebSocket(connection, request, answers), request.ToStreamRequest(connection.ConnectionClosed));
    }

    /// <summary>The stream upgrade the connection starts with, its head consumed; null when HTTP takes the connection (nothing consumed).</summary>
    private async Task<UpgradeRequest?> ReadHeadAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var deadline = new CancellationTokenSource(headTimeout, time);
        // At shutdown a connection still waiting for its first request goes to HTTP, which closes it at once.
        using var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested
            .Register(static state => ((CancellationTokenSource)state!).Cancel(), deadline);
        while (true)
        {
            ReadResult read;
            try
            {
                read = await input.ReadAsync(deadline.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // Too slow, shutting down, or the client is gone: HTTP sees the same and answers as it always does.
                return null;
            }
            var buffer = read.Buffer;
            var verdict = WebSocketRequestHead.Read(buffer, compression, out var request, out var end);
            if (verdict == HeadVerdict.Ours)
            {
                input.AdvanceTo(end);
                return request;
            }
            if (verdict == HeadVerdict.NeedMore && !read.IsCompleted)
            {
                // Nothing consumed, everything seen: the next read waits for more bytes.
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            // Nothing consumed or seen: HTTP reads the same bytes from the start.
            input.AdvanceTo(buffer.Start);
            return null;
        }
    }
}

/// <summary>The HTTP/1.1 answers of a direct upgrade, written as Kestrel and ASP.NET Core would write them.</summary>
internal sealed class DirectAnswers(bool serverHeader, JsonSerializerOptions json, TimeProvider time)
{
    private static ReadOnlySpan<byte> WebSocketGuid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    /// <summary>101 with the accept key for <paramref name="key"/> and the negotiated extensions, if any (RFC 6455 §4.2.2).</summary>
    public byte[] SwitchingProtocols(string key, string? extensions)
    {
        Span<byte> keyed = stackalloc byte[key.Length + WebSocketGuid.Length];
        Encoding.ASCII.GetBytes(key, keyed);
        WebSocketGuid.CopyTo(keyed[key.Length..]);
        var head = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n");
        Common(head);
        head.Append("Upgrade: websocket\r\nSec-WebSocket-Accept: ").Append(Convert.ToBase64String(SHA1.HashData(keyed))).Append("\r\n");
        if (extensions is not null)
        {
            head.Append("Sec-WebSocket-Extensions: ").Append(extensions).Append("\r\n");
        }
        return Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
    }

    /// <summary>The 503 of a full instance, with <c>Retry-After</c> (as <see cref="HttpStreamRequest.RefuseInstanceFullAsync"/>).</summary>
    public byte[] InstanceFull() => Unavailable(HttpStreamRequest.InstanceFullDetail, HttpStreamRequest.InstanceFullRetryAfterSeconds);

    /// <summary>The 503 of a stream whose setup failed (as <see cref="HttpStreamRequest.RefuseSetupFailedAsync"/>).</summary>
    public byte[] SetupFailed() => Unavailable(HttpStreamRequest.SetupFailedDetail, null);

    private byte[] Unavailable(string detail, int? retryAfterSeconds)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new ProblemDetails
        {
            Type = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
            Title = "Service Unavailable",
            Status = StatusCodes.Status503ServiceUnavailable,
            Detail = detail,
        }, json);
        var head = new StringBuilder("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/problem+json\r\n");
        Common(head);
        if (retryAfterSeconds is { } seconds)
        {
            head.Append("Retry-After: ").Append(seconds.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }
        head.Append("Content-Length: ").Append(body.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. body];
    }

    private void Common(StringBuilder head)
    {
        head.Append("Date: ").Append(time.GetUtcNow().ToString("r", CultureInfo.InvariantCulture)).Append("\r\n");
        if (serverHeader)
        {
            head.Append("Server: Kestrel\r\n");
        }
    }
}
