using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Notify.Core.Messaging;

namespace Notify.Tests.Messaging;

/// <summary>
/// The behaviour every <see cref="IMessageBus"/> must have, as the port documents it: per-topic publish
/// order, delivery only to subscribers of the topic, unsubscribe stops delivery, and the bounded channel
/// history with <c>since</c> and truncation. Subclasses supply buses that share storage within one test
/// (two buses are two instances of the system) and nothing with other tests.
/// </summary>
public abstract class MessageBusContractTests
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A bus on this test's private storage, with <paramref name="options"/> (defaults when null).</summary>
    protected abstract Task<IMessageBus> CreateBusAsync(ChannelOptions? options = null);

    private static byte[] Frame(string type, int n) => JsonSerializer.SerializeToUtf8Bytes(new { type, data = new { n } });

    private static JsonElement Payload(int n) => JsonSerializer.SerializeToElement(new { n });

    /// <summary>Waits (polling, up to <see cref="Patience"/>) until <paramref name="condition"/> holds.</summary>
    internal static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow() + Patience;
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "timed out waiting for " + what);
            await Task.Delay(20, Ct);
        }
    }

    [Fact]
    public async Task Publish_ToSubscribedTopic_ArrivesOnAnotherInstanceInPublishOrderAndOtherTopicsDoNot()
    {
        var publisher = await CreateBusAsync();
        var subscriber = await CreateBusAsync();
        var received = new ConcurrentQueue<string>();
        var mine = BusTopic.User("contract-a");
        await using var _ = await subscriber.SubscribeAsync(mine, (topic, frame) => received.Enqueue(topic.Key + " " + Encoding.UTF8.GetString(frame.Span)), Ct);

        for (var i = 0; i < 50; i++)
        {
            await publisher.PublishAsync(mine, Frame("notification", i), Ct);
            await publisher.PublishAsync(BusTopic.User("contract-b"), Frame("notification", i), Ct);
        }

        // The other topic's frames were interleaved before the last of ours: delivered, they would be here.
        await WaitUntilAsync(() => received.Count >= 50, "50 frames");
        Assert.Equal(Enumerable.Range(0, 50).Select(i => "contract-a " + Encoding.UTF8.GetString(Frame("notification", i))), received);
    }

    [Fact]
    public async Task SubscribeAll_ManyTopicsPublishedConcurrently_ArriveWithTheirTopicInPublishOrderAndOtherKindsDoNot()
    {
        var subscriber = await CreateBusAsync();
        var publishers = new[] { await CreateBusAsync(), await CreateBusAsync() };
        var received = new ConcurrentQueue<(BusTopic Topic, int N)>();
        await using var _ = await subscriber.SubscribeAllAsync(BusTopicKind.User, (topic, frame) =>
            received.Enqueue((topic, JsonDocument.Parse(frame).RootElement.GetProperty("data").GetProperty("n").GetInt32())), Ct);

        const int Topics = 40, PerTopic = 25;
        await Task.WhenAll(Enumerable.Range(0, Topics).Select(t => Task.Run(async () =>
        {
            var publisher = publishers[t % publishers.Length];
            for (var i = 0; i < PerTopic; i++)
            {
                await publisher.PublishAsync(BusTopic.User($"all-{t}"), Frame("notification", i), Ct);
                await publisher.PublishAsync(BusTopic.Channel($"all-{t}"), Frame("message", -1), Ct);
            }
        }, Ct)));

        await WaitUntilAsync(() => received.Count >= Topics * PerTopic, "every user frame");
        var byTopic = received.ToArray().GroupBy(r => r.Topic).ToDictionary(g => g.Key, g => g.Select(r => r.N).ToArray());
        Assert.Equal(Topics, byTopic.Count);
        for (var t = 0; t < Topics; t++)
        {
            Assert.Equal(Enumerable.Range(0, PerTopic), byTopic[BusTopic.User($"all-{t}")]);
        }
    }

    [Fact]
    public async Task DisposingTheSubscription_StopsDelivery()
    {
        var bus = await CreateBusAsync();
        var topic = BusTopic.Channel("contract-unsubscribe");
        var first = new ConcurrentQueue<int>();
        var subscription = await bus.SubscribeAsync(topic, (_, frame) => first.Enqueue(frame.Length), Ct);
        await bus.PublishAsync(topic, Frame("message", 1), Ct);
        await WaitUntilAsync(() => first.Count == 1, "the first frame");

        await subscription.DisposeAsync();
        var sentinel = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var _ = await bus.SubscribeAsync(topic, (_, _) => sentinel.TrySetResult(), Ct);
        await bus.PublishAsync(topic, Frame("message", 2), Ct);
        await sentinel.Task.WaitAsync(Patience, Ct);

        Assert.Single(first);
    }

    [Fact]
    public async Task PublishToChannel_IsDeliveredLiveAndKeptInHistoryInOrder()
    {
        var bus = await CreateBusAsync();
        var topic = BusTopic.Channel("contract-history");
        var live = new ConcurrentQueue<byte[]>();
        await using var _ = await bus.SubscribeAsync(topic, (_, frame) => live.Enqueue(frame.ToArray()), Ct);

        var published = new List<ChannelPublication>();
        for (var i = 0; i < 3; i++)
        {
            published.Add(await bus.PublishToChannelAsync(topic, "contract-history", Payload(i), Ct));
        }

        Assert.True(ChannelOffset.Compare(published[0].Id, published[1].Id) < 0 && ChannelOffset.Compare(published[1].Id, published[2].Id) < 0);
        using (var frame = JsonDocument.Parse(published[1].Frame))
        {
            Assert.Equal("message", frame.RootElement.GetProperty("type").GetString());
            Assert.Equal(published[1].Id, frame.RootElement.GetProperty("data").GetProperty("id").GetString());
            Assert.Equal(1, frame.RootElement.GetProperty("data").GetProperty("payload").GetProperty("n").GetInt32());
        }
        await WaitUntilAsync(() => live.Count == 3, "3 live frames");
        Assert.Equal(published.Select(p => p.Frame.ToArray()), live);

        var all = await bus.ReadHistoryAsync(topic, "0", 10, Ct);
        Assert.False(all.Truncated);
        Assert.Equal(published.Select(p => p.Id), all.Entries.Select(e => e.Id));
        Assert.Equal(published.Select(p => p.Frame.ToArray()), all.Entries.Select(e => e.Frame.ToArray()));

        var after = await bus.ReadHistoryAsync(topic, published[0].Id, 1, Ct);
        Assert.Equal([published[1].Id], after.Entries.Select(e => e.Id));
        Assert.Empty((await bus.ReadHistoryAsync(topic, published[2].Id, 10, Ct)).Entries);
    }

    [Fact]
    public async Task ReadHistory_SinceAnOffsetTrimmedAway_IsTruncatedAndKeepsOnlyTheNewest()
    {
        var bus = await CreateBusAsync(new ChannelOptions { HistorySize = 3 });
        var topic = BusTopic.Channel("contract-trim");
        var published = new List<ChannelPublication>();
        for (var i = 0; i < 5; i++)
        {
            published.Add(await bus.PublishToChannelAsync(topic, "contract-trim", Payload(i), Ct));
        }

        var trimmed = await bus.ReadHistoryAsync(topic, published[0].Id, 10, Ct);
        Assert.True(trimmed.Truncated);
        Assert.Equal(published.Skip(2).Select(p => p.Id), trimmed.Entries.Select(e => e.Id));

        var kept = await bus.ReadHistoryAsync(topic, published[2].Id, 10, Ct);
        Assert.False(kept.Truncated);
        Assert.Equal(published.Skip(3).Select(p => p.Id), kept.Entries.Select(e => e.Id));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1-")]
    [InlineData("-1")]
    [InlineData("")]
    public async Task ReadHistory_MalformedSince_ThrowsArgumentException(string since)
    {
        var bus = await CreateBusAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => bus.ReadHistoryAsync(BusTopic.Channel("contract-bad"), since, 10, Ct));
    }
}
