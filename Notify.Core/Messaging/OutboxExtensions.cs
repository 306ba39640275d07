using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Notify.Core.Messaging;

/// <summary>Registration of the notification outbox for services that create notifications (the Api, the Worker).</summary>
public static class OutboxExtensions
{
    /// <summary>
    /// Binds <see cref="OutboxOptions"/> (section <c>Outbox</c>, validated at start) and registers
    /// <see cref="NotificationOutbox"/> as a singleton and a hosted service. Needs the notification store
    /// (<c>AddNotificationStore</c>) and an <c>IConnectionMultiplexer</c> (<c>AddRedisClient("redis")</c>).
    /// </summary>
    public static IHostApplicationBuilder AddNotificationOutbox(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<OutboxOptions>()
            .BindConfiguration(OutboxOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(new RedisChannels());
        builder.Services.TryAddSingleton<IMessageBus, RedisMessageBus>();
        builder.Services.TryAddSingleton<NotificationOutbox>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NotificationOutbox>());
        return builder;
    }
}
