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

    /// <summary>
    /// The pub/sub pattern that matches the channel of every topic of <paramref name="kind"/> (user, channel,
    /// task or batch topics; the broadcast is one topic).
    /// </summary>
    public string Every(BusTopicKind kind)
    {
        var (head, tail) = Around(kind);
        return Glob(head) + "*" + Glob(tail);
    }

    /// <summary>The topic of <paramref name="kind"/> whose channel is <paramref name="channel"/>; null when it is none.</summary>
    public BusTopic? TopicOf(BusTopicKind kind, string channel)
    {
        var (head, tail) = Around(kind);
        return channel.Length > head.Length + tail.Length
            && channel.StartsWith(head, StringComparison.Ordinal)
            && channel.EndsWith(tail, StringComparison.Ordinal)
            ? new BusTopic(kind, channel[head.Length..^tail.Length])
            : null;
    }

    /// <summary>What a topic's channel name has before and after its key.</summary>
    private (string Head, string Tail) Around(BusTopicKind kind)
    {
        if (kind == BusTopicKind.Broadcast)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), "The broadcast is a single topic.");
        }
        const string marker = "\u0001";
        var name = For(new BusTopic(kind, marker));
        var at = name.IndexOf(marker, StringComparison.Ordinal);
        return (name[..at], name[(at + marker.Length)..]);
    }

    /// <summary><paramref name="literal"/> as a Redis glob that matches only itself.</summary>
    private static string Glob(string literal)
    {
        var glob = new System.Text.StringBuilder(literal.Length);
        foreach (var c in literal)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                glob.Append('\\');
            }
            glob.Append(c);
        }
        return glob.ToString();
    }

    /// <summary>The Redis stream that keeps a channel's bounded history (<c>Channels:HistorySize</c>).</summary>
    public string History(BusTopic topic) => $"{prefix}:history:{For(topic)}";

    /// <summary>The lock one process holds while it publishes what waits in the notification outbox.</summary>
    public string OutboxLock => $"{prefix}:outbox:drain";

    /// <summary>The key prefix all other components build on.</summary>
    public string Prefix => prefix;
}
