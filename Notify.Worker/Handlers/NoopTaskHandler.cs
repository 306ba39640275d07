using System.Text.Json;

namespace Notify.Worker.Handlers;

/// <summary>Kind <c>noop</c>: does nothing and completes at once; measures the queue's own cost. Sends no inbox notification.</summary>
public sealed class NoopTaskHandler : ITaskHandler
{
    public string Kind => "noop";

    public bool NotifyOwner => false;

    public Task<JsonElement?> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<JsonElement?>(null);
    }
}
