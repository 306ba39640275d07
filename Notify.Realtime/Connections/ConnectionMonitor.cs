using Notify.Realtime.Options;

namespace Notify.Realtime.Connections;

/// <summary>
/// One timer for all connections instead of one per connection: sends due heartbeats (the frame is
/// built once per tick and shared), closes connections whose token has expired (4001) and task
/// streams idle past their limit. At shutdown closes every connection with 1001.
/// </summary>
internal sealed class ConnectionMonitor(
    ConnectionRegistry registry,
    StreamSettings settings,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ConnectionMonitor> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var registration = lifetime.ApplicationStopping.Register(() =>
        {
            RealtimeLog.ShuttingDown(logger, registry.Count);
            registry.CloseAll(CloseReason.GoingAway);
        });
        using var timer = new PeriodicTimer(Tick, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Sweep(time.GetUtcNow());
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass over the connections at <paramref name="now"/>.</summary>
    internal void Sweep(DateTimeOffset now)
    {
        SharedFrame? heartbeat = null;
        // Read once per pass: a changed runtime setting applies to live connections at their next beat.
        var webSocketBeat = settings.WebSocketHeartbeat;
        var sseBeat = settings.SseHeartbeat;
        foreach (var connection in registry.Connections)
        {
            var interval = connection.IsSse ? sseBeat : webSocketBeat;
            if (interval != connection.HeartbeatInterval)
            {
                connection.HeartbeatInterval = interval;
                if (connection.NextHeartbeat - now > interval)
                {
                    connection.NextHeartbeat = now + interval;
                }
            }
            if (connection.ExpiresAt is { } expires && expires <= now)
            {
                connection.Close(CloseReason.Unauthorized);
                continue;
            }
            if (connection.IdleLimit is { } idle && now - connection.LastActivity >= idle)
            {
                connection.Close(CloseReason.Idle);
                continue;
            }
            if (now >= connection.NextHeartbeat)
            {
                heartbeat ??= new SharedFrame(ServerFrames.Timestamped("heartbeat", now));
                connection.NextHeartbeat = now + connection.HeartbeatInterval;
                connection.Enqueue(heartbeat);
            }
        }
    }
}
