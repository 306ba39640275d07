using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Notify.Core.Messaging;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Messaging;

/// <summary>Trace context crosses Redis with a frame, and the subscriber still gets the frame alone.</summary>
public sealed class RedisMessageBusTracingTests(RedisServer redis) : IClassFixture<RedisServer>, IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name == "Notify.Messaging" || source.Name == nameof(RedisMessageBusTracingTests),
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private static readonly ActivitySource Test = new(nameof(RedisMessageBusTracingTests));

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Publish_WithinATrace_SubscriberGetsTheFrameAloneInsideAChildSpanOfThatTrace()
    {
        _listener.ActivityStopped = _stopped.Enqueue;
        ActivitySource.AddActivityListener(_listener);
        await using var mux = await redis.ConnectAsync();
        var bus = new RedisMessageBus(mux, new RedisChannels($"trace-{Guid.NewGuid():N}"), new StaticOptions<ChannelOptions>(new ChannelOptions()), TimeProvider.System);
        var received = new TaskCompletionSource<(string Frame, ActivityTraceId? Trace)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var topic = BusTopic.User("traced");
        await using var _ = await bus.SubscribeAsync(topic, (_, frame) => received.TrySetResult((Encoding.UTF8.GetString(frame.Span), Activity.Current?.TraceId)), TestContext.Current.CancellationToken);
        var frame = """{"type":"notification","data":{"id":"1"}}""";

        ActivityTraceId traceId;
        using (var request = Test.StartActivity("request"))
        {
            traceId = request!.TraceId;
            await bus.PublishAsync(topic, Encoding.UTF8.GetBytes(frame), TestContext.Current.CancellationToken);
        }
        var (got, trace) = await received.Task.WaitAsync(Deadline, TestContext.Current.CancellationToken);

        Assert.Equal(frame, got);
        Assert.Equal(traceId, trace);
        Assert.Contains(_stopped, a => a.DisplayName == "redis publish" && a.Kind == ActivityKind.Producer && a.TraceId == traceId);
    }

    [Fact]
    public async Task PublishToChannel_WithinATrace_HistoryAndSubscriberGetTheSameFrame()
    {
        _listener.ActivityStopped = _stopped.Enqueue;
        ActivitySource.AddActivityListener(_listener);
        await using var mux = await redis.ConnectAsync();
        var bus = new RedisMessageBus(mux, new RedisChannels($"trace-{Guid.NewGuid():N}"), new StaticOptions<ChannelOptions>(new ChannelOptions()), TimeProvider.System);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var topic = BusTopic.Channel("public:traced");
        await using var _ = await bus.SubscribeAsync(topic, (_, frame) => received.TrySetResult(Encoding.UTF8.GetString(frame.Span)), TestContext.Current.CancellationToken);

        ChannelPublication publication;
        using (Test.StartActivity("request"))
        {
            publication = await bus.PublishToChannelAsync(topic, "public:traced", JsonDocument.Parse("""{"n":1}""").RootElement, TestContext.Current.CancellationToken);
        }
        var live = await received.Task.WaitAsync(Deadline, TestContext.Current.CancellationToken);
        var history = await bus.ReadHistoryAsync(topic, "0", 10, TestContext.Current.CancellationToken);

        Assert.Equal(Encoding.UTF8.GetString(publication.Frame.Span), live);
        Assert.Equal(live, Encoding.UTF8.GetString(Assert.Single(history.Entries).Frame.Span));
        Assert.StartsWith("{", live, StringComparison.Ordinal);
    }
}
