using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Notify.Core.Storage.Sqlite;

/// <summary>
/// One SQLite file shared by the stores of a process: a bounded pool of open connections, each keeping
/// its prepared statements, in WAL mode so readers never wait for the writer.
/// </summary>
/// <remarks>
/// SQLite has one writer per file, and a commit costs far more than the statements in it. So small
/// writes (<see cref="WriteAsync{T}"/>) queue on a bounded channel and one writer loop commits whatever
/// has queued in a single transaction (group commit): one caller sees one short transaction, 64 callers
/// share a commit. Each write runs inside its own savepoint, so a failing write fails alone. Long
/// maintenance work (<see cref="ExclusiveWriteAsync{T}"/>) takes the same write gate between batches.
/// Writers in other processes are waited for by SQLite's busy timeout.
/// </remarks>
public sealed class SqliteDatabase : IDisposable
{
    private readonly ConcurrentBag<SqliteSession> _idle = [];
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Channel<PendingWrite> _writes;
    private readonly int _maxBatch;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _writer;
    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    private readonly string _synchronous;
    private readonly long _mmapSize;
    private int _disposed;

    /// <summary>Opens (and creates, when missing) the SQLite file at <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="busyTimeout">How long a statement waits for another process's lock.</param>
    /// <param name="maxConnections">Most open connections.</param>
    /// <param name="synchronous">The <c>synchronous</c> pragma.</param>
    /// <param name="writeQueueCapacity">Most writes waiting for the writer; further callers wait for room.</param>
    /// <param name="maxWriteBatch">Most writes committed in one transaction.</param>
    /// <param name="mmapSize">Bytes read through memory mapping (<c>mmap_size</c>); 0 turns it off.</param>
    public SqliteDatabase(
        string path,
        TimeSpan busyTimeout,
        int maxConnections,
        SqliteSynchronousMode synchronous,
        int writeQueueCapacity = 10_000,
        int maxWriteBatch = 256,
        long mmapSize = 256L * 1024 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(mmapSize);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxConnections);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(writeQueueCapacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxWriteBatch);
        Path = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // This class pools connections itself so that prepared statements survive between calls.
            Pooling = false,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
        }.ToString();
        _busyTimeoutMs = (int)busyTimeout.TotalMilliseconds;
        _synchronous = synchronous == SqliteSynchronousMode.Full ? "FULL" : "NORMAL";
        _mmapSize = mmapSize;
        _slots = new SemaphoreSlim(maxConnections, maxConnections);
        _maxBatch = maxWriteBatch;
        _writes = Channel.CreateBounded<PendingWrite>(new BoundedChannelOptions(writeQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>Runs <paramref name="work"/> on a pooled connection, concurrently with other readers.</summary>
    public async ValueTask<T> ReadAsync<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return Run(work, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> (a few short statements) in the next group commit, inside its own
    /// savepoint: its changes are durable when the returned task completes, and an exception it throws
    /// undoes only its own changes. A write whose token is cancelled before it runs is skipped.
    /// </summary>
    public async ValueTask<T> WriteAsync<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var pending = new PendingWrite<T>(work, cancellationToken);
        try
        {
            await _writes.Writer.WriteAsync(pending, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(SqliteDatabase));
        }
        return await pending.Task;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a connection of its own as this process's only writer (no group
    /// commit), for schema changes and maintenance batches that manage their own transactions.
    /// </summary>
    public async ValueTask<T> ExclusiveWriteAsync<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await _slots.WaitAsync(cancellationToken);
            try
            {
                return Run(work, cancellationToken);
            }
            finally
            {
                _slots.Release();
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private T Run<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var session = Take();
        try
        {
            var result = work(session);
            _idle.Add(session);
            return result;
        }
        catch
        {
            // The connection may be inside a failed transaction: never hand it out again.
            session.Dispose();
            throw;
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _writes.Reader;
        var batch = new List<PendingWrite>(_maxBatch);
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                batch.Clear();
                while (batch.Count < _maxBatch && reader.TryRead(out var pending))
                {
                    if (!pending.SkipIfCancelled())
                    {
                        batch.Add(pending);
                    }
                }
                if (batch.Count > 0)
                {
                    await CommitAsync(batch);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        while (reader.TryRead(out var left))
        {
            left.Fail(new ObjectDisposedException(nameof(SqliteDatabase)));
        }
    }

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        var holdsGate = false;
        var holdsSlot = false;
        SqliteSession? session = null;
        try
        {
            await _writeGate.WaitAsync(_stopping.Token);
            holdsGate = true;
            await _slots.WaitAsync(_stopping.Token);
            holdsSlot = true;
            session = Take();
            using (var transaction = session.Connection.BeginTransaction(deferred: false))
            {
                session.Transaction = transaction;
                foreach (var pending in batch)
                {
                    pending.Run(session);
                }
                transaction.Commit();
            }
            session.Transaction = null;
            _idle.Add(session);
            foreach (var pending in batch)
            {
                pending.Complete();
            }
        }
        catch (Exception ex)
        {
            // Nothing of the batch is committed: every write in it fails (also when shutting down).
            session?.Dispose();
            foreach (var pending in batch)
            {
                pending.Fail(ex);
            }
        }
        finally
        {
            if (holdsSlot)
            {
                _slots.Release();
            }
            if (holdsGate)
            {
                _writeGate.Release();
            }
        }
    }

    private SqliteSession Take() => _idle.TryTake(out var pooled) ? pooled : Open();

    private SqliteSession Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var pragmas = connection.CreateCommand();
            // busy_timeout first: switching to WAL needs a lock another process may hold.
            pragmas.CommandText = $"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA journal_mode = WAL; PRAGMA synchronous = {_synchronous}; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = {_mmapSize};";
            pragmas.ExecuteNonQuery();
            return new SqliteSession(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Fails queued writes, waits for the writer loop to finish its batch, and closes every connection.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _writes.Writer.TryComplete();
        // The loop drains what is queued; give it a bounded time, then stop it.
        if (!_writer.Wait(TimeSpan.FromSeconds(10)))
        {
            _stopping.Cancel();
            _writer.Wait(TimeSpan.FromSeconds(5));
        }
        while (_idle.TryTake(out var session))
        {
            session.Dispose();
        }
        _stopping.Dispose();
        _slots.Dispose();
        _writeGate.Dispose();
    }

    private abstract class PendingWrite
    {
        public abstract bool SkipIfCancelled();

        public abstract void Run(SqliteSession session);

        public abstract void Complete();

        public abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _error;

        public Task<T> Task => _completion.Task;

        public override bool SkipIfCancelled()
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            _completion.TrySetCanceled(cancellationToken);
            return true;
        }

        public override void Run(SqliteSession session)
        {
            session.Command("SAVEPOINT w").ExecuteNonQuery();
            try
            {
                _result = work(session);
                session.Command("RELEASE w").ExecuteNonQuery();
            }
            catch (SqliteException ex) when (IsFatal(ex))
            {
                // The whole transaction is gone (I/O error, disk full, lock lost): fail the batch.
                throw;
            }
            catch (Exception ex)
            {
                session.Command("ROLLBACK TO w").ExecuteNonQuery();
                session.Command("RELEASE w").ExecuteNonQuery();
                _error = ex;
            }
        }

        public override void Complete()
        {
            if (_error is not null)
            {
                _completion.TrySetException(_error);
            }
            else
            {
                _completion.TrySetResult(_result!);
            }
        }

        public override void Fail(Exception exception) => _completion.TrySetException(exception);

        // Constraint and logic errors leave the transaction usable; these do not.
        private static bool IsFatal(SqliteException ex) => ex.SqliteErrorCode is
            5 /* BUSY */ or 6 /* LOCKED */ or 7 /* NOMEM */ or 10 /* IOERR */ or 11 /* CORRUPT */ or 13 /* FULL */ or 26 /* NOTADB */;
    }
}

/// <summary>An open connection with its prepared statements, used by one caller at a time.</summary>
public sealed class SqliteSession : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    internal SqliteSession(SqliteConnection connection) => Connection = connection;

    /// <summary>The open connection.</summary>
    public SqliteConnection Connection { get; }

    /// <summary>The transaction commands join (set by the group commit).</summary>
    internal SqliteTransaction? Transaction { get; set; }

    /// <summary>The prepared command for <paramref name="sql"/>, with its parameters cleared.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands.Add(sql, command);
        }
        command.Parameters.Clear();
        command.Transaction = Transaction;
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }
        _commands.Clear();
        Connection.Dispose();
    }
}
