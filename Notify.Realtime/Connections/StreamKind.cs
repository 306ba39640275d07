namespace Notify.Realtime.Connections;

/// <summary>What a connection streams; decides its topics, its presence bucket and when it ends.</summary>
internal enum StreamKind
{
    /// <summary>A user's notifications, channels and broadcasts (WebSocket or SSE).</summary>
    Notifications,
    /// <summary>The admin channel and system messages.</summary>
    Admin,
    /// <summary>One task's progress, ending after its terminal frame.</summary>
    Task,
    /// <summary>One batch's progress, ending after <c>finished</c>.</summary>
    Batch,
}
