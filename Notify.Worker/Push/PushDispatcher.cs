using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Notify.Core.Messaging;
using Notify.Core.Notifications;
using Notify.Core.Push;
using StackExchange.Redis;

namespace Notify.Worker.Push;

/// <summary>
/// Pushes new notifications from the store's push outbox (<see cref="IPushOutbox"/>): every
/// <see cref="PushOptions.PollInterval"/>, and at once when a <c>notification</c> frame is published on any
/// user topic (a Redis pattern subscription used only as a wake-up), it claims up to
/// <see cref="PushOptions.BatchSize"/> waiting notifications with a <see cref="PushOptions.ClaimLease"/>,
/// asks <see cref="IPushPolicy"/> about each, hands those to <see cref="WebPushSender"/>
/// (<see cref="PushOptions.Concurrency"/> at a time; it retries with backoff and deletes gone
/// subscriptions), and completes them. Because the claim is in the store, a notification created while no
/// Worker runs is pushed when one starts (if it is younger than <see cref="PushOptions.MaxAge"/>), and with
/// several Workers each notification is pushed by one. A Worker that dies mid-push leaves its claims to
/// another after the lease; a policy or store failure leaves the notification to be tried again then too.
/// </summary>
internal sealed class PushDispatcher(
    IPushOutbox outbox,
    IConnectionMultiplexer redis,
    RedisChannels channels,
    IPushPolicy policy,
    WebPushSender sender,
    IOptions<PushOptions> options,
    TimeProvider time,
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
        var wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        var pattern = RedisChannel.Pattern($"{channels.Prefix}:users:*");
        var subscriber = redis.GetSubscriber();
        try
        {
            await subscriber.SubscribeAsync(pattern, (_, message) =>
            {
                if (IsNotification(message))
                {
                    wake.Writer.TryWrite(true);
                }
            }, CommandFlags.DemandMaster);
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException or TimeoutException)
        {
            // Only the wake-up is lost: the store is polled all the same.
            PushLog.WakeUpUnavailable(logger, ex);
        }
        PushLog.Started(logger);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var claimed = await RoundAsync(settings, stoppingToken);
                if (claimed < settings.BatchSize)
                {
                    await WaitAsync(wake.Reader, settings.PollInterval, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await subscriber.UnsubscribeAsync(pattern).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Claims one batch, pushes what the policy allows, completes what was decided; returns how many were claimed.</summary>
    internal async Task<int> RoundAsync(PushOptions settings, CancellationToken stoppingToken)
    {
        PushClaim claim;
        try
        {
            var now = time.GetUtcNow();
            claim = await outbox.ClaimAsync(now, now - settings.MaxAge, now + settings.ClaimLease, settings.BatchSize, stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            PushLog.ClaimFailed(logger, ex);
            return 0;
        }
        if (claim.Expired > 0)
        {
            PushLog.Expired(logger, claim.Expired, settings.MaxAge);
        }
        if (claim.Notifications.Count == 0)
        {
            return 0;
        }
        var decided = new List<NotificationKey>(claim.Notifications.Count);
        try
        {
            await Parallel.ForEachAsync(claim.Notifications,
                new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency, CancellationToken = stoppingToken },
                async (notification, ct) =>
                {
                    try
                    {
                        if (await policy.ShouldPushAsync(notification, ct))
                        {
                            await sender.SendAsync(notification, ct);
                        }
                        lock (decided)
                        {
                            decided.Add(new NotificationKey(notification.UserId, notification.Id));
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        PushLog.Failed(logger, ex, notification.Id);
                    }
                });
        }
        finally
        {
            // Also on a stop: what was decided is not pushed again; the rest waits for its lease to end.
            try
            {
                await outbox.CompleteAsync(decided, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                PushLog.ClaimFailed(logger, ex);
            }
        }
        return claim.Notifications.Count;
    }

    private async Task WaitAsync(ChannelReader<bool> wake, TimeSpan interval, CancellationToken stoppingToken)
    {
        try
        {
            await wake.WaitToReadAsync(stoppingToken).AsTask().WaitAsync(interval, time, stoppingToken);
        }
        catch (TimeoutException)
        {
        }
        while (wake.TryRead(out _))
        {
        }
    }

    /// <summary>Whether a user-topic publication is a <c>notification</c> frame (the only ones that wake the dispatcher).</summary>
    internal static bool IsNotification(RedisValue message)
    {
        if (message.IsNullOrEmpty)
        {
            return false;
        }
        try
        {
            var reader = new Utf8JsonReader(RedisMessageBus.FrameOf((byte[])message!).Span);
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject
                && reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("type"u8)
                && reader.Read() && reader.ValueTextEquals("notification"u8);
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
