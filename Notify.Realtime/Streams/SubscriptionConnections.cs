using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;
using StackExchange.Redis.Configuration;

namespace Notify.Realtime.Streams;

/// <summary>
/// Says that a Redis subscription connection is being made, before it re-subscribes. StackExchange.Redis
/// reconnects a lost subscription connection at once but reports the loss (<c>ConnectionFailed</c>) on a
/// thread-pool worker, so on a busy machine a publication can arrive through the new connection before
/// anyone hears of the loss, and go out ahead of what was missed. This hook runs in the connect itself,
/// after the socket is open and before the handshake and the re-subscriptions, so whatever it does happens
/// before any message of the new connection. It does not touch the transport.
/// </summary>
internal sealed class SubscriptionConnections : Tunnel
{
    private Action<EndPoint>? _connecting;

    /// <summary>Sets what runs when a subscription connection to an endpoint is being made (on the connecting thread).</summary>
    public void OnConnecting(Action<EndPoint>? handler) => Volatile.Write(ref _connecting, handler);

    public override ValueTask<Stream?> BeforeAuthenticateAsync(EndPoint endpoint, ConnectionType connectionType, Socket? socket, CancellationToken cancellationToken)
    {
        if (connectionType == ConnectionType.Subscription)
        {
            Volatile.Read(ref _connecting)?.Invoke(endpoint);
        }
        return default;
    }
}
