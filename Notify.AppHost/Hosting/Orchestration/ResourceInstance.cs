using System.Diagnostics;

namespace Notify.AppHost.Hosting;

/// <summary>What the resource table and the testing host see of a resource (or of one replica of a project).</summary>
public enum ResourceState
{
    /// <summary>Waiting for the resources it waits for.</summary>
    Waiting,
    /// <summary>Started, not yet healthy.</summary>
    Starting,
    Healthy,
    /// <summary>Exited unexpectedly; starts again after a delay.</summary>
    Restarting,
    /// <summary>Crashed more often in a row than <see cref="AppHostOptions.MaxRestarts"/> allows; stays down.</summary>
    Failed,
    /// <summary>Stopped on purpose (shutdown, or the testing host stopped this replica).</summary>
    Stopped,
    /// <summary>Not started by the AppHost: an existing server named by a connection string.</summary>
    External,
    /// <summary>Not available locally (no <c>mongod</c>); its dependents use the embedded fallback.</summary>
    Skipped,
}

/// <summary>One supervised unit: redis, mongo, or one replica of a project (<c>realtime-0</c>).</summary>
internal sealed class ResourceInstance(string name, IResource resource, int replica)
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _resume = new(0);
    private readonly List<int> _processIds = [];
    private TaskCompletionSource _healthy = NewSignal();
    private volatile ResourceState _state = ResourceState.Waiting;
    private volatile bool _held;
    private volatile bool _killRequested;

    public string Name { get; } = name;

    public IResource Resource { get; } = resource;

    public int Replica { get; } = replica;

    public ResourceState State
    {
        get => _state;
        set => _state = value;
    }

    /// <summary>The HTTP base address of a project replica.</summary>
    public Uri? Url { get; init; }

    /// <summary>host:port of a server resource.</summary>
    public string? Endpoint { get; init; }

    /// <summary>One line of context for the resource table.</summary>
    public string? Note { get; set; }

    /// <summary>Builds the start info for each (re)start; null for resources the AppHost does not start.</summary>
    public Func<ProcessStartInfo>? StartInfo { get; init; }

    /// <summary>Answers true once the running resource is ready.</summary>
    public required Func<CancellationToken, Task<bool>> Probe { get; init; }

    public ChildProcess? Process { get; private set; }

    /// <summary>Set while the instance is stopped on purpose: the supervisor does not restart it until resumed.</summary>
    public bool Held
    {
        get => _held;
        set => _held = value;
    }

    /// <summary>Set by a deliberate kill, so its exit is not counted as a crash.</summary>
    public bool KillRequested
    {
        get => _killRequested;
        set => _killRequested = value;
    }

    /// <summary>Every pid this instance ever had, oldest first.</summary>
    public IReadOnlyList<int> ProcessIds
    {
        get
        {
            lock (_gate)
            {
                return [.. _processIds];
            }
        }
    }

    /// <summary>Starts the process unless <paramref name="stopping"/> is already set (checked under the same lock the stop takes).</summary>
    public ChildProcess? StartProcess(CancellationToken stopping, Action<string> onLine)
    {
        lock (_gate)
        {
            if (stopping.IsCancellationRequested)
            {
                return null;
            }
            Process?.Dispose();
            Process = ChildProcess.Start(StartInfo!(), onLine);
            _processIds.Add(Process.Pid);
            if (_healthy.Task.IsCompleted)
            {
                _healthy = NewSignal();
            }
            State = ResourceState.Starting;
            return Process;
        }
    }

    /// <summary>The current process once no new one can start (call after cancelling the stopping token).</summary>
    public ChildProcess? CurrentProcess()
    {
        lock (_gate)
        {
            return Process;
        }
    }

    /// <summary>The instance is down: waiters wait for its next healthy start.</summary>
    public void ResetHealth()
    {
        lock (_gate)
        {
            if (_healthy.Task.IsCompleted)
            {
                _healthy = NewSignal();
            }
        }
    }

    public void MarkHealthy(ResourceState state = ResourceState.Healthy)
    {
        State = state;
        _healthy.TrySetResult();
    }

    public void MarkFailed(string reason)
    {
        State = ResourceState.Failed;
        _healthy.TrySetException(new AppHostException(reason));
    }

    /// <summary>Completes when the instance is healthy (now, or after its next start).</summary>
    public Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        Task current;
        lock (_gate)
        {
            current = _healthy.Task;
        }
        return current.WaitAsync(cancellationToken);
    }

    public void Resume()
    {
        if (!Held)
        {
            return;
        }
        Held = false;
        _resume.Release();
    }

    public Task WaitResumeAsync(CancellationToken cancellationToken) => _resume.WaitAsync(cancellationToken);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
