namespace Notify.Tests.Infrastructure;

/// <summary>The environment a test gives a service process: Aspire's variables plus test auth settings.</summary>
public static class TestEnvironment
{
    /// <summary>HS256 key every test service and token shares.</summary>
    public const string SigningKey = "notify-tests-signing-key-0123456789abcdef";

    /// <summary>Environment for a service that uses <paramref name="redis"/> and the SQLite file <paramref name="sqlitePath"/> (a fresh temp file when null).</summary>
    public static IReadOnlyDictionary<string, string?> For(IRedisEndpoint redis, string? sqlitePath = null) => new Dictionary<string, string?>
    {
        ["ConnectionStrings__redis"] = redis.ConnectionString,
        ["Store__SqlitePath"] = sqlitePath ?? Path.Combine(Path.GetTempPath(), $"notify-test-{Guid.NewGuid():N}.db"),
        ["Auth__SigningKey"] = SigningKey,
        ["Auth__EnableDevTokens"] = "true",
    };

    /// <summary>Deletes a SQLite database file with its WAL and shared-memory files; missing or busy files are left.</summary>
    public static void DeleteSqliteFiles(string path)
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try { File.Delete(path + suffix); } catch (IOException) { }
        }
    }
}
