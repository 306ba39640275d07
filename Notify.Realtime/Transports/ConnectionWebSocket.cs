using System.Buffers;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Notify.Realtime.Sessions;

namespace Notify.Realtime.Transports;

/// <summary>
/// A WebSocket upgraded on the connection itself (<see cref="DirectWebSocketUpgrade"/>): it answers the
/// handshake, then serves as the socket's stream over the connection's two pipes. Reads may be zero-byte
/// reads (an idle socket waits for data without holding a buffer).
/// </summary>
internal sealed class ConnectionWebSocket(ConnectionContext connection, UpgradeRequest request, DirectAnswers answers) : Stream, IWebSocketUpgrade
{
    private UpgradeRequest? _request = request;
    private bool _answered;
    private volatile bool _disposed;

    public async Task<WebSocket> AcceptAsync()
    {
        var upgrade = _request ?? throw new InvalidOperationException("The upgrade was answered already.");
        // Only the handshake needs the request's head; the socket lives for hours without it.
        _request = null;
        _answered = true;
        await connection.Transport.Output.WriteAsync(answers.SwitchingProtocols(upgrade.Key, upgrade.Extensions));
        return WebSocket.CreateFromStream(this, new WebSocketCreationOptions
        {
            IsServer = true,
            // Heartbeats are frames of our own (as in CompressionOptions.ToAcceptContext).
            KeepAliveInterval = TimeSpan.Zero,
            DangerousDeflateOptions = upgrade.Deflate,
        });
    }

    public async Task RefuseAsync(Refusal refusal)
    {
        if (_answered || connection.ConnectionClosed.IsCancellationRequested)
        {
            return;
        }
        _answered = true;
        _request = null;
        // The answer ends the connection (Connection: close); Kestrel closes it once the stream is done.
        await connection.Transport.Output.WriteAsync(refusal == Refusal.InstanceFull ? answers.InstanceFull() : answers.SetupFailed());
    }

    void IWebSocketUpgrade.Abort() => connection.Abort(new ConnectionAbortedException("The WebSocket stream was aborted."));

    /// <summary>The socket's abort disposes this stream, which cancels the pending pipe read.</summary>
    public bool AbortEndsReceive => true;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        var input = connection.Transport.Input;
        var read = await input.ReadAsync(cancellationToken);
        var buffer = read.Buffer;
        if (read.IsCanceled || _disposed)
        {
            input.AdvanceTo(buffer.Start);
            throw new ObjectDisposedException(nameof(ConnectionWebSocket));
        }
        if (destination.IsEmpty || buffer.IsEmpty)
        {
            // A zero-byte read (data has arrived; none taken), or the end of the connection.
            input.AdvanceTo(buffer.Start);
            return 0;
        }
        var count = (int)Math.Min(buffer.Length, destination.Length);
        buffer.Slice(0, count).CopyTo(destination.Span);
        input.AdvanceTo(buffer.GetPosition(count));
        return count;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        var flushed = await connection.Transport.Output.WriteAsync(source, cancellationToken);
        if (flushed.IsCanceled || _disposed)
        {
            throw new ObjectDisposedException(nameof(ConnectionWebSocket));
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>
    /// The socket is done with the stream (closed, or aborted): a read or write still waiting on the pipes
    /// ends now. The pipes themselves are Kestrel's, completed when the connection ends.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            connection.Transport.Input.CancelPendingRead();
            connection.Transport.Output.CancelPendingFlush();
        }
        base.Dispose(disposing);
    }
}
