using Notify.Core.Messaging;
using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Notify.Core.Notifications;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;
using Notify.Tests.Tasks;
using Notify.Worker;
using Notify.Worker.Handlers;
using Notify.Worker.Queue;

namespace Notify.Tests.Worker;

/// <summary>
/// The Worker's real <see cref="TaskDispatcher"/> in the test process, on a real Redis queue, clocked by
/// the queue context's <see cref="FakeTimeProvider"/> so a test decides when leases are renewed and
/// when they expire. Its only handler is <see cref="GatedHandler"/>.
/// </summary>
internal sealed class InProcessDispatcher : IAsyncDisposable
{
    private readonly SqliteDatabase _database;
    private readonly NotificationOutbox _outbox;
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"notify-dispatcher-{Guid.NewGuid():N}.db");

    private InProcessDispatcher(QueueTestContext context)
    {
        Context = context;
        _database = new SqliteDatabase(_path, TimeSpan.FromSeconds(10), 2, SqliteSynchronousMode.Normal);
        var time = context.Time;
        var store = new SqliteNotificationStore(_database);
        _outbox = new NotificationOutbox(store, context.Bus, context.Redis, context.Channels, new StaticOptions<OutboxOptions>(new OutboxOptions()), time, NullLogger<NotificationOutbox>.Instance);
        var notifier = new TaskNotifier(store, context.Bus, new TaskEvents(context.Bus, time), _outbox,
            new NotificationIds(time), time, NullLogger<TaskNotifier>.Instance);
        var handlers = new TaskHandlerRegistry([Handler]);
        var settings = new QueueSettings(new StaticOptions<QueueOptions>(context.Options));
        var options = new StaticOptions<WorkerOptions>(new WorkerOptions { ShutdownGrace = TimeSpan.Zero, PollInterval = TimeSpan.FromMilliseconds(200) });
        var recovery = new ExpiredTaskRecovery(context.Queue, settings, notifier, handlers, options, NullLogger<ExpiredTaskRecovery>.Instance);
        Dispatcher = new TaskDispatcher(context.Queue, context.Progress, handlers, notifier, recovery, settings, options, time, NullLogger<TaskDispatcher>.Instance);
    }

    public QueueTestContext Context { get; }

    public FakeTimeProvider Time => Context.FakeTime!;

    public GatedHandler Handler { get; } = new();

    public TaskDispatcher Dispatcher { get; }

    /// <summary>A dispatcher on <paramref name="redis"/> with the visibility timeout <paramref name="visibility"/>, started.</summary>
    public static async Task<InProcessDispatcher> StartAsync(RedisServer redis, TimeSpan visibility)
    {
        var context = await QueueTestContext.CreateAsync(redis, o => o.VisibilityTimeout = visibility, fakeTime: true);
        var host = new InProcessDispatcher(context);
        await host.Dispatcher.StartAsync(TestContext.Current.CancellationToken);
        return host;
    }

    /// <summary>The task's lease deadline as Redis holds it (0 when it has none).</summary>
    public async Task<long> DeadlineAsync(string taskId) =>
        (long?)await Context.Redis.GetDatabase().HashGetAsync($"{Context.Options.KeyPrefix}:task:{taskId}", "deadline") ?? 0;

    public async ValueTask DisposeAsync()
    {
        Handler.ReleaseAll();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Dispatcher.StopAsync(stop.Token);
        Dispatcher.Dispose();
        _outbox.Dispose();
        _database.Dispose();
        TestEnvironment.DeleteSqliteFiles(_path);
        await Context.DisposeAsync();
    }
}

/// <summary>
/// Kind <c>gated</c>: each attempt waits for its token to fire, then keeps unwinding (ignoring the
/// token) until the test releases it, the way a handler caught in slow clean-up does.
/// </summary>
internal sealed class GatedHandler : ITaskHandler
{
    private readonly ConcurrentQueue<Attempt> _attempts = new();
    private volatile bool _releaseAll;

    public string Kind => "gated";

    public bool NotifyOwner => false;

    public IReadOnlyList<Attempt> Attempts => [.. _attempts];

    public async Task<JsonElement?> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var attempt = new Attempt(context.Attempt, cancellationToken);
        _attempts.Enqueue(attempt);
        try
        {
            if (!_releaseAll)
            {
                await cancellationToken.WhenCancelled();
                attempt.Cancelled.TrySetResult();
                await attempt.Release.Task;
            }
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
        finally
        {
            attempt.Returned.TrySetResult();
        }
    }

    /// <summary>Lets every attempt, present and future, finish.</summary>
    public void ReleaseAll()
    {
        _releaseAll = true;
        foreach (var attempt in _attempts)
        {
            attempt.Release.TrySetResult();
        }
    }

    /// <summary>Waits until attempt number <paramref name="n"/> (1-based, in start order) has started.</summary>
    public async Task<Attempt> StartedAsync(int n)
    {
        await WorkerCluster.WaitUntilAsync(() => Task.FromResult(_attempts.Count >= n), TimeSpan.FromSeconds(30), $"attempt {n} started");
        return Attempts[n - 1];
    }

    internal sealed class Attempt(int number, CancellationToken token)
    {
        public int Number { get; } = number;
        public CancellationToken Token { get; } = token;
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Returned { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

internal static class CancellationTokenWaits
{
    /// <summary>Completes when <paramref name="token"/> fires.</summary>
    public static Task WhenCancelled(this CancellationToken token)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => done.TrySetResult());
        return done.Task;
    }
}
