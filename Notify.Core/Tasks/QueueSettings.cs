using Microsoft.Extensions.Options;
using Notify.Core.Settings;

namespace Notify.Core.Tasks;

/// <summary>
/// The queue limits in effect now: the concurrency limits from the runtime settings
/// (<c>Queue:PerUserConcurrency</c>, <c>Queue:GlobalConcurrency</c>: stored value, else configuration,
/// else default) when the service has them, the rest from <see cref="QueueOptions"/>. Read on every
/// dequeue, so a change applies without a restart.
/// </summary>
public sealed class QueueSettings(IOptionsMonitor<QueueOptions> options, RuntimeSettings? runtime = null)
{
    /// <summary>The current limits.</summary>
    public QueueLimits Current
    {
        get
        {
            var o = options.CurrentValue;
            return runtime is null
                ? o.Limits
                : new QueueLimits(
                    runtime.GetInt32(RuntimeSettingKeys.QueuePerUserConcurrency),
                    runtime.GetInt32(RuntimeSettingKeys.QueueGlobalConcurrency),
                    o.VisibilityTimeout,
                    o.MaxAttempts);
        }
    }
}
