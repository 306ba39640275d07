using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Push;
using StackExchange.Redis;

namespace Notify.Worker.Push;

/// <summary>
/// Learns of new notifications from the same publications the Realtime instances receive (a Redis
/// pattern subscription on every user topic), asks <see cref="IPushPolicy"/> whether each is pushed,
/// and hands those to <see cref="WebPushSender"/>. Waiting notifications are bounded by
/// <see cref="PushOptions.QueueCapacity"/> (the oldest is dropped and logged); <see cref="PushOptions.Concurrency"/>
/// are sent at once. Publications are at-most-once: a notification created while no Worker is subscribed
/// is stored and shown in the inbox, but not pushed.
/// </summary>
internal sealed class PushDispatcher(
    IConnectionMultiplexer redis,
    RedisChannels channels,
    IPushPolicy policy,
    WebPushSender sender,
    IOptions<PushOptions> options,
    ILogger<PushDispatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            PushLog.Disabled(logger);
            return;
        }
        var queue = Channel.CreateBounded<Notification>(
            new BoundedChannelOptions(settings.QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
            dropped => PushLog.Dropped(logger, settings.QueueCapacity, dropped.Id));
        var pattern = RedisChannel.Pattern($"{channels.Prefix}:users:*");
        var subscriber = redis.GetSubscriber();
        await subscriber.SubscribeAsync(pattern, (_, message) =>
        {
            if (Parse(message) is { } notification)
            {
                queue.Writer.TryWrite(notification);
            }
        });
        PushLog.Started(logger);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(_ => ConsumeAsync(queue.Reader, stoppingToken)));
        }
        finally
        {
            await subscriber.UnsubscribeAsync(pattern);
        }
    }

    private async Task ConsumeAsync(ChannelReader<Notification> reader, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var notification in reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    if (await policy.ShouldPushAsync(notification, stoppingToken))
                    {
                        await sender.SendAsync(notification, stoppingToken);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    PushLog.Failed(logger, ex, notification.Id);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The notification a <c>notification</c> frame carries; null for every other frame.</summary>
    internal static Notification? Parse(RedisValue message)
    {
        if (message.IsNullOrEmpty)
        {
            return null;
        }
        try
        {
            using var frame = JsonDocument.Parse(RedisMessageBus.FrameOf((byte[])message!));
            return frame.RootElement.TryGetProperty("type", out var type) && type.ValueEquals("notification")
                   && frame.RootElement.TryGetProperty("data", out var data)
                ? data.Deserialize<Notification>(NotifyJson.Options)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
