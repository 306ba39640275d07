namespace Notify.Core.Messaging;

/// <summary>Every Redis key and channel name the product uses, built in one place so publishers and subscribers agree.</summary>
public sealed class RedisChannels(string prefix = "notify")
{
    /// <summary>The pub/sub channel of a topic.</summary>
    public string For(BusTopic topic) => topic.Kind switch
    {
        BusTopicKind.User => $"{prefix}:user:{topic.Key}",
        BusTopicKind.Channel => $"{prefix}:channel:{topic.Key}",
        BusTopicKind.Task => $"{prefix}:task:{topic.Key}",
        BusTopicKind.Batch => $"{prefix}:batch:{topic.Key}",
        BusTopicKind.Broadcast => $"{prefix}:broadcast",
        _ => throw new ArgumentOutOfRangeException(nameof(topic)),
    };

    /// <summary>The Redis stream that keeps a channel's bounded history (<c>Channels:HistorySize</c>).</summary>
    public string History(BusTopic topic) => $"{prefix}:history:{For(topic)}";

    /// <summary>The lock one process holds while it publishes what waits in the notification outbox.</summary>
    public string OutboxLock => $"{prefix}:outbox:drain";

    /// <summary>The key prefix all other components build on.</summary>
    public string Prefix => prefix;
}
