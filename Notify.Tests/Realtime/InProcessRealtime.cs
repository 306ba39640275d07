using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Auth;
using Notify.Core.Settings;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Core.Tasks;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Sessions;
using Notify.Realtime.Streams;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>
/// The Realtime core wired by hand on fake time (registry, session, client-frame dispatcher, monitor)
/// over a real Redis and SQLite file, with streams on a <see cref="MemoryTransport"/> instead of sockets.
/// </summary>
internal sealed class InProcessRealtime : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private readonly SqliteDatabase _settingsDatabase;

    private InProcessRealtime(TestBackplane backplane, RealtimeOptions options, SseOptions sse)
    {
        Backplane = backplane;
        Options = options;
        var realtimeOptions = new StaticOptions<RealtimeOptions>(options);
        var sseOptions = new StaticOptions<SseOptions>(sse);
        Tokens = new NotifyTokens(Microsoft.Extensions.Options.Options.Create(new AuthOptions { SigningKey = TestEnvironment.SigningKey, ClockSkew = TimeSpan.Zero }), Time);
        _settingsDatabase = new SqliteDatabase(backplane.SqlitePath, TimeSpan.FromSeconds(10), 2, SqliteSynchronousMode.Normal);
        var runtime = new RuntimeSettings(new SqliteSettingsStore(_settingsDatabase), new ConfigurationBuilder().Build(), Time, NullLogger<RuntimeSettings>.Instance);
        Settings = new StreamSettings(realtimeOptions, sseOptions, runtime);
        Registry = new ConnectionRegistry(backplane.Bus, backplane.Store, realtimeOptions, Time, NullLogger<ConnectionRegistry>.Instance);
        var progress = new ProgressStreams(Registry, backplane.Queue, new RedisProgressStore(backplane.Redis, new StaticOptions<QueueOptions>(new QueueOptions()), Time), Time);
        Frames = new ClientFrameDispatcher(
            new ChannelSubscriptions(Registry, backplane.Bus, realtimeOptions, Time),
            new InboxChanges(backplane.Store, backplane.Bus, Time, NullLogger<InboxChanges>.Instance),
            realtimeOptions,
            Time);
        Session = new ConnectionSession(
            Registry,
            Tokens,
            new NotificationReplay(Registry, backplane.Store, realtimeOptions,
                new Notify.Realtime.Preferences.PreferenceFilters(new SqlitePreferencesStore(_settingsDatabase), Time, NullLogger<Notify.Realtime.Preferences.PreferenceFilters>.Instance),
                Time, NullLogger<NotificationReplay>.Instance),
            progress,
            Frames,
            Settings,
            realtimeOptions,
            Time,
            NullLogger<ConnectionSession>.Instance);
    }

    /// <summary>
    /// Starts at the wall clock's time (whole seconds, as frames carry milliseconds) so that tokens issued here
    /// are valid; moves only when a test advances it.
    /// </summary>
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()));

    public TestBackplane Backplane { get; }
    public RealtimeOptions Options { get; }
    public NotifyTokens Tokens { get; }
    public StreamSettings Settings { get; }
    public ConnectionRegistry Registry { get; }
    public ClientFrameDispatcher Frames { get; }
    public ConnectionSession Session { get; }

    public static async Task<InProcessRealtime> CreateAsync(RedisServer redis, RealtimeOptions? options = null, SseOptions? sse = null)
    {
        var path = Path.Combine(Path.GetTempPath(), $"notify-inprocess-{Guid.NewGuid():N}.db");
        return new InProcessRealtime(await TestBackplane.CreateAsync(redis, path), options ?? new RealtimeOptions(), sse ?? new SseOptions());
    }

    public string Token(string userId, bool admin = false, TimeSpan? lifetime = null) =>
        Tokens.Issue(userId, admin ? [NotifyRoles.Admin] : [], lifetime ?? TimeSpan.FromHours(1)).Token;

    /// <summary>Runs a stream of <paramref name="kind"/> on <paramref name="transport"/> until it ends.</summary>
    public Task RunAsync(MemoryTransport transport, string? token, StreamKind kind = StreamKind.Notifications, string? resourceId = null, string? lastId = null) =>
        Task.Run(() => Session.RunAsync(transport, new StreamRequest(kind, resourceId, token, lastId, transport.ClientGone)));

    /// <summary>A monitor over this registry (not started: tests call its sweep or start it).</summary>
    public ConnectionMonitor Monitor(IHostApplicationLifetime? lifetime = null) =>
        new(Registry, Settings, lifetime ?? new ApplicationLifetime(), Time, NullLogger<ConnectionMonitor>.Instance);

    /// <summary>A connection as a session builds it, not registered anywhere.</summary>
    public ClientConnection NewConnection(StreamKind kind = StreamKind.Notifications, string userId = "alice", bool isAdmin = false) =>
        new(Guid.NewGuid().ToString("N"), userId, isAdmin, kind, Options.SendQueueCapacity, expiresAt: null, Time.GetUtcNow())
        {
            HeartbeatInterval = Settings.WebSocketHeartbeat,
            NextHeartbeat = Time.GetUtcNow() + Settings.WebSocketHeartbeat,
        };

    public async ValueTask DisposeAsync()
    {
        await Backplane.DisposeAsync();
        _settingsDatabase.Dispose();
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(Backplane.SqlitePath)!, Path.GetFileName(Backplane.SqlitePath) + "*"))
        {
            File.Delete(file);
        }
    }

    private sealed class ApplicationLifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication()
        {
        }
    }
}

/// <summary>
/// A stream's wire in memory: what the server writes arrives in <see cref="Sent"/> as text, what the test
/// sends goes to the dispatcher, and the way the stream ended is recorded. A part can be made to fail.
/// </summary>
internal sealed class MemoryTransport(bool isSse = false) : IStreamTransport
{
    private readonly Channel<ClientMessage> _fromClient = Channel.CreateUnbounded<ClientMessage>();
    private readonly CancellationTokenSource _clientGone = new();
    private readonly CancellationTokenSource _aborted = new();
    private readonly TaskCompletionSource<CloseReason> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => "memory";
    public bool IsSse => isSse;

    /// <summary>The part that throws, if any.</summary>
    public MemoryTransportPart FailIn { get; init; }

    /// <summary>Whether the writer ignores closing and hangs until the session aborts it.</summary>
    public bool HangWriter { get; init; }

    public bool Accepted { get; private set; }

    /// <summary>The connection the session opened on this transport, once it has.</summary>
    public ClientConnection? Connection { get; private set; }
    public bool Aborted { get; private set; }
    public List<Refusal> Refusals { get; } = [];
    public Channel<string> Sent { get; } = Channel.CreateUnbounded<string>();

    /// <summary>The reason the session ended the stream with.</summary>
    public Task<CloseReason> Closed => _closed.Task;

    public CancellationToken ClientGone => _clientGone.Token;

    public Task AcceptAsync()
    {
        Fail(MemoryTransportPart.Accept);
        Accepted = true;
        return Task.CompletedTask;
    }

    public Task RefuseAsync(Refusal refusal)
    {
        lock (Refusals)
        {
            Refusals.Add(refusal);
        }
        return Task.CompletedTask;
    }

    public Task<bool> OpenAsync(ClientConnection connection, CancellationToken cancellationToken)
    {
        Fail(MemoryTransportPart.Open);
        Connection = connection;
        return Task.FromResult(true);
    }

    public async ValueTask WriteAsync(OutboundFrame frame)
    {
        Fail(MemoryTransportPart.Write);
        if (HangWriter)
        {
            await Task.Delay(Timeout.Infinite, _aborted.Token);
        }
        Sent.Writer.TryWrite(Encoding.UTF8.GetString(frame.Bytes.Span));
    }

    public ValueTask FlushAsync() => ValueTask.CompletedTask;

    /// <summary>Every failure of this transport is a fault of its own (the session closes with 1011).</summary>
    public bool IsClientGone(Exception exception) => false;

    public Task CloseAsync(ClientConnection connection, CancellationToken abort)
    {
        _closed.TrySetResult(connection.CloseReason ?? CloseReason.ClientClosed);
        return Task.CompletedTask;
    }

    public async Task ReadAsync(ClientConnection connection, ClientFrameDispatcher frames, CancellationToken abort)
    {
        using var closing = CancellationTokenSource.CreateLinkedTokenSource(abort, connection.Closing);
        try
        {
            Fail(MemoryTransportPart.Read);
            await foreach (var message in _fromClient.Reader.ReadAllAsync(closing.Token))
            {
                await frames.DispatchAsync(connection, message, abort);
            }
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            connection.Fail(ex);
        }
        finally
        {
            connection.Close(CloseReason.ClientClosed);
        }
    }

    public void Abort()
    {
        Aborted = true;
        _aborted.Cancel();
    }

    /// <summary>The client sends a text message.</summary>
    public void Send(string text) => _fromClient.Writer.TryWrite(new ClientMessage(Encoding.UTF8.GetBytes(text)));

    /// <summary>The client goes away (its reader ends, the request is aborted).</summary>
    public void Leave()
    {
        _fromClient.Writer.TryComplete();
        _clientGone.Cancel();
    }

    /// <summary>The next frame the server wrote, within <see cref="InProcessRealtime.Wait"/>.</summary>
    public async Task<string> NextAsync() => await Sent.Reader.ReadAsync().AsTask().WaitAsync(InProcessRealtime.Wait);

    /// <summary>Frames the server wrote until one of <paramref name="type"/>, which it returns.</summary>
    public async Task<string> NextOfTypeAsync(string type)
    {
        while (true)
        {
            var frame = await NextAsync();
            if (frame.StartsWith($"{{\"type\":\"{type}\"", StringComparison.Ordinal))
            {
                return frame;
            }
        }
    }

    /// <summary>The session disposes its transport when it ends; the test may still make the client leave then, so nothing is released here.</summary>
    public void Dispose()
    {
    }

    private void Fail(MemoryTransportPart part)
    {
        if (FailIn == part)
        {
            throw new IOException($"the {part} part failed");
        }
    }
}

/// <summary>
/// A connection's writer in memory: every frame its write runs write arrives in <see cref="Frames"/>; a write
/// can be held until <see cref="Release"/>, or made to fail.
/// </summary>
internal sealed class FrameRecorder : IFrameWriter
{
    private TaskCompletionSource? _held;

    public Channel<OutboundFrame> Frames { get; } = Channel.CreateUnbounded<OutboundFrame>();

    /// <summary>Thrown by the next write, if set.</summary>
    public Exception? Failure { get; set; }

    /// <summary>Whether <see cref="Failure"/> counts as the client having gone away.</summary>
    public bool FailureIsClientGone { get; init; }

    /// <summary>Write runs under way at once (more than one would break the frame order).</summary>
    public int MostRunsAtOnce { get; private set; }

    private int _running;

    /// <summary>Holds every write from now on until <see cref="Release"/>.</summary>
    public void Hold() => _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _held?.TrySetResult();

    public async ValueTask WriteAsync(OutboundFrame frame)
    {
        MostRunsAtOnce = Math.Max(MostRunsAtOnce, Interlocked.Increment(ref _running));
        try
        {
            if (Failure is { } failure)
            {
                throw failure;
            }
            if (_held is { } held)
            {
                await held.Task;
            }
            Frames.Writer.TryWrite(frame);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    public ValueTask FlushAsync() => ValueTask.CompletedTask;

    public bool IsClientGone(Exception exception) => FailureIsClientGone;
}

/// <summary>A part of <see cref="MemoryTransport"/> that can be made to fail.</summary>
public enum MemoryTransportPart
{
    None,
    Accept,
    Open,
    Write,
    Read,
}
