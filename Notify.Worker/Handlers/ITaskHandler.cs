using System.Text.Json;

namespace Notify.Worker.Handlers;

/// <summary>
/// Runs the tasks of one <see cref="Kind"/>. A handler reports progress through the
/// <see cref="TaskContext"/>, honours the token (it fires on a cancel request, on a lost lease and at
/// shutdown), and returns the task's result or throws to fail the attempt (retried up to
/// <c>Queue:MaxAttempts</c>). A handler may run again for the same task after a worker crash:
/// <see cref="TaskContext.Previous"/> tells where the earlier attempt got to.
/// </summary>
public interface ITaskHandler
{
    /// <summary>The task kind this handler runs (<c>POST /api/tasks</c> <c>kind</c>).</summary>
    string Kind { get; }

    /// <summary>Whether the task's owner gets an inbox notification when the task completes or fails.</summary>
    bool NotifyOwner => true;

    /// <summary>Runs one attempt; the returned JSON (or null) is the task's result.</summary>
    Task<JsonElement?> RunAsync(TaskContext context, CancellationToken cancellationToken);
}
