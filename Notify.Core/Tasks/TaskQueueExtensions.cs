using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Notify.Core.Messaging;

namespace Notify.Core.Tasks;

/// <summary>Registration of the task queue and progress store.</summary>
public static class TaskQueueExtensions
{
    /// <summary>
    /// Binds <see cref="QueueOptions"/> (section <c>Queue</c>, validated at start; <c>Queue:EnableDemoKinds</c>
    /// defaults to whether the environment is Development) and registers
    /// <see cref="ITaskQueue"/> (<see cref="RedisTaskQueue"/>), <see cref="IProgressStore"/>
    /// (<see cref="RedisProgressStore"/>), <see cref="QueueSettings"/> and <see cref="TaskEvents"/>. Needs an
    /// <c>IConnectionMultiplexer</c> (<c>AddRedisClient("redis")</c>) and an <see cref="IMessageBus"/>.
    /// </summary>
    public static IHostApplicationBuilder AddTaskQueue(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<QueueOptions>()
            .Bind(builder.Configuration.GetSection(QueueOptions.SectionName))
            .ValidateDataAnnotations()
            .PostConfigure(o => o.EnableDemoKinds ??= builder.Environment.IsDevelopment())
            .Validate(o => o.Kinds.All(k => !string.IsNullOrWhiteSpace(k)), "Queue:Kinds must not contain empty names.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(new RedisChannels());
        builder.Services.TryAddSingleton<IMessageBus, RedisMessageBus>();
        builder.Services.TryAddSingleton<RedisTaskQueue>();
        builder.Services.TryAddSingleton<ITaskQueue>(sp => sp.GetRequiredService<RedisTaskQueue>());
        builder.Services.TryAddSingleton<IProgressStore, RedisProgressStore>();
        builder.Services.TryAddSingleton<TaskEvents>();
        builder.Services.TryAddSingleton(sp => new QueueSettings(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<QueueOptions>>(), sp.GetService<Settings.RuntimeSettings>()));
        return builder;
    }
}
