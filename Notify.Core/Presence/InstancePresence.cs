namespace Notify.Core.Presence;

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
