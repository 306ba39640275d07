namespace Notify.Core.Messaging;

/// <summary>What a bus message is addressed to. <see cref="RedisChannels"/> turns a topic into a Redis channel name.</summary>
public readonly record struct BusTopic(BusTopicKind Kind, string Key)
{
    public static BusTopic User(string userId) => new(BusTopicKind.User, userId);
    public static BusTopic Channel(string channel) => new(BusTopicKind.Channel, channel);
    public static BusTopic Task(string taskId) => new(BusTopicKind.Task, taskId);
    public static BusTopic Batch(string batchId) => new(BusTopicKind.Batch, batchId);
    /// <summary>Every connected user (a broadcast without a channel).</summary>
    public static BusTopic Broadcast { get; } = new(BusTopicKind.Broadcast, "all");
}

/// <summary>The kinds of receiver a bus message can have.</summary>
public enum BusTopicKind
{
    User,
    Channel,
    Task,
    Batch,
    Broadcast,
}
