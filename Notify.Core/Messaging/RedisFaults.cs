using StackExchange.Redis;

namespace Notify.Core.Messaging;

/// <summary>
/// How the Redis adapters keep Redis behind their ports: a Redis failure (connection, timeout, server
/// error) leaves an adapter as its port's documented unavailable exception, never as a Redis type.
/// </summary>
internal static class RedisFaults
{
    /// <summary>Whether <paramref name="exception"/> is a failure of Redis itself.</summary>
    public static bool IsRedisFailure(Exception exception) => exception is RedisException or RedisTimeoutException;

    /// <summary>Awaits <paramref name="operation"/>, translating a Redis failure with <paramref name="translate"/>.</summary>
    public static async Task<T> Translate<T>(Task<T> operation, Func<Exception, Exception> translate)
    {
        try
        {
            return await operation;
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            throw translate(ex);
        }
    }

    /// <summary>Awaits <paramref name="operation"/>, translating a Redis failure with <paramref name="translate"/>.</summary>
    public static async Task Translate(Task operation, Func<Exception, Exception> translate)
    {
        try
        {
            await operation;
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            throw translate(ex);
        }
    }
}
