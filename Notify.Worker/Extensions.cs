using System.Text.RegularExpressions;
using Hangfire;
using Hangfire.Redis.StackExchange;
using Microsoft.Extensions.Options;
using Notify.Core.Auth;
using Notify.Core.Messaging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Notify.Core.Presence;
using Notify.Core.Push;
using Notify.Worker.Push;
using Notify.Core.Storage;
using Notify.Core.Tasks;
using Notify.Worker.Dashboard;
using Notify.Worker.Handlers;
using Notify.Worker.Jobs;
using Notify.Worker.Queue;
using StackExchange.Redis;

namespace Notify.Worker;

internal static partial class Extensions
{
    /// <summary>Everything the Worker service needs besides the service defaults.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");
        builder.Services.AddRedisClusterCheck();
        builder.AddNotifyAuthentication();
        builder.AddNotifyStore();
        builder.AddPushSubscriptions();
        builder.AddNotificationOutbox();
        builder.AddTaskQueue();

        var services = builder.Services;
        services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => CronShape().IsMatch(o.RecoveryCron), "Worker:RecoveryCron must be a cron expression of 5 or 6 fields.")
            .Validate(o => CronShape().IsMatch(o.CleanupCron), "Worker:CleanupCron must be a cron expression of 5 or 6 fields.")
            .ValidateOnStart();
        services.AddOptions<DemoHandlerOptions>()
            .BindConfiguration(DemoHandlerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<QueueOptions>, HandlersCoverKinds>();
        // The admin channel's history (failure messages) is kept with the same limits as the Api's.
        services.AddOptions<ChannelOptions>()
            .BindConfiguration(ChannelOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Task handlers by kind; add an ITaskHandler registration to add a kind (and list it in Queue:Kinds).
        // Only the enabled kinds run: a disabled kind's task fails with "no handler" instead.
        services.AddSingleton<ITaskHandler, DemoTaskHandler>();
        services.AddSingleton<ITaskHandler, NoopTaskHandler>();
        services.AddSingleton(sp =>
        {
            var enabled = sp.GetRequiredService<IOptions<QueueOptions>>().Value.EnabledKinds;
            return new TaskHandlerRegistry(sp.GetServices<ITaskHandler>().Where(h => enabled.Contains(h.Kind, StringComparer.Ordinal)));
        });

        // Web Push: the default policy reads the user's push preference, then presence; register another IPushPolicy first to replace it.
        services.TryAddSingleton<IPresence, RedisPresence>();
        services.TryAddSingleton<IPushPolicy, PreferencePushPolicy>();
        services.AddSingleton<WebPushSender>();
        services.AddHostedService<PushDispatcher>();

        services.AddSingleton<TaskNotifier>();
        services.AddSingleton<ExpiredTaskRecovery>();
        services.AddSingleton<TaskDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<TaskDispatcher>());

        // Hangfire: Redis storage on the process's shared multiplexer; hosts the recurring jobs.
        services.AddTransient<ExpiredTaskRecoveryJob>();
        services.AddTransient<NotificationCleanupJob>();
        services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseRedisStorage(sp.GetRequiredService<IConnectionMultiplexer>(), new RedisStorageOptions
            {
                Prefix = sp.GetRequiredService<IOptions<WorkerOptions>>().Value.HangfirePrefix,
            }));
        services.AddHangfireServer((sp, server) =>
        {
            var o = sp.GetRequiredService<IOptions<WorkerOptions>>().Value;
            server.WorkerCount = o.HangfireWorkerCount;
            server.SchedulePollingInterval = o.SchedulePollingInterval;
            server.ServerName = sp.GetRequiredService<TaskDispatcher>().WorkerId;
        });
        services.AddHostedService<RecurringJobsRegistrar>();
        services.AddHostedService<SnoozeWaker>();
        services.AddSingleton<AdminDashboardAuthorizationFilter>();
    }

    [GeneratedRegex(@"^\s*\S+(\s+\S+){4,5}\s*$")]
    private static partial Regex CronShape();

    /// <summary>Fails start-up when a kind the Api accepts (<c>Queue:Kinds</c>) has no handler in this Worker.</summary>
    private sealed class HandlersCoverKinds(IEnumerable<ITaskHandler> handlers) : IValidateOptions<QueueOptions>
    {
        public ValidateOptionsResult Validate(string? name, QueueOptions options)
        {
            var known = handlers.Select(h => h.Kind).ToHashSet(StringComparer.Ordinal);
            var missing = options.EnabledKinds.Where(k => !known.Contains(k)).ToArray();
            return missing.Length == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"Queue:Kinds lists {string.Join(", ", missing)} but this Worker has no handler for it.");
        }
    }
}
