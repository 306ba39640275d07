using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Notify.Core.Storage;
using Notify.Core.Storage.Sqlite;
using Notify.Tests.Infrastructure;
using Notify.Tests.Realtime;
using StackExchange.Redis;

namespace Notify.Tests.Faults;

/// <summary>
/// A Redis Sentinel failover under load, with every service as deployed: a primary, two replicas and
/// three Sentinels; two Realtime instances, the Api and two Workers, all given only the sentinel
/// connection string. The primary is killed during a steady stream of creates and tasks; nothing is
/// restarted. What must hold: every notification the Api acknowledged reaches every connected client
/// once, in order, on the stream it already had; every accepted task completes, started once; Hangfire's
/// recurring jobs run again on the new primary. Each test starts and kills its own processes.
/// </summary>
public sealed class SentinelFaultTests : IAsyncLifetime
{
    private const string ApiKey = "sentinel-tests-api-key-0123456789abcdef";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly string _sqlitePath = RealtimeHost.NewSqlitePath();
    private readonly string _unique = Guid.NewGuid().ToString("N")[..10];
    private readonly List<IAsyncDisposable> _owned = [];
    private RedisSentinelSet _set = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _set = await RedisSentinelSet.StartAsync();

    public async ValueTask DisposeAsync()
    {
        // Clients first, then the services, then Redis: nothing is left behind, also after a failure.
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
        await _set.DisposeAsync();
        TestEnvironment.DeleteSqliteFiles(_sqlitePath);
    }

    [Fact]
    public async Task PrimaryKilled_UnderCreatesAndTasks_NoAcknowledgedNotificationLostAndEveryTaskRunsOnce()
    {
        var (realtimeA, realtimeB, api, workers) = await StartServicesAsync();
        using var http = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        var users = Enumerable.Range(0, 4).Select(i => $"sent{i}-{Guid.NewGuid():N}"[..24]).ToArray();
        var clients = new List<LiveClient>();
        foreach (var user in users)
        {
            clients.Add(Own(await LiveClient.StartAsync(user, [realtimeA, realtimeB])));
            clients.Add(Own(await LiveClient.StartAsync(user, [realtimeB, realtimeA])));
        }
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_set.ConnectionString);

        using var stop = new CancellationTokenSource();
        var acknowledged = users.ToDictionary(u => u, _ => new List<(string Id, long At)>(), StringComparer.Ordinal);
        var producers = users.Select(user => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                if (await CreateAsync(http, user, $"n{i}") is { } id)
                {
                    lock (acknowledged[user])
                    {
                        acknowledged[user].Add((id, Stopwatch.GetTimestamp()));
                    }
                }
                await Task.Delay(25, CancellationToken.None);
            }
        }, Ct)).ToList();
        var taskUser = "sent-tasks-" + _unique;
        var tasks = new ConcurrentBag<string>();
        producers.Add(Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (await CreateTaskAsync(http, taskUser) is { } id)
                {
                    tasks.Add(id);
                }
                await Task.Delay(150, CancellationToken.None);
            }
        }, Ct));

        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        var old = await _set.KillPrimaryAsync();
        var killedAt = Stopwatch.GetTimestamp();
        var killedAtWall = DateTimeOffset.UtcNow;
        var promoted = await _set.WaitForNewPrimaryAsync(old, Deadline);
        var promotedAfter = Stopwatch.GetElapsedTime(killedAt);
        await Task.Delay(TimeSpan.FromSeconds(5), Ct);
        await stop.CancelAsync();
        await Task.WhenAll(producers).WaitAsync(Deadline, Ct);

        // Notifications: all of them, once, in order, on the stream each client already had.
        foreach (var client in clients)
        {
            var expected = acknowledged[client.User].Select(a => a.Id).ToList();
            Assert.NotEmpty(expected);
            await client.WaitForAsync(expected, c => c.Notifications(), Deadline);
            var received = client.Notifications();
            var missing = expected.Except(received).ToList();
            Assert.True(missing.Count == 0, $"{client.User} (first on {client.FirstInstance}): {missing.Count} of {expected.Count} acknowledged notifications never arrived\n"
                + Explain(acknowledged[client.User], client, missing, killedAt) + "\n" + RealtimeLogs(realtimeA, realtimeB));
            Assert.True(received.Count == received.Distinct().Count(), $"{client.User}: {received.Count - received.Distinct().Count()} duplicates");
            Assert.Equal(expected, received);
            Assert.Equal(1, client.Connects);
        }
        // Deliveries resume where the longest silence in the merged arrivals since just before the kill ends.
        var arrivals = clients.SelectMany(c => c.Notifications().Select(id => c.ArrivedAt(id)!.Value))
            .Where(t => t > killedAt - Stopwatch.Frequency).Order().ToList();
        var resumedAt = arrivals.Zip(arrivals.Skip(1)).MaxBy(p => p.Second - p.First).Second;
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"failover: deliveries resumed {Stopwatch.GetElapsedTime(killedAt, resumedAt).TotalMilliseconds:F0} ms after the primary was killed; a Sentinel named the promoted {promoted} after {promotedAfter.TotalMilliseconds:F0} ms; {tasks.Count} tasks"));

        // Every service reports itself healthy on the new primary, though the old one stays dead.
        foreach (var service in new[] { realtimeA, realtimeB, api }.Concat(workers))
        {
            using var probe = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            await WaitUntilAsync(async () => (await probe.GetAsync("/health", Ct)).StatusCode == HttpStatusCode.OK, $"{service.Name} healthy after the failover");
        }

        // The Api published everything that waited in its outbox.
        await WaitUntilAsync(async () => await UnpublishedCountAsync() == 0, "the outbox empty");

        // Tasks: every accepted task completes. Dequeues and lease renewals count only once a replica holds
        // them, so a run cut off by the failover stops itself before its lease can expire on the new primary,
        // and is started again there (attempt 2). A run that lost its lease must be one of the retried tasks.
        Assert.True(tasks.Count >= 10, $"only {tasks.Count} tasks were accepted");
        using var owner = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        owner.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.For(taskUser));
        var retried = 0;
        foreach (var id in tasks)
        {
            JsonElement task = default;
            await WaitUntilAsync(async () =>
            {
                task = await owner.GetFromJsonAsync<JsonElement>($"/api/tasks/{id}", Ct);
                return task.GetProperty("status").GetString() is "completed" or "failed" or "cancelled";
            }, $"task {id} finished");
            Assert.True(task.GetProperty("status").GetString() == "completed", task.GetRawText());
            retried += task.GetProperty("attempts").GetInt32() > 1 ? 1 : 0;
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{retried} of {tasks.Count} tasks started a second time after their lease expired");
        var lostLeases = workers.Sum(w => CountOf(w.RecentLog, "lost its lease"));
        Assert.True(lostLeases <= retried, $"{lostLeases} runs lost their lease but only {retried} tasks were retried");

        // Hangfire: the every-second recovery job ran again after the failover, on the new primary.
        var lastExecution = (RedisKey)$"shf:{_unique}:recurring-job:queue-recover-expired";
        await WaitUntilAsync(async () =>
            await redis.GetDatabase().HashGetAsync(lastExecution, "LastExecution") is { HasValue: true } last
            && DateTimeOffset.FromUnixTimeMilliseconds((long)last) > killedAtWall, "Hangfire's recurring job ran after the failover");
    }

    /// <summary>Where each missing notification sat among the acknowledged ones: ms from the kill, and what arrived around it.</summary>
    private static string Explain(List<(string Id, long At)> acknowledged, LiveClient client, List<string> missing, long killedAt)
    {
        string Ms(long at) => Stopwatch.GetElapsedTime(killedAt, at).TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)
            + (at < killedAt ? " (before the kill)" : "");
        var lines = new List<string>();
        foreach (var id in missing.Take(3))
        {
            var index = acknowledged.FindIndex(a => a.Id == id);
            lines.Add($"missing #{index} {id}: acknowledged {Ms(acknowledged[index].At)} ms after the kill");
            for (var i = Math.Max(0, index - 2); i <= Math.Min(acknowledged.Count - 1, index + 2); i++)
            {
                var arrived = client.ArrivedAt(acknowledged[i].Id);
                lines.Add($"  #{i} {acknowledged[i].Id} acknowledged {Ms(acknowledged[i].At)}, arrived {(arrived is { } a ? Ms(a) : "never")}");
            }
        }
        return string.Join('\n', lines);
    }

    private static string RealtimeLogs(params ServiceProcess[] instances) =>
        string.Join('\n', instances.Select(i => $"--- {i.Name} {i.BaseAddress} ---\n" + string.Join('\n', i.RecentLog.Split('\n').TakeLast(40))));

    private T Own<T>(T disposable) where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    private async Task<(ServiceProcess RealtimeA, ServiceProcess RealtimeB, ServiceProcess Api, ServiceProcess[] Workers)> StartServicesAsync()
    {
        var common = new Dictionary<string, string?>
        {
            ["ConnectionStrings__redis"] = _set.ConnectionString,
            ["Store__SqlitePath"] = _sqlitePath,
            ["Auth__SigningKey"] = TestEnvironment.SigningKey,
            ["Auth__EnableDevTokens"] = "true",
            ["Auth__ClockSkew"] = "00:00:00",
            ["Queue__KeyPrefix"] = "stq:" + _unique,
            // Longer than a failover: a lease survives it, so no task is handed to another Worker meanwhile.
            ["Queue__VisibilityTimeout"] = "00:00:15",
        };
        Dictionary<string, string?> With(params (string Key, string Value)[] settings)
        {
            var environment = new Dictionary<string, string?>(common);
            foreach (var (key, value) in settings)
            {
                environment[key] = value;
            }
            return environment;
        }
        var realtime = With(("Realtime__MaxReplay", "5000"), ("Realtime__HeartbeatInterval", "00:00:02"));
        var api = With(("Auth__ApiKeys__faults", ApiKey), ("Outbox__SweepInterval", "00:00:01"), ("Outbox__BatchSize", "50"));
        var worker = With(("Worker__HangfirePrefix", $"shf:{_unique}:"), ("Worker__RecoveryCron", "* * * * * *"),
            ("Worker__ShutdownGrace", "00:00:01"), ("Worker__Demo__StepDuration", "00:00:00.100"));
        Task<ServiceProcess>[] starting =
        [
            ServiceProcess.StartAsync("Notify.Realtime", realtime, Deadline),
            ServiceProcess.StartAsync("Notify.Realtime", realtime, Deadline),
            ServiceProcess.StartAsync("Notify.Api", api, Deadline),
            ServiceProcess.StartAsync("Notify.Worker", worker, Deadline),
            ServiceProcess.StartAsync("Notify.Worker", worker, Deadline),
        ];
        try
        {
            await Task.WhenAll(starting);
        }
        finally
        {
            // Whatever started is stopped on dispose, also when another one failed to start.
            _owned.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
        }
        return (starting[0].Result, starting[1].Result, starting[2].Result, [starting[3].Result, starting[4].Result]);
    }

    private static async Task<string?> CreateAsync(HttpClient http, string user, string title)
    {
        try
        {
            using var response = await http.PostAsJsonAsync("/api/notifications", new Dictionary<string, string> { ["user_id"] = user, ["type"] = "sentinel", ["title"] = title }, CancellationToken.None);
            return response.StatusCode == HttpStatusCode.Created
                ? (await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None)).GetProperty("id").GetString()
                : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task<string?> CreateTaskAsync(HttpClient http, string user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tasks")
        {
            Content = JsonContent.Create(new { kind = "demo", @params = new { steps = 4, step_ms = 100 } }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.For(user));
        try
        {
            using var response = await http.SendAsync(request, CancellationToken.None);
            return response.IsSuccessStatusCode
                ? (await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None)).GetProperty("task_id").GetString()
                : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private async Task<int> UnpublishedCountAsync()
    {
        using var database = new SqliteDatabase(_sqlitePath, TimeSpan.FromSeconds(10), 1, SqliteSynchronousMode.Normal);
        return (await new SqliteNotificationStore(database).ListUnpublishedAsync(100_000, Ct)).Count;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < Deadline, "timed out waiting for " + what);
            await Task.Delay(200, Ct);
        }
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
