using System.Collections.Frozen;

namespace Notify.Worker.Handlers;

/// <summary>The registered <see cref="ITaskHandler"/>s by kind; a kind registered twice is a start-up error.</summary>
public sealed class TaskHandlerRegistry
{
    private readonly FrozenDictionary<string, ITaskHandler> _handlers;

    public TaskHandlerRegistry(IEnumerable<ITaskHandler> handlers)
    {
        var map = new Dictionary<string, ITaskHandler>(StringComparer.Ordinal);
        foreach (var handler in handlers)
        {
            if (!map.TryAdd(handler.Kind, handler))
            {
                throw new InvalidOperationException($"Two task handlers for kind '{handler.Kind}'.");
            }
        }
        _handlers = map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Kinds => _handlers.Keys;

    public ITaskHandler? Find(string kind) => _handlers.GetValueOrDefault(kind);
}
