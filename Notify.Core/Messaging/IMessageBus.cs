namespace Notify.Core.Messaging;

/// <summary>
/// Pub/sub between the services. Delivery is at-most-once and only to instances subscribed at the
/// moment of publishing: durability comes from the store (personal notifications) and from the
/// channel history (<see cref="PublishToChannelAsync"/>), which reconnecting clients replay.
/// Frames are UTF-8 JSON <c>{"type","data"}</c> bytes, serialized once by the publisher and forwarded
/// unchanged to every receiving connection.
/// <para>
/// Every failure of the backing store leaves an implementation as <see cref="MessageBusUnavailableException"/> (the
/// adapter's own exception inside); callers never see a store-specific exception type. Argument errors
/// are <see cref="ArgumentException"/>, cancellation is <see cref="OperationCanceledException"/>.
/// </para>
/// </summary>
public interface IMessageBus
{
    /// <summary>Publishes a ready frame to a topic's subscribers. Nothing is kept.</summary>
    /// <exception cref="MessageBusUnavailableException">The bus could not carry out the call (nothing is known to have been published).</exception>
    Task PublishAsync(BusTopic topic, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken);

    /// <summary>
    /// Appends a <c>message</c> frame to the topic's bounded history and publishes it, atomically, so
    /// history order is publish order. Returns the publication with its stream offset (the <c>id</c>
    /// a client resumes from with <c>since</c>).
    /// </summary>
    /// <exception cref="MessageBusUnavailableException">The bus could not carry out the call (nothing is known to have been published).</exception>
    Task<ChannelPublication> PublishToChannelAsync(BusTopic topic, string channelName, System.Text.Json.JsonElement payload, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> history entries after offset <paramref name="since"/>, oldest first,
    /// as ready frames. <see cref="ChannelHistory.Truncated"/> tells that entries after
    /// <paramref name="since"/> were already trimmed away (the client must resync). A malformed
    /// <paramref name="since"/> throws <see cref="ArgumentException"/>.
    /// </summary>
    /// <exception cref="MessageBusUnavailableException">The bus could not carry out the call (nothing is known to have been published).</exception>
    Task<ChannelHistory> ReadHistoryAsync(BusTopic topic, string since, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The offset of the newest entry in the topic's history (<c>"0-0"</c> when it has none): reading
    /// history after it returns exactly what is appended from now on.
    /// </summary>
    /// <exception cref="MessageBusUnavailableException">The bus could not carry out the call (nothing is known to have been published).</exception>
    Task<string> GetHistoryEndAsync(BusTopic topic, CancellationToken cancellationToken);

    /// <summary>
    /// Subscribes <paramref name="handler"/> to a topic; the subscription is active when the task
    /// completes, and disposing the result unsubscribes. The handler is called for one message at a
    /// time, in publish order, and must not block (enqueue and return).
    /// </summary>
    /// <exception cref="MessageBusUnavailableException">The bus could not carry out the call (nothing is known to have been published).</exception>
    Task<IAsyncDisposable> SubscribeAsync(BusTopic topic, Action<BusTopic, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken);

    /// <summary>
    /// Subscribes <paramref name="handler"/> to every topic of <paramref name="kind"/> at once (user, channel,
    /// task or batch topics; not <see cref="BusTopicKind.Broadcast"/>, a single topic): one subscription
    /// instead of one per topic, for a receiver that holds many topics of a kind and filters by topic itself.
    /// The handler gets each message with its topic, one message at a time, in publish order across all
    /// these topics, and must not block. Active when the task completes; disposing unsubscribes.
    /// </summary>
    /// <exception cref="MessageBusUnavailableException">The bus could not carry out the call.</exception>
    Task<IAsyncDisposable> SubscribeAllAsync(BusTopicKind kind, Action<BusTopic, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken);
}
