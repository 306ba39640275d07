using Notify.Core.Json;
using Notify.Core.Messaging;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>Admission, user slots, topic ref-counting and fan-out of <see cref="ConnectionRegistry"/>, in-process on fake time.</summary>
public sealed class ConnectionRegistryTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TryAdmit_ExactlyMaxConnections_Admitted_TheNextRefusedUntilOneIsReleased()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, new RealtimeOptions { MaxConnections = 3 });
        var admissions = Enumerable.Range(0, 3).Select(_ => realtime.Registry.TryAdmit()).ToList();

        Assert.All(admissions, Assert.NotNull);
        Assert.Null(realtime.Registry.TryAdmit());
        await admissions[0]!.DisposeAsync();
        await using var again = realtime.Registry.TryAdmit();

        Assert.NotNull(again);
        Assert.Equal(3, realtime.Registry.Admitted);
        foreach (var admission in admissions.Skip(1))
        {
            await admission!.DisposeAsync();
        }
    }

    [Fact]
    public async Task TryClaimUser_ExactlyTheLimit_Claimed_TheNextRefused_DisposeGivesItBackOnce()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis, new RealtimeOptions { MaxConnectionsPerUser = 2 });
        var first = realtime.Registry.TryAdmit()!;
        var second = realtime.Registry.TryAdmit()!;
        var third = realtime.Registry.TryAdmit()!;

        Assert.True(first.TryClaimUser("alice"));
        Assert.True(second.TryClaimUser("alice"));
        Assert.False(third.TryClaimUser("alice"));
        await first.DisposeAsync();
        await first.DisposeAsync();

        Assert.Equal(1, realtime.Registry.UserConnections("alice"));
        Assert.True(third.TryClaimUser("alice"));
        await second.DisposeAsync();
        await third.DisposeAsync();
        Assert.Equal(0, realtime.Registry.UserConnections("alice"));
        Assert.Equal(0, realtime.Registry.Admitted);
    }

    [Fact]
    public async Task DisposeAsync_RegisteredWithTopics_ForgetsTheConnectionAndReleasesEveryTopic()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var admission = realtime.Registry.TryAdmit()!;
        var connection = realtime.NewConnection();
        admission.TryClaimUser(connection.UserId);
        admission.Register(connection);
        await realtime.Registry.SubscribeAsync(connection, BusTopic.User("alice"), Ct);
        await realtime.Registry.SubscribeAsync(connection, BusTopic.Channel("public:a"), Ct);

        await admission.DisposeAsync();

        Assert.Equal(0, realtime.Registry.Count);
        Assert.Empty(realtime.Registry.Feeds());
        Assert.Empty(connection.Topics);
    }

    [Fact]
    public async Task UnsubscribeAsync_OneOfTwoReceivers_TheOtherStillReceivesFromRedis()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var leaving = realtime.NewConnection(userId: "u1");
        var staying = realtime.NewConnection(userId: "u2");
        var topic = BusTopic.Channel("public:shared");
        await realtime.Registry.SubscribeAsync(leaving, topic, Ct);
        await realtime.Registry.SubscribeAsync(staying, topic, Ct);

        Assert.True(await realtime.Registry.UnsubscribeAsync(leaving, topic, Ct));
        Assert.False(await realtime.Registry.UnsubscribeAsync(leaving, topic, Ct));

        var written = new FrameRecorder();
        staying.StartWriting(written);
        await realtime.Backplane.PublishToChannelAsync("public:shared", new { n = 1 });

        var frame = await written.Frames.Reader.ReadAsync(Ct).AsTask().WaitAsync(InProcessRealtime.Wait, Ct);
        Assert.Equal("message", frame.Frame.Info.Type);
        Assert.False(leaving.TryTakeQueued(out _));
        Assert.Single(realtime.Registry.Feeds());
        await realtime.Registry.UnsubscribeAsync(staying, topic, Ct);
        Assert.Empty(realtime.Registry.Feeds());
    }

    [Fact]
    public async Task FanOut_ManyReceivers_AllGetOneFrameWhoseEnvelopeIsReadOnce()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var topic = BusTopic.Broadcast;
        var connections = Enumerable.Range(0, 50).Select(i => realtime.NewConnection(userId: $"user{i}")).ToList();
        foreach (var connection in connections)
        {
            await realtime.Registry.SubscribeAsync(connection, topic, Ct);
        }

        realtime.Registry.FanOut(topic, Frames.Serialize("message", new { id = "1700000000000-0", channel = "broadcast" }));

        var frames = connections.Select(c => Assert.IsType<OutboundFrame>(c.TryTakeQueued(out var f) ? f : null)).ToList();
        var shared = frames[0].Frame;
        Assert.All(frames, f => Assert.Same(shared, f.Frame));
        var info = shared.Info;
        Assert.All(frames, f => Assert.Same(info, f.Frame.Info));
        Assert.Equal("1700000000000-0", info.Id);
        foreach (var connection in connections)
        {
            await realtime.Registry.UnsubscribeAsync(connection, topic, Ct);
        }
    }

    [Fact]
    public async Task CloseAll_EveryConnectionClosesWithTheReason()
    {
        await using var realtime = await InProcessRealtime.CreateAsync(redis);
        var admissions = new List<ConnectionRegistry.Admission>();
        var connections = new List<ClientConnection>();
        for (var i = 0; i < 3; i++)
        {
            var admission = realtime.Registry.TryAdmit()!;
            var connection = realtime.NewConnection(userId: $"u{i}");
            admission.Register(connection);
            admissions.Add(admission);
            connections.Add(connection);
        }

        realtime.Registry.CloseAll(CloseReason.GoingAway);

        Assert.All(connections, c => Assert.Equal(1001, c.CloseReason?.Code));
        foreach (var admission in admissions)
        {
            await admission.DisposeAsync();
        }
        Assert.Equal(0, realtime.Registry.Count);
    }
}
