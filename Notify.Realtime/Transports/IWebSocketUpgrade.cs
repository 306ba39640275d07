using System.Net.WebSockets;
using Notify.Realtime.Sessions;

namespace Notify.Realtime.Transports;

/// <summary>
/// How one WebSocket request is answered before it is a socket: through the request pipeline
/// (<c>HttpContext.WebSockets</c>), or on the connection itself (<see cref="DirectWebSocketUpgrade"/>).
/// Both give the same answers; the socket they make runs the same stream code.
/// </summary>
internal interface IWebSocketUpgrade
{
    /// <summary>Answers 101 (with the negotiated permessage-deflate, if any) and returns the server socket.</summary>
    Task<WebSocket> AcceptAsync();

    /// <summary>
    /// Answers a request that will not be upgraded: 503 with <c>Retry-After</c> and problem details for
    /// <see cref="Refusal.InstanceFull"/>, the setup-failed 503 for anything else. Does nothing once the
    /// answer has begun or the client is gone. Never throws for a client that went away.
    /// </summary>
    Task RefuseAsync(Refusal refusal);

    /// <summary>Tears the connection down without a handshake (after the socket's own abort).</summary>
    void Abort();

    /// <summary>
    /// Whether the socket's abort ends a receive in progress by itself, so an idle connection's zero-byte
    /// receive needs no cancellation token (a cancellable receive registers a callback, per connection).
    /// </summary>
    bool AbortEndsReceive { get; }
}
