using Microsoft.Extensions.Options;
using Notify.Core.Presence;
using Notify.Realtime.Options;

namespace Notify.Realtime.Connections;

/// <summary>
/// Keeps this instance's presence snapshot in Redis: rewritten shortly after connections change
/// (coalesced, at most a few times a second) and at least every <c>Realtime:PresenceRefreshInterval</c>
/// so its TTL never lapses while the instance lives; removed at graceful shutdown.
/// </summary>
internal sealed class PresenceReporter(
    ConnectionRegistry registry,
    IPresence presence,
    InstanceIdentity instance,
    IOptionsMonitor<RealtimeOptions> options,
    TimeProvider time,
    ILogger<PresenceReporter> logger) : BackgroundService
{
    private static readonly TimeSpan MinSpacing = TimeSpan.FromMilliseconds(200);
    private readonly SemaphoreSlim _changed = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        registry.Changed += Signal;
        try
        {
            var published = -1;
            while (!stoppingToken.IsCancellationRequested)
            {
                var version = registry.Version;
                try
                {
                    await presence.PublishAsync(Snapshot(), options.CurrentValue.PresenceTtl, stoppingToken);
                    published = version;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    RealtimeLog.PresenceFailed(logger, ex);
                }
                await Task.Delay(MinSpacing, time, stoppingToken);
                if (registry.Version == published)
                {
                    await _changed.WaitAsync(options.CurrentValue.PresenceRefreshInterval, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            registry.Changed -= Signal;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await presence.RemoveAsync(instance.Id, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            RealtimeLog.PresenceFailed(logger, ex);
        }
    }

    private InstancePresence Snapshot()
    {
        int user = 0, admin = 0, all = 0;
        var users = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var connection in registry.Connections)
        {
            all++;
            if (connection.Kind == StreamKind.Notifications)
            {
                user++;
                users[connection.UserId] = users.GetValueOrDefault(connection.UserId) + 1;
            }
            else if (connection.Kind == StreamKind.Admin)
            {
                admin++;
            }
        }
        return new InstancePresence
        {
            Id = instance.Id,
            StartedAt = instance.StartedAt,
            Connections = all,
            UserConnections = user,
            AdminConnections = admin,
            Users = users,
        };
    }

    private void Signal()
    {
        if (_changed.CurrentCount == 0)
        {
            try
            {
                _changed.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }
}

/// <summary>This process's identity in presence and stats.</summary>
internal sealed class InstanceIdentity(TimeProvider time)
{
    public string Id { get; } = $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();
}
