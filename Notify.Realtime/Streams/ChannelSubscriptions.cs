using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;

namespace Notify.Realtime.Streams;

/// <summary>
/// A connection's channel subscriptions (<c>subscribe</c>/<c>unsubscribe</c>): the channel policy, the
/// subscription limit, and the replay of a channel's history after <c>since</c> with the same
/// subscribe-buffer-replay-release order as a stream's opening.
/// </summary>
internal sealed partial class ChannelSubscriptions(
    ConnectionRegistry registry,
    IMessageBus bus,
    IOptionsMonitor<RealtimeOptions> options,
    TimeProvider time)
{
    /// <summary>The topics every connection holds besides its channels (a user's own topic and broadcasts).</summary>
    private const int StreamTopics = 2;

    /// <summary>
    /// Checks the name and the protocol's rules, subscribes, answers <c>subscribed</c>, and replays history
    /// after <paramref name="since"/> (or <c>resync</c> for the channel). Returns an error frame to send
    /// instead when refused.
    /// </summary>
    public async Task<byte[]?> SubscribeAsync(ClientConnection connection, string channel, string? since, CancellationToken cancellationToken)
    {
        if (!ChannelName().IsMatch(channel))
        {
            return ServerFrames.Error("bad_request", "channel must match ^[a-z0-9_.:-]{1,128}$");
        }
        if (!MayJoin(connection, channel))
        {
            return ServerFrames.Error("forbidden", $"not allowed to join {channel}");
        }
        if (since is not null && !ChannelOffset.IsValid(since))
        {
            return ServerFrames.Error("bad_request", "since must be a channel offset (the id of a message frame, such as 1700000000000-0)");
        }
        int count;
        lock (connection.Topics)
        {
            count = connection.Topics.Count;
        }
        if (count >= options.CurrentValue.MaxSubscriptionsPerConnection + StreamTopics)
        {
            return ServerFrames.Error("bad_request", "too many subscriptions");
        }

        var topic = BusTopic.Channel(channel);
        var replay = !string.IsNullOrEmpty(since);
        if (replay)
        {
            connection.BeginGate(topic);
        }
        try
        {
            await registry.SubscribeAsync(connection, topic, cancellationToken);
            connection.Enqueue(ServerFrames.Channel("subscribed", channel));
            if (replay)
            {
                await ReplayAsync(connection, topic, channel, since!, cancellationToken);
            }
            return null;
        }
        finally
        {
            connection.ReleaseGate(null);
        }
    }

    /// <summary>Handles an <c>unsubscribe</c>; an error frame when the connection cannot leave that channel.</summary>
    public async Task<byte[]?> UnsubscribeAsync(ClientConnection connection, string channel, CancellationToken cancellationToken)
    {
        if (!ChannelName().IsMatch(channel) || channel == "admin" && connection.Kind == StreamKind.Admin)
        {
            return ServerFrames.Error("bad_request", $"not subscribed to {channel}");
        }
        await registry.UnsubscribeAsync(connection, BusTopic.Channel(channel), cancellationToken);
        connection.RemoveEchoFilter(EchoKey.Channel(channel));
        connection.Enqueue(ServerFrames.Channel("unsubscribed", channel));
        return null;
    }

    private async Task ReplayAsync(ClientConnection connection, BusTopic topic, string channel, string since, CancellationToken cancellationToken)
    {
        var max = options.CurrentValue.MaxReplay;
        var history = await bus.ReadHistoryAsync(topic, since, max + 1, cancellationToken);
        if (history.Truncated || history.Entries.Count > max)
        {
            await connection.EnqueueReplayAsync(ServerFrames.Resync(history.Truncated ? "history_truncated" : "too_many_missed", channel), cancellationToken);
            return;
        }
        var cutoff = since;
        foreach (var entry in history.Entries.Where(e => connection.Preferences?.Drops(topic, e.Frame.Span) != true))
        {
            await connection.EnqueueReplayAsync(entry.Frame, cancellationToken);
            cutoff = entry.Id;
        }
        connection.ReleaseGate(
            frame => frame.Info is { Type: "message", Id: { } id } && ChannelOffset.Compare(id, cutoff) <= 0,
            EchoKey.Channel(channel),
            time.GetUtcNow() + EchoFilter.Window);
    }

    private static bool MayJoin(ClientConnection connection, string channel)
    {
        if (channel.StartsWith("public:", StringComparison.Ordinal))
        {
            return true;
        }
        if (channel.StartsWith("user:", StringComparison.Ordinal))
        {
            return string.Equals(channel["user:".Length..], connection.UserId, StringComparison.Ordinal);
        }
        if (channel == "admin" || channel.StartsWith("admin:", StringComparison.Ordinal))
        {
            return connection.IsAdmin;
        }
        return false;
    }

    [GeneratedRegex(NotificationLimits.ChannelPattern, RegexOptions.CultureInvariant)]
    private static partial Regex ChannelName();
}
