using System.ComponentModel.DataAnnotations;

namespace Notify.Realtime.Options;

/// <summary>WebSocket connection limits and timings, section <c>Realtime</c>.</summary>
public sealed class RealtimeOptions
{
    public const string SectionName = "Realtime";

    /// <summary>How often every connection gets a <c>heartbeat</c> frame/event. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Live streams of every kind (notification, admin, task, batch; WebSocket and SSE) one user may hold on
    /// one instance; the next WebSocket is closed with 4008, the next SSE request answered 429. Default 5.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxConnectionsPerUser { get; set; } = 5;

    /// <summary>
    /// Live streams of all users this instance holds at most; a request beyond it is answered 503 with
    /// <c>Retry-After</c> before any upgrade, so a load balancer or client tries another instance. Default 20,000.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxConnections { get; set; } = 20_000;

    /// <summary>Frames a connection may have waiting to be written; one more closes it with 4009 (slow consumer). Default 256.</summary>
    [Range(1, 100_000)]
    public int SendQueueCapacity { get; set; } = 256;

    /// <summary>Largest client message in bytes; a bigger one closes the connection with 1009. Default 65,536 (64 KiB).</summary>
    [Range(64, 16 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>Most notifications replayed after <c>last_id</c> (or channel entries after <c>since</c>); beyond it the client gets <c>resync</c>. Default 500.</summary>
    [Range(1, 100_000)]
    public int MaxReplay { get; set; } = 500;

    /// <summary>
    /// How long a notification id passed on to a user's connections is remembered: a repeated publication
    /// of it (an outbox re-publish) is dropped within this time, and a catch-up after a lost Redis
    /// subscription replays from the newest id passed on at least this long ago, so a notification whose
    /// publication arrived after newer ones is not skipped. At most <see cref="MaxReplay"/> ids per user
    /// are remembered. Default 10 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan CatchUpWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Client frames allowed per second (token bucket, burst of the same size); exceeding it closes with 4029. Default 20.</summary>
    [Range(1, 100_000)]
    public int ClientFrameRate { get; set; } = 20;

    /// <summary>Rejected client frames (malformed, unknown type, forbidden) a connection may send; the next closes it with 4029. Default 10.</summary>
    [Range(0, 10_000)]
    public int MaxClientErrors { get; set; } = 10;

    /// <summary>Channel subscriptions one connection may hold at once. Default 64.</summary>
    [Range(1, 10_000)]
    public int MaxSubscriptionsPerConnection { get; set; } = 64;

    /// <summary>How long a closing connection may take to flush its close frame before the socket is aborted. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Lifetime of this instance's presence snapshot in Redis; a killed instance drops out of stats within it. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PresenceTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the presence snapshot is rewritten even without changes (must be shorter than <see cref="PresenceTtl"/>). Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:30:00")]
    public TimeSpan PresenceRefreshInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Upgrade WebSocket requests on the connection itself, before Kestrel's HTTP handling (no request context
    /// is kept for the socket's lifetime: less memory per connection), for plain-HTTP/1.1 listeners; HTTPS
    /// listeners, HTTP/2 and any request the direct upgrade does not recognise use the request pipeline.
    /// False upgrades every request through the pipeline. Default true.
    /// </summary>
    public bool DirectUpgrade { get; set; } = true;

    /// <summary>Longest the service waits for connections to close at shutdown (host shutdown timeout). Default 8 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(8);
}
