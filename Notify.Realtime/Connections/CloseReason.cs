namespace Notify.Realtime.Connections;

/// <summary>
/// Why the server ends a connection: the closed set of PROTOCOL.md §3 with its WebSocket close codes.
/// SSE streams end the response for every reason (they have no close code).
/// </summary>
internal sealed record CloseReason(int Code, string Name)
{
    /// <summary>1000: the stream is complete (task finished) or the client closed it.</summary>
    public static CloseReason Normal { get; } = new(1000, "normal");
    /// <summary>1001: the server is shutting down; reconnect at once.</summary>
    public static CloseReason GoingAway { get; } = new(1001, "server shutting down");
    /// <summary>1009: a client message exceeded <c>Realtime:MaxMessageBytes</c>.</summary>
    public static CloseReason MessageTooBig { get; } = new(1009, "message too big");
    /// <summary>4001: token missing, invalid or expired.</summary>
    public static CloseReason Unauthorized { get; } = new(4001, "unauthorized");
    /// <summary>4003: authenticated but not allowed here.</summary>
    public static CloseReason Forbidden { get; } = new(4003, "forbidden");
    /// <summary>4008: too many connections for this user.</summary>
    public static CloseReason TooManyConnections { get; } = new(4008, "too many connections");
    /// <summary>4009: the send queue overflowed (slow consumer).</summary>
    public static CloseReason SlowConsumer { get; } = new(4009, "slow consumer");
    /// <summary>4029: too many client frames, or too many rejected ones.</summary>
    public static CloseReason RateLimited { get; } = new(4029, "rate limited");
    /// <summary>1011: the server failed to set up the stream (e.g. Redis unavailable); reconnect with backoff.</summary>
    public static CloseReason InternalError { get; } = new(1011, "internal error");
    /// <summary>The client went away first; nothing is sent.</summary>
    public static CloseReason ClientClosed { get; } = new(1000, "client closed");
    /// <summary>A stream without updates for its idle limit (SSE task/batch streams).</summary>
    public static CloseReason Idle { get; } = new(1000, "idle");
}
