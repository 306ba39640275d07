using System.ComponentModel.DataAnnotations;

namespace Notify.Core.Storage;

/// <summary>
/// The notification store, bound from the <c>Store</c> section. The backend is chosen by
/// <c>ConnectionStrings:notifydb</c>: set → MongoDB, unset → the SQLite file at <see cref="SqlitePath"/>.
/// </summary>
public sealed class StoreOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Store";

    /// <summary>
    /// The SQLite file. A relative path is resolved against the service's content root. Default (unset):
    /// <c>notify/notify.db</c> under the user's local application data folder (<c>~/.local/share</c> on
    /// Linux), so the Api, Realtime and Worker services of one machine share one file.
    /// </summary>
    public string? SqlitePath { get; set; }

    /// <summary>How long a SQLite statement waits for another process's write lock before failing. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan SqliteBusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most SQLite connections one process keeps open (each with its prepared statements). Default 16.</summary>
    [Range(1, 256)]
    public int SqliteMaxConnections { get; set; } = 16;

    /// <summary>
    /// Most writes (creates, mark-reads, deletes) waiting for SQLite's single writer; further callers wait
    /// for room. Default 10,000.
    /// </summary>
    [Range(1, 1_000_000)]
    public int SqliteWriteQueueCapacity { get; set; } = 10_000;

    /// <summary>Most queued writes committed together in one transaction (group commit). Default 256.</summary>
    [Range(1, 10_000)]
    public int SqliteMaxWriteBatch { get; set; } = 256;

    /// <summary>
    /// Bytes of the SQLite file each connection reads through memory mapping (<c>mmap_size</c>) instead
    /// of read calls; 0 turns it off. Default 256 MiB.
    /// </summary>
    [Range(0L, 1L << 40)]
    public long SqliteMmapSize { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// SQLite's <c>synchronous</c> pragma. <see cref="SqliteSynchronousMode.Normal"/> (default) survives a
    /// process crash but may lose the last commits on power loss; <see cref="SqliteSynchronousMode.Full"/>
    /// syncs every commit to disk and is slower.
    /// </summary>
    public SqliteSynchronousMode SqliteSynchronous { get; set; } = SqliteSynchronousMode.Normal;

    /// <summary>The MongoDB database when the connection string's path names none. Default <c>notify</c>.</summary>
    [Required, RegularExpression("^[A-Za-z0-9_-]{1,63}$")]
    public string MongoDatabase { get; set; } = "notify";

    /// <summary>How long start-up keeps retrying to create the schema while the database is unreachable. Default 60 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan InitializeTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>Values of SQLite's <c>synchronous</c> pragma that are safe with WAL.</summary>
public enum SqliteSynchronousMode
{
    /// <summary>Sync at checkpoints only: crash-safe, fastest.</summary>
    Normal,

    /// <summary>Sync every commit: also power-loss-safe.</summary>
    Full,
}
