// Bytes on the wire and server CPU per delivered notification frame over a loopback WebSocket, with
// permessage-deflate off, on with context takeover, and on without it (the accept options Notify.Realtime uses).
// Bounded: N frames per mode (argument 1, default 20,000). Usage: dotnet run -c Release -- [frames]
using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using Notify.Core.Json;
using Notify.Core.Notifications;

var frames = args.Length > 0 ? int.Parse(args[0]) : 20_000;
var notifications = Enumerable.Range(0, 64).Select(i => Frames.Serialize("notification", new Notification
{
    Id = $"01JCOMPRESSBENCH{i:D10}",
    UserId = "bench-user",
    Type = i % 2 == 0 ? "build" : "comment",
    Title = i % 2 == 0 ? $"Build #{1000 + i} finished" : $"New comment on issue {i}",
    Content = i % 2 == 0 ? $"All {200 + i} tests passed on main in {3 + i % 5} min." : "Looks good to me, one nit about the retry backoff.",
    Link = $"https://ci.example.test/builds/{1000 + i}",
    CreatedAt = DateTimeOffset.UnixEpoch.AddDays(20_000).AddSeconds(i),
})).ToArray();

Console.WriteLine($"| mode | frames | avg frame JSON (bytes) | bytes on the wire per frame | CPU per frame, server and client in one process (µs) |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var (name, offer, takeover) in new[] { ("off", false, true), ("deflate, context takeover", true, true), ("deflate, no context takeover", true, false) })
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    builder.Logging.ClearProviders();
    await using var app = builder.Build();
    app.UseWebSockets();
    var cpu = TimeSpan.Zero;
    app.Map("/ws", async context =>
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            DangerousEnableCompression = true,
            DisableServerContextTakeover = !takeover,
        });
        var start = Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < frames; i++)
        {
            await socket.SendAsync(notifications[i % notifications.Length], WebSocketMessageType.Text, true, context.RequestAborted);
        }
        cpu = Process.GetCurrentProcess().TotalProcessorTime - start;
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
    });
    await app.StartAsync();
    var address = app.Urls.First().Replace("http", "ws", StringComparison.Ordinal);

    long wire = 0;
    using var handler = new SocketsHttpHandler
    {
        ConnectCallback = async (ctx, ct) =>
        {
            var s = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await s.ConnectAsync(ctx.DnsEndPoint, ct);
            return new CountingStream(new NetworkStream(s, ownsSocket: true), n => Interlocked.Add(ref wire, n));
        },
    };
    using var client = new ClientWebSocket();
    if (offer)
    {
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
    }
    await client.ConnectAsync(new Uri(address + "/ws"), new HttpMessageInvoker(handler), CancellationToken.None);
    var buffer = new byte[64 * 1024];
    var received = 0;
    while (true)
    {
        var result = await client.ReceiveAsync(buffer, CancellationToken.None);
        if (result.MessageType == WebSocketMessageType.Close)
        {
            break;
        }
        if (result.EndOfMessage)
        {
            received++;
        }
    }
    if (received != frames)
    {
        throw new InvalidOperationException($"{name}: received {received} of {frames}");
    }
    var json = notifications.Average(n => n.Length);
    Console.WriteLine($"| {name} | {frames} | {json:F0} | {(double)wire / frames:F1} | {cpu.TotalMilliseconds * 1000 / frames:F2} |");
    await app.StopAsync();
}

/// <summary>Counts bytes read from the server (the client's receive side of the TCP stream).</summary>
internal sealed class CountingStream(Stream inner, Action<int> counted) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) { var n = inner.Read(buffer, offset, count); counted(n); return n; }
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        counted(n);
        return n;
    }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
