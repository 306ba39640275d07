using Notify.Tests.Infrastructure;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;

namespace Notify.Tests.Storage;

/// <summary>The group commit of <see cref="SqliteDatabase"/>: shared transactions, isolated failures.</summary>
public sealed class SqliteDatabaseTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-db-{Guid.NewGuid():N}.db");
    private readonly SqliteDatabase _database;

    public SqliteDatabaseTests() =>
        _database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 4, SqliteSynchronousMode.Normal, writeQueueCapacity: 64, maxWriteBatch: 16);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _database.Dispose();
        TestEnvironment.DeleteSqliteFiles(_path);
    }

    private Task CreateTableAsync() =>
        _database.ExclusiveWriteAsync(s => s.Command("CREATE TABLE t (n INTEGER PRIMARY KEY)").ExecuteNonQuery(), Ct).AsTask();

    private Task<long> CountAsync() =>
        _database.ReadAsync(s => (long)s.Command("SELECT COUNT(*) FROM t").ExecuteScalar()!, Ct).AsTask();

    [Fact]
    public async Task WriteAsync_SomeWritesThrowMidway_OnlyTheirChangesAreUndone()
    {
        await CreateTableAsync();

        var writes = Enumerable.Range(0, 200).Select(n => Task.Run(async () =>
        {
            try
            {
                await _database.WriteAsync(s =>
                {
                    var insert = s.Command("INSERT INTO t (n) VALUES ($n)");
                    insert.Parameters.AddWithValue("$n", n);
                    insert.ExecuteNonQuery();
                    if (n % 3 == 0)
                    {
                        throw new InvalidOperationException("write " + n + " fails after its insert");
                    }
                    return n;
                }, Ct);
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }, Ct)).ToList();
        var outcomes = await Task.WhenAll(writes);

        Assert.Equal(Enumerable.Range(0, 200).Select(n => n % 3 != 0), outcomes);
        Assert.Equal(200 - 67, await CountAsync());
        var multiplesOfThree = await _database.ReadAsync(s => (long)s.Command("SELECT COUNT(*) FROM t WHERE n % 3 = 0").ExecuteScalar()!, Ct);
        Assert.Equal(0, multiplesOfThree);
    }

    [Fact]
    public async Task WriteAsync_ConstraintViolation_FailsThatWriteOnly()
    {
        await CreateTableAsync();
        await _database.WriteAsync(s => s.Command("INSERT INTO t (n) VALUES (1)").ExecuteNonQuery(), Ct);

        var duplicate = _database.WriteAsync(s => s.Command("INSERT INTO t (n) VALUES (1)").ExecuteNonQuery(), Ct).AsTask();
        var other = _database.WriteAsync(s => s.Command("INSERT INTO t (n) VALUES (2)").ExecuteNonQuery(), Ct).AsTask();

        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => duplicate);
        Assert.Equal(1, await other);
        Assert.Equal(2, await CountAsync());
    }

    [Fact]
    public async Task WriteAsync_TokenAlreadyCancelled_ThrowsAndWritesNothing()
    {
        await CreateTableAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _database.WriteAsync(s => s.Command("INSERT INTO t (n) VALUES (5)").ExecuteNonQuery(), cancelled.Token).AsTask());

        Assert.Equal(0, await CountAsync());
    }

    [Fact]
    public async Task WriteAsync_AfterDispose_ThrowsObjectDisposed()
    {
        await CreateTableAsync();
        _database.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() =>
            _database.WriteAsync(s => s.Command("INSERT INTO t (n) VALUES (5)").ExecuteNonQuery(), Ct).AsTask());
    }

    [Fact]
    public async Task Dispose_WithWritesQueued_EveryWriteCompletesOrFails()
    {
        await CreateTableAsync();
        var writes = Enumerable.Range(0, 300)
            .Select(n => _database.WriteAsync(s =>
            {
                var insert = s.Command("INSERT INTO t (n) VALUES ($n)");
                insert.Parameters.AddWithValue("$n", n);
                return insert.ExecuteNonQuery();
            }, Ct).AsTask())
            .ToList();

        _database.Dispose();
        var settled = await Task.WhenAll(writes.Select(async w =>
        {
            try
            {
                return await w == 1;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        })).WaitAsync(TimeSpan.FromSeconds(20), Ct);

        Assert.Equal(300, settled.Length);
        // Whatever was acknowledged is in the file.
        using var reopened = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 1, SqliteSynchronousMode.Normal);
        var stored = await reopened.ReadAsync(s => (long)s.Command("SELECT COUNT(*) FROM t").ExecuteScalar()!, Ct);
        Assert.Equal(settled.Count(ok => ok), stored);
    }
}
