using Microsoft.Extensions.Options;

namespace Notify.Tests.Infrastructure;

/// <summary>Options that never change, for adapters built by hand in a test.</summary>
public sealed class StaticOptions<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
