using Notify.Core.Tasks;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Tasks;

/// <summary>The task queue contract on <see cref="RedisTaskQueue"/> and a real redis-server.</summary>
public sealed class RedisTaskQueueContractTests(RedisServer redis) : TaskQueueContractTests, IClassFixture<RedisServer>
{
    protected override async Task<ITaskQueueHarness> CreateAsync(Action<QueueOptions>? configure = null, bool fakeTime = false) =>
        await QueueTestContext.CreateAsync(redis, configure, fakeTime);
}
