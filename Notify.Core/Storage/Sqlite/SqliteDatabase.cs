using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Notify.Core.Storage.Sqlite;

/// <summary>
/// One SQLite file shared by the stores of a process: a bounded pool of open connections, each keeping
/// its prepared statements, in WAL mode so readers never wait for the writer. Writes of this process
/// queue on one gate (SQLite has a single writer per file); writers in other processes are waited for
/// by SQLite's busy timeout.
/// </summary>
public sealed class SqliteDatabase : IDisposable
{
    private readonly ConcurrentBag<SqliteSession> _idle = [];
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    private readonly string _synchronous;
    private int _disposed;

    /// <summary>Opens (and creates, when missing) the SQLite file at <paramref name="path"/>.</summary>
    public SqliteDatabase(string path, TimeSpan busyTimeout, int maxConnections, SqliteSynchronousMode synchronous)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxConnections);
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
        _slots = new SemaphoreSlim(maxConnections, maxConnections);
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>Runs <paramref name="work"/> on a pooled connection, concurrently with other readers.</summary>
    public async ValueTask<T> ReadAsync<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken)
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

    /// <summary>Runs <paramref name="work"/> on a pooled connection as this process's only writer.</summary>
    public async ValueTask<T> WriteAsync<T>(Func<SqliteSession, T> work, CancellationToken cancellationToken)
    {
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
        var session = _idle.TryTake(out var pooled) ? pooled : Open();
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

    private SqliteSession Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var pragmas = connection.CreateCommand();
            // busy_timeout first: switching to WAL needs a lock another process may hold.
            pragmas.CommandText = $"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA journal_mode = WAL; PRAGMA synchronous = {_synchronous}; PRAGMA temp_store = MEMORY;";
            pragmas.ExecuteNonQuery();
            return new SqliteSession(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Closes every pooled connection.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        while (_idle.TryTake(out var session))
        {
            session.Dispose();
        }
        _slots.Dispose();
        _writeGate.Dispose();
    }
}

/// <summary>An open connection with its prepared statements, used by one caller at a time.</summary>
public sealed class SqliteSession : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    internal SqliteSession(SqliteConnection connection) => Connection = connection;

    /// <summary>The open connection.</summary>
    public SqliteConnection Connection { get; }

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
        command.Transaction = null;
        return command;
    }

    /// <summary>Runs <paramref name="work"/> in a <c>BEGIN IMMEDIATE</c> transaction (takes the write lock up front).</summary>
    public T InTransaction<T>(Func<SqliteTransaction, T> work)
    {
        using var transaction = Connection.BeginTransaction(deferred: false);
        var result = work(transaction);
        transaction.Commit();
        return result;
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
