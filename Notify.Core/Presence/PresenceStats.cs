namespace Notify.Core.Presence;

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
