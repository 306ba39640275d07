using System.Text.Json;
using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Worker;

public sealed class RecurringJobsTests
{
    private const string Cron = "0 0 1 1 *";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RecurringJobs_RedisFlushedUnderRunningWorkers_AreRegisteredAgainAndAKilledWorkersTaskIsRecovered()
    {
        // A Redis of its own: this test flushes it.
        var own = new RedisServer();
        await own.InitializeAsync();
        try
        {
            // Jobs that are never due during the test: Hangfire's scheduler writes a job back right after it
            // ran it, and a flush in that instant would bring it back without any registration.
            await using var cluster = await WorkerCluster.CreateAsync(own, new Dictionary<string, string>
            {
                ["Worker:RecurringJobsInterval"] = "00:00:01",
                ["Worker:RecoveryCron"] = Cron,
                ["Worker:CleanupCron"] = Cron,
            });
            var workers = await Task.WhenAll(cluster.StartWorkerAsync(), cluster.StartWorkerAsync());
            var db = cluster.Redis.GetDatabase();
            var hangfire = cluster.HangfirePrefix;
            var recurringJobs = (StackExchange.Redis.RedisKey)(hangfire + "recurring-jobs");
            await WorkerCluster.WaitUntilAsync(async () => await db.SortedSetLengthAsync(recurringJobs) == 2, TimeSpan.FromSeconds(30), "recurring jobs registered");

            await db.ExecuteAsync("FLUSHALL");
            Assert.Equal(0, await db.SortedSetLengthAsync(recurringJobs));
            await WorkerCluster.WaitUntilAsync(async () => await db.SortedSetLengthAsync(recurringJobs) == 2, TimeSpan.FromSeconds(30), "recurring jobs registered again");
            Assert.Equal(Cron, (string?)await db.HashGetAsync($"{hangfire}recurring-job:queue-recover-expired", "Cron"));

            // A task whose worker dies after the flush is given back (here by the survivor's sweep).
            var frames = await cluster.RecordTaskFramesAsync();
            var task = await cluster.Queue.EnqueueAsync("ivy-" + Guid.NewGuid().ToString("N"), "demo",
                JsonSerializer.SerializeToElement(new { steps = 4, step_ms = 250 }), Ct);
            await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.For(task.Id).Any(f => f.Type == "progress" && f.Data.GetProperty("step").GetInt32() >= 1)),
                TimeSpan.FromSeconds(30), "task running");
            var holder = (await cluster.Queue.GetAsync(task.Id, Ct))!.WorkerId!;
            var victim = workers.Single(w => holder.Contains($":{w.Pid}:", StringComparison.Ordinal));
            await victim.KillAsync();

            await WorkerCluster.WaitUntilAsync(() => Task.FromResult(frames.TerminalCount(task.Id) == 1), TimeSpan.FromSeconds(60), "task recovered and finished by the other worker");
            var record = (await cluster.Queue.GetAsync(task.Id, Ct))!;
            Assert.Equal(TaskState.Completed, record.Status);
            Assert.Equal(2, record.Attempts);
            Assert.Equal(2, await db.SortedSetLengthAsync(recurringJobs));
        }
        finally
        {
            await own.DisposeAsync();
        }
    }
}
