using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;

namespace Notify.Bench.Realtime;

/// <summary>
/// One load process: holds its share of WebSocket clients (users u{from}..u{from+count-1}) and answers
/// the orchestrator's line commands on stdin with <c>@</c> lines on stdout.
/// </summary>
internal static class LoadWorker
{
    private static readonly byte RecordSeparator = 0x1e;

    public static async Task<int> RunAsync(string[] args)
    {
        var kind = Arg(args, "--kind");
        var port = int.Parse(Arg(args, "--port"), CultureInfo.InvariantCulture);
        var from = int.Parse(Arg(args, "--from"), CultureInfo.InvariantCulture);
        var count = int.Parse(Arg(args, "--count"), CultureInfo.InvariantCulture);
        var key = Arg(args, "--key");
        var tokens = new NotifyTokens(Options.Create(new AuthOptions { SigningKey = key }), TimeProvider.System);
        var clients = Enumerable.Range(from, count).Select(i => new Client(kind, port, "u" + i.ToString(CultureInfo.InvariantCulture), tokens)).ToArray();
        using var pinger = kind == "signalr" ? new Timer(_ => { foreach (var c in clients) { c.Ping(); } }, null, 10_000, 10_000) : null;

        string? line;
        while ((line = Console.ReadLine()) is not null)
        {
            var parts = line.Split(' ');
            switch (parts[0])
            {
                case "open":
                    {
                        var watch = Stopwatch.StartNew();
                        var results = await OpenAllAsync(clients, 64, lastId: false);
                        Reply($"opened {results.Ok} {results.Failed} {watch.ElapsedMilliseconds}");
                        break;
                    }
                case "keep":
                    {
                        var keep = int.Parse(parts[1], CultureInfo.InvariantCulture);
                        await Task.WhenAll(clients.Skip(keep).Select(c => c.CloseAsync()));
                        clients = clients.Take(keep).ToArray();
                        Reply($"kept {clients.Length}");
                        break;
                    }
                case "hb":
                    Reply($"hb {clients.Count(c => c.Heartbeats > 0)} {clients.Sum(c => (long)c.Heartbeats)} {clients.Count(c => c.IsOpen)}");
                    break;
                case "count":
                    Reply($"count {clients.Sum(c => (long)c.Messages)} {clients.Sum(c => (long)c.Notifications)}");
                    break;
                case "lat":
                    {
                        var all = clients.SelectMany(c => c.TakeLatencies()).ToArray();
                        await File.WriteAllLinesAsync(parts[1], all.Select(v => v.ToString(CultureInfo.InvariantCulture)));
                        Reply($"lat {all.Length}");
                        break;
                    }
                case "reset":
                    foreach (var c in clients)
                    {
                        c.Reset();
                    }
                    Reply("reset");
                    break;
                case "drop":
                    foreach (var c in clients)
                    {
                        c.Abort();
                    }
                    Reply("dropped");
                    break;
                case "reconnect":
                    {
                        // Every client reconnects at once (with last_id) and waits for what it missed.
                        var expect = int.Parse(parts[1], CultureInfo.InvariantCulture);
                        var timeout = TimeSpan.FromSeconds(int.Parse(parts[2], CultureInfo.InvariantCulture));
                        var watch = Stopwatch.StartNew();
                        foreach (var c in clients)
                        {
                            c.Reset();
                        }
                        var results = await OpenAllAsync(clients, 1000, lastId: true);
                        var connectedMs = watch.ElapsedMilliseconds;
                        while (watch.Elapsed < timeout && clients.Any(c => c.Notifications < expect))
                        {
                            await Task.Delay(20);
                        }
                        var caughtUp = clients.Count(c => c.Notifications >= expect);
                        var duplicates = clients.Sum(c => Math.Max(0, c.Notifications - expect));
                        Reply($"reconnected {results.Ok} {results.Failed} {connectedMs} {watch.ElapsedMilliseconds} {caughtUp} {duplicates}");
                        break;
                    }
                case "exit":
                    await Task.WhenAll(clients.Select(c => c.CloseAsync()));
                    Reply("bye");
                    return 0;
            }
        }
        return 0;
    }

    private static async Task<(int Ok, int Failed)> OpenAllAsync(Client[] clients, int concurrency, bool lastId)
    {
        using var gate = new SemaphoreSlim(concurrency);
        var ok = 0;
        var failed = 0;
        await Task.WhenAll(clients.Select(async c =>
        {
            await gate.WaitAsync();
            try
            {
                for (var attempt = 0; attempt < 5; attempt++)
                {
                    if (await c.OpenAsync(lastId))
                    {
                        Interlocked.Increment(ref ok);
                        return;
                    }
                    await Task.Delay(200 * (attempt + 1));
                }
                Interlocked.Increment(ref failed);
            }
            finally
            {
                gate.Release();
            }
        }));
        return (ok, failed);
    }

    private static void Reply(string text)
    {
        Console.Out.WriteLine("@" + text);
        Console.Out.Flush();
    }

    private static string Arg(string[] args, string name) => args[Array.IndexOf(args, name) + 1];

    private sealed class Client(string kind, int port, string user, NotifyTokens tokens)
    {
        /// <summary>One handler for all SSE clients of this process, no limit on its connections.</summary>
        private static readonly HttpClient Sse = new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

        private readonly Lock _gate = new();
        private List<long> _latencies = [];
        private ClientWebSocket? _socket;
        private string? _lastId;
        private CancellationTokenSource? _events;
        private volatile bool _eventsOpen;

        public int Heartbeats;
        public int Messages;
        public int Notifications;

        public bool IsOpen => kind == "notify-sse" ? _eventsOpen : _socket?.State == WebSocketState.Open;

        public async Task<bool> OpenAsync(bool withLastId)
        {
            if (kind == "notify-sse")
            {
                return await OpenEventsAsync(withLastId);
            }
            var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            var uri = kind == "signalr"
                ? $"ws://127.0.0.1:{port}/hub?user={user}"
                : kind.StartsWith("floor", StringComparison.Ordinal)
                ? $"ws://127.0.0.1:{port}/ws?user={user}"
                : $"ws://127.0.0.1:{port}/api/ws/notifications?token={tokens.Issue(user, [], TimeSpan.FromHours(6)).Token}"
                  + (withLastId && _lastId is not null ? "&last_id=" + _lastId : "");
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await socket.ConnectAsync(new Uri(uri), timeout.Token);
                var buffer = new byte[4096];
                if (kind == "signalr")
                {
                    await socket.SendAsync("{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray(), WebSocketMessageType.Text, true, timeout.Token);
                }
                // The first frame (connected / handshake answer) marks the connection as open.
                var first = await socket.ReceiveAsync(buffer, timeout.Token);
                if (first.MessageType == WebSocketMessageType.Close)
                {
                    socket.Dispose();
                    return false;
                }
                _socket = socket;
                _ = ReceiveLoopAsync(socket);
                return true;
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                socket.Dispose();
                return false;
            }
        }

        public void Ping()
        {
            if (_socket is { State: WebSocketState.Open } socket)
            {
                _ = socket.SendAsync("{\"type\":6}\u001e"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None)
                    .ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            }
        }

        public void Abort()
        {
            _events?.Cancel();
            _socket?.Abort();
            _socket?.Dispose();
            _socket = null;
        }

        public async Task CloseAsync()
        {
            _events?.Cancel();
            if (_socket is { State: WebSocketState.Open } socket)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
                {
                }
            }
            _socket?.Dispose();
            _socket = null;
        }

        public void Reset()
        {
            lock (_gate)
            {
                _latencies = [];
            }
            Interlocked.Exchange(ref Messages, 0);
            Interlocked.Exchange(ref Notifications, 0);
        }

        public List<long> TakeLatencies()
        {
            lock (_gate)
            {
                var taken = _latencies;
                _latencies = [];
                return taken;
            }
        }

        /// <summary>An SSE stream of the user's notifications; the <c>connected</c> event marks it open.</summary>
        private async Task<bool> OpenEventsAsync(bool withLastId)
        {
            var url = $"http://127.0.0.1:{port}/api/sse/notifications?token={tokens.Issue(user, [], TimeSpan.FromHours(6)).Token}"
                + (withLastId && _lastId is not null ? "&last_id=" + _lastId : "");
            var events = new CancellationTokenSource();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(events.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                var response = await Sse.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (!response.IsSuccessStatusCode)
                {
                    response.Dispose();
                    events.Dispose();
                    return false;
                }
                var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token), Encoding.UTF8);
                string? type = null;
                while (await reader.ReadLineAsync(timeout.Token) is { } line)
                {
                    if (line.StartsWith("event: ", StringComparison.Ordinal))
                    {
                        type = line[7..];
                    }
                    else if (type == "connected" && line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        _events = events;
                        _eventsOpen = true;
                        _ = EventLoopAsync(response, reader, events.Token);
                        return true;
                    }
                }
                response.Dispose();
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
            }
            events.Dispose();
            return false;
        }

        private async Task EventLoopAsync(HttpResponseMessage response, StreamReader reader, CancellationToken cancellationToken)
        {
            try
            {
                string? type = null;
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    if (line.StartsWith("event: ", StringComparison.Ordinal))
                    {
                        type = line[7..];
                    }
                    else if (type is not null && line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        // As the WebSocket frame of the same event, so one handler counts both.
                        Handle(Encoding.UTF8.GetBytes($"{{\"type\":\"{type}\",\"data\":{line[6..]}}}"), Stopwatch.GetTimestamp());
                        type = null;
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
            finally
            {
                _eventsOpen = false;
                response.Dispose();
            }
        }

        private async Task ReceiveLoopAsync(ClientWebSocket socket)
        {
            var buffer = new ArrayBufferWriter<byte>(4096);
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer.GetMemory(4096), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                    buffer.Advance(result.Count);
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }
                    var now = Stopwatch.GetTimestamp();
                    if (kind == "signalr")
                    {
                        foreach (var record in Split(buffer.WrittenMemory))
                        {
                            Handle(record.Span, now);
                        }
                    }
                    else
                    {
                        Handle(buffer.WrittenSpan, now);
                    }
                    buffer.ResetWrittenCount();
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        private static IEnumerable<ReadOnlyMemory<byte>> Split(ReadOnlyMemory<byte> data)
        {
            var start = 0;
            for (var i = 0; i < data.Length; i++)
            {
                if (data.Span[i] == RecordSeparator)
                {
                    yield return data[start..i];
                    start = i + 1;
                }
            }
        }

        private void Handle(ReadOnlySpan<byte> frame, long now)
        {
            if (frame.StartsWith("{\"type\":\"heartbeat\""u8))
            {
                Interlocked.Increment(ref Heartbeats);
                return;
            }
            if (frame.StartsWith("{\"type\":6"u8))
            {
                Interlocked.Increment(ref Heartbeats);
                return;
            }
            var isNotification = frame.StartsWith("{\"type\":\"notification\""u8);
            var isMessage = frame.StartsWith("{\"type\":\"message\""u8) || frame.StartsWith("{\"type\":1,"u8);
            if (!isNotification && !isMessage)
            {
                return;
            }
            // The sender's Stopwatch timestamp rides in the payload as "bench_t" (same monotonic clock in every process here).
            var at = frame.IndexOf("\"bench_t\":"u8);
            if (at >= 0)
            {
                var rest = frame[(at + 10)..];
                var end = rest.IndexOfAny((byte)',', (byte)'}');
                if (long.TryParse(rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var sent))
                {
                    var micros = (now - sent) * 1_000_000 / Stopwatch.Frequency;
                    lock (_gate)
                    {
                        _latencies.Add(micros);
                    }
                }
            }
            var kindOfNotification = isNotification || frame.IndexOf("\"personal\":true"u8) >= 0;
            if (kindOfNotification)
            {
                if (isNotification)
                {
                    using var document = JsonDocument.Parse(frame.ToArray());
                    _lastId = document.RootElement.GetProperty("data").GetProperty("id").GetString();
                }
                Interlocked.Increment(ref Notifications);
            }
            else
            {
                Interlocked.Increment(ref Messages);
            }
        }
    }

    internal static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
