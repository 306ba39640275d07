namespace Notify.Core.Presence;

/// <summary>
/// Who is connected where. Each Realtime instance publishes a snapshot of its own connections with a
/// time-to-live and refreshes it well before it lapses; readers sum the live snapshots. A snapshot
/// that is not refreshed (the instance was killed) stops counting once its TTL passes, so totals are
/// exact across instances without any instance having to clean up after another.
/// </summary>
public interface IPresence
{
    /// <summary>Replaces this instance's snapshot and (re)starts its TTL.</summary>
    Task PublishAsync(InstancePresence snapshot, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Removes an instance's snapshot at once (graceful shutdown). Missing is not an error.</summary>
    Task RemoveAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Every instance snapshot whose TTL has not passed.</summary>
    Task<IReadOnlyList<InstancePresence>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>One instance's connections: totals, and the users it holds with their connection counts.</summary>
public sealed record InstancePresence
{
    public required string Id { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>Every live connection (user streams and the admin stream).</summary>
    public int Connections { get; init; }
    /// <summary>Notification streams (WebSocket and SSE).</summary>
    public int UserConnections { get; init; }
    /// <summary>Admin streams.</summary>
    public int AdminConnections { get; init; }
    /// <summary>User id → notification streams this instance holds for that user.</summary>
    public IReadOnlyDictionary<string, int> Users { get; init; } = new Dictionary<string, int>();
}

/// <summary>The body of <c>GET /api/ws/stats</c> (PROTOCOL.md §6), summed over every live instance.</summary>
public sealed record PresenceStats(
    int TotalUsers,
    int TotalConnections,
    int TotalUserConnections,
    int TotalAdminConnections,
    IReadOnlyDictionary<string, int> Users,
    IReadOnlyList<InstanceSummary> Instances)
{
    /// <summary>Sums <paramref name="instances"/>; a user on several instances counts once in <see cref="TotalUsers"/>.</summary>
    public static PresenceStats From(IReadOnlyList<InstancePresence> instances)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var users = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            foreach (var (user, count) in instance.Users)
            {
                users[user] = users.GetValueOrDefault(user) + count;
            }
        }
        return new PresenceStats(
            users.Count,
            instances.Sum(i => i.Connections),
            instances.Sum(i => i.UserConnections),
            instances.Sum(i => i.AdminConnections),
            users,
            [.. instances.OrderBy(i => i.StartedAt).Select(i => new InstanceSummary(i.Id, i.Connections, i.StartedAt))]);
    }
}

/// <summary>One instance in <see cref="PresenceStats.Instances"/>.</summary>
public sealed record InstanceSummary(string Id, int Connections, DateTimeOffset StartedAt);
