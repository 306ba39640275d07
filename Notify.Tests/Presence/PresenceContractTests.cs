using Microsoft.Extensions.Time.Testing;
using Notify.Core.Presence;

namespace Notify.Tests.Presence;

/// <summary>
/// The behaviour every <see cref="IPresence"/> must have, as the port documents it: a snapshot counts
/// until its TTL passes, publishing replaces it and restarts the TTL, removing drops it at once.
/// Subclasses supply registries that share storage within one test and nothing with other tests, clocked
/// by <see cref="Time"/>.
/// </summary>
public abstract class PresenceContractTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A registry on this test's private storage, clocked by <see cref="Time"/>.</summary>
    protected abstract Task<IPresence> CreatePresenceAsync();

    private InstancePresence Snapshot(string id, int connections, params (string User, int Count)[] users) => new()
    {
        Id = id,
        StartedAt = Time.GetUtcNow(),
        Connections = connections,
        UserConnections = connections,
        Users = users.ToDictionary(u => u.User, u => u.Count),
    };

    [Fact]
    public async Task Publish_FromTwoInstances_BothListedWithTheirUsers()
    {
        var a = await CreatePresenceAsync();
        var b = await CreatePresenceAsync();

        await a.PublishAsync(Snapshot("instance-a", 2, ("alice", 2)), Ttl, Ct);
        await b.PublishAsync(Snapshot("instance-b", 1, ("alice", 1)), Ttl, Ct);

        var listed = (await a.ListAsync(Ct)).OrderBy(i => i.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(["instance-a", "instance-b"], listed.Select(i => i.Id));
        Assert.Equal(2, listed[0].Users["alice"]);
        Assert.Equal(3, PresenceStats.From(listed).Users["alice"]);
    }

    [Fact]
    public async Task Publish_Again_ReplacesTheSnapshotAndRestartsItsTtl()
    {
        var presence = await CreatePresenceAsync();
        await presence.PublishAsync(Snapshot("instance-a", 1, ("alice", 1)), Ttl, Ct);
        Time.Advance(Ttl - TimeSpan.FromSeconds(5));

        await presence.PublishAsync(Snapshot("instance-a", 4, ("bob", 4)), Ttl, Ct);
        Time.Advance(TimeSpan.FromSeconds(10));

        var listed = Assert.Single(await presence.ListAsync(Ct));
        Assert.Equal(4, listed.Connections);
        Assert.Equal(["bob"], listed.Users.Keys);
    }

    [Fact]
    public async Task Snapshot_NotRefreshedWithinItsTtl_StopsCounting()
    {
        var presence = await CreatePresenceAsync();
        await presence.PublishAsync(Snapshot("killed", 1, ("alice", 1)), Ttl, Ct);
        await presence.PublishAsync(Snapshot("alive", 1, ("bob", 1)), Ttl * 3, Ct);

        Time.Advance(Ttl + TimeSpan.FromSeconds(1));

        Assert.Equal(["alive"], (await presence.ListAsync(Ct)).Select(i => i.Id));
    }

    [Fact]
    public async Task Remove_DropsTheSnapshotAtOnceAndAMissingOneIsNoError()
    {
        var presence = await CreatePresenceAsync();
        await presence.PublishAsync(Snapshot("leaving", 1, ("alice", 1)), Ttl, Ct);

        await presence.RemoveAsync("leaving", Ct);
        await presence.RemoveAsync("never-there", Ct);

        Assert.Empty(await presence.ListAsync(Ct));
    }
}
