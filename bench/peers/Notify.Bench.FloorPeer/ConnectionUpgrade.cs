using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;

/// <summary>
/// A Kestrel connection middleware that upgrades a WebSocket request for one path itself: it peeks at the
/// first request head on the connection, and when it is <c>GET {path}</c> with <c>Upgrade: websocket</c> it
/// answers 101 and hands a <see cref="WebSocket"/> made on the connection's own pipes to the server code.
/// Anything else (another path, a plain request, a malformed head) is passed to HTTP untouched.
/// </summary>
internal static class ConnectionUpgrade
{
    private const int MaxHead = 8192;
    private static readonly byte[] EndOfHead = "\r\n\r\n"u8.ToArray();

    public static async Task RunAsync(ConnectionContext connection, ConnectionDelegate next, string path, Func<WebSocket, CancellationToken, Task> serve)
    {
        var input = connection.Transport.Input;
        string? key;
        while (true)
        {
            var read = await input.ReadAsync();
            var buffer = read.Buffer;
            var end = Find(buffer);
            if (end is null && !read.IsCompleted && buffer.Length < MaxHead)
            {
                // Not a whole head yet: nothing consumed, everything looked at.
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            key = end is { } head ? UpgradeKey(Encoding.ASCII.GetString(buffer.Slice(0, head)), path) : null;
            if (key is null || end is not { } consumed)
            {
                // Not ours: HTTP reads the same bytes again from the start.
                input.AdvanceTo(buffer.Start, buffer.Start);
                await next(connection);
                return;
            }
            input.AdvanceTo(consumed);
            break;
        }

        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n"));
        using var socket = WebSocket.CreateFromStream(new DuplexPipeStream(connection.Transport), new WebSocketCreationOptions
        {
            IsServer = true,
            KeepAliveInterval = TimeSpan.Zero,
        });
        await serve(socket, connection.ConnectionClosed);
    }

    /// <summary>Where the request head ends (after its blank line); null when it has not all arrived.</summary>
    private static SequencePosition? Find(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, EndOfHead) ? reader.Position : null;
    }

    /// <summary>The client's Sec-WebSocket-Key when <paramref name="head"/> asks to upgrade <paramref name="path"/>; else null.</summary>
    private static string? UpgradeKey(string head, string path)
    {
        var lines = head.Split("\r\n");
        var request = lines[0].Split(' ');
        if (request.Length != 3 || request[0] != "GET" || request[1].Split('?')[0] != path)
        {
            return null;
        }
        string? key = null;
        var upgrade = false;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
            {
                upgrade = value.Equals("websocket", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))
            {
                key = value;
            }
        }
        return upgrade ? key : null;
    }

    /// <summary>The connection's two pipes as one stream, for <see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>.</summary>
    private sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
    {
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            var read = await pipe.Input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (destination.IsEmpty)
            {
                // A zero-byte read: wait for data without taking any of it (and without holding a buffer).
                pipe.Input.AdvanceTo(buffer.Start);
                return 0;
            }
            var count = (int)Math.Min(buffer.Length, destination.Length);
            buffer.Slice(0, count).CopyTo(destination.Span);
            pipe.Input.AdvanceTo(buffer.GetPosition(count));
            return count;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) =>
            await pipe.Output.WriteAsync(source, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                pipe.Input.Complete();
                pipe.Output.Complete();
            }
            base.Dispose(disposing);
        }
    }
}
