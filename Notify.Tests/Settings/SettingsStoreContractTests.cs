using Notify.Core.Settings;

namespace Notify.Tests.Settings;

/// <summary>The behaviour every <see cref="ISettingsStore"/> adapter must have; subclasses supply fresh storage.</summary>
public abstract class SettingsStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    protected ISettingsStore Store { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<ISettingsStore> CreateStoreAsync();

    public async ValueTask InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.InitializeAsync(Ct);
        await Store.InitializeAsync(Ct);
    }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private static Dictionary<string, string> Values(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    [Fact]
    public async Task GetAsync_NothingStored_ReturnsVersionZero()
    {
        var stored = await Store.GetAsync(Ct);

        Assert.Equal(0, stored.Version);
        Assert.Empty(stored.Values);
        Assert.Null(stored.UpdatedAt);
    }

    [Fact]
    public async Task TryPutAsync_InSequence_StoresValuesAndBumpsVersion()
    {
        var first = await Store.TryPutAsync(Values(("Realtime:HeartbeatIntervalSeconds", "20")), 0, Now, Ct);
        var second = await Store.TryPutAsync(Values(("Sse:TaskMaxIdleSeconds", "120"), ("Retention:Days", "7")), 1, Now.AddMinutes(1), Ct);
        var read = await Store.GetAsync(Ct);

        Assert.Equal(1, first!.Version);
        Assert.Equal(2, second!.Version);
        Assert.Equal(2, read.Version);
        Assert.Equal(Now.AddMinutes(1), read.UpdatedAt);
        // A put replaces the whole set.
        Assert.Equal(Values(("Sse:TaskMaxIdleSeconds", "120"), ("Retention:Days", "7")), read.Values);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(5)]
    public async Task TryPutAsync_StaleVersion_ReturnsNullAndKeepsValues(long staleVersion)
    {
        await Store.TryPutAsync(Values(("Retention:Days", "30")), 0, Now, Ct);

        var result = await Store.TryPutAsync(Values(("Retention:Days", "1")), staleVersion, Now, Ct);

        Assert.Null(result);
        var read = await Store.GetAsync(Ct);
        Assert.Equal(1, read.Version);
        Assert.Equal("30", read.Values["Retention:Days"]);
    }

    [Fact]
    public async Task TryPutAsync_ConcurrentWritersOnOneVersion_ExactlyOneWins()
    {
        await Store.TryPutAsync(Values(("Retention:Days", "30")), 0, Now, Ct);
        using var go = new ManualResetEventSlim();

        var calls = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            go.Wait(Ct);
            return await Store.TryPutAsync(Values(("Retention:Days", (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))), 1, Now, Ct);
        }, Ct)).ToList();
        go.Set();
        var results = await Task.WhenAll(calls);

        var winner = Assert.Single(results, r => r is not null);
        var read = await Store.GetAsync(Ct);
        Assert.Equal(2, read.Version);
        Assert.Equal(winner!.Values["Retention:Days"], read.Values["Retention:Days"]);
    }
}
