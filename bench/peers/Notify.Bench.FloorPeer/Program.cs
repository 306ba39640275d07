// The floor the Realtime benchmark measures against: bare Kestrel WebSockets, no framework on top.
// Each connection has one bounded Channel drained by one writer loop; a broadcast serializes its frame
// once and offers the same bytes to every channel (a full channel aborts that connection). Reads wait
// with a zero-byte read, so an idle connection holds no receive buffer. One timer sends a heartbeat
// frame to every connection every 10 s (as Notify.Realtime does by default for WebSockets).
// Clients connect to /ws?user=<id>; POST /broadcast pushes {"type":"message","data":<body>}.
// With FLOOR_UPGRADE=connection the WebSocket upgrade of /ws is recognised by a Kestrel connection
// middleware before HTTP sees the connection (ConnectionUpgrade.cs): the socket then runs on the
// connection's own pipes, with no HttpContext, request features or upgrade stream behind it; every other
// request goes to HTTP as before.
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var connections = new ConcurrentDictionary<long, Channel<byte[]>>();
long nextId = 0;
var connected = Encoding.UTF8.GetBytes("{\"type\":\"connected\"}");
var heartbeat = Encoding.UTF8.GetBytes("{\"type\":\"heartbeat\"}");
var upgradeOnConnection = Environment.GetEnvironmentVariable("FLOOR_UPGRADE") == "connection";
if (upgradeOnConnection)
{
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
        listen.Use(next => connection => ConnectionUpgrade.RunAsync(connection, next, "/ws", ServeAsync))));
}
var app = builder.Build();
using var heartbeats = new Timer(_ => Offer(heartbeat), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));

app.UseWebSockets();
app.MapGet("/alive", () => "ok");
// The benchmark reads the GC's work before and after each broadcast burst: collections per generation, total pause.
app.MapGet("/gc", () => FormattableString.Invariant($"{GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)} {GC.GetTotalPauseDuration().TotalMilliseconds:F1}"));
app.Map("/ws", async (HttpContext context) =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        return Results.BadRequest();
    }
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    await ServeAsync(socket, context.RequestAborted);
    return Results.Empty;
});

// One connection's life, whichever way it was upgraded.
async Task ServeAsync(WebSocket socket, CancellationToken aborted)
{
    var queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(256) { SingleReader = true });
    var id = Interlocked.Increment(ref nextId);
    queue.Writer.TryWrite(connected);
    connections[id] = queue;
    var writer = WriteAsync(socket, queue.Reader);
    try
    {
        while (true)
        {
            var result = await socket.ReceiveAsync(Memory<byte>.Empty, aborted);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                break;
            }
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1024);
            try
            {
                while (!result.EndOfMessage)
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(), aborted);
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
    {
    }
    finally
    {
        connections.TryRemove(id, out _);
        queue.Writer.TryComplete();
    }
    await writer;
}

app.MapPost("/broadcast", async (HttpRequest request, CancellationToken cancellationToken) =>
{
    var body = await new StreamReader(request.Body).ReadToEndAsync(cancellationToken);
    Offer(Encoding.UTF8.GetBytes("{\"type\":\"message\",\"data\":" + body + "}"));
    return Results.NoContent();
});
app.Run();

void Offer(byte[] frame)
{
    foreach (var (_, queue) in connections)
    {
        if (!queue.Writer.TryWrite(frame))
        {
            queue.Writer.TryComplete();
        }
    }
}

static async Task WriteAsync(WebSocket socket, ChannelReader<byte[]> frames)
{
    try
    {
        await foreach (var frame in frames.ReadAllAsync())
        {
            await socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        if (socket.State == WebSocketState.Open)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }
    }
    catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
    {
    }
}
