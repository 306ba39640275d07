using Notify.Realtime.Connections;

namespace Notify.Realtime.Sessions;

/// <summary>
/// The wire of one stream, as <see cref="ConnectionSession"/> uses it: a transport accepts, writes and
/// reads; the session decides everything else (who may connect, when it closes and why). As the
/// connection's <see cref="IFrameWriter"/> it writes the frames its write runs take from the queue.
/// </summary>
internal interface IStreamTransport : IFrameWriter, IDisposable
{
    /// <summary><c>websocket</c> or <c>sse</c>, for the logs.</summary>
    string Name { get; }

    /// <summary>Whether the stream is Server-Sent Events (heartbeats and idle limits are the SSE ones).</summary>
    bool IsSse { get; }

    /// <summary>Takes the stream on (the WebSocket upgrade); called once the instance has room for it.</summary>
    Task AcceptAsync();

    /// <summary>
    /// Turns the stream away before it opened, in the transport's terms (a close code, or an HTTP status with
    /// problem details). Does nothing when the transport can no longer say so. Never throws.
    /// </summary>
    Task RefuseAsync(Refusal refusal);

    /// <summary>
    /// Starts the stream's response for <paramref name="connection"/> (SSE headers); false when the client is
    /// gone already. From then on the client going away closes the connection.
    /// </summary>
    Task<bool> OpenAsync(ClientConnection connection, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the stream once the connection closed and its last write run is over (with the close code of
    /// <see cref="ClientConnection.CloseReason"/> where the transport has one). Returns when
    /// <paramref name="abort"/> is cancelled or the transport fails; never throws.
    /// </summary>
    Task CloseAsync(ClientConnection connection, CancellationToken abort);

    /// <summary>
    /// Reads what the client sends and hands each message to <paramref name="frames"/>; returns when the
    /// client goes away or the connection closes, and closes the connection then. Never throws: a fault other
    /// than the client going away goes to <see cref="ClientConnection.Fail"/> (1011, logged by the session).
    /// </summary>
    Task ReadAsync(ClientConnection connection, ClientFrameDispatcher frames, CancellationToken abort);

    /// <summary>Tears the transport down without a handshake.</summary>
    void Abort();
}
