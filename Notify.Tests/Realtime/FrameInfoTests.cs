using System.Text;
using Notify.Realtime.Connections;

namespace Notify.Tests.Realtime;

/// <summary>The one-pass envelope reader of ready frames (pure logic): what fan-out and the preference filters look at.</summary>
public sealed class FrameInfoTests
{
    private static FrameInfo Read(string json) => FrameInfo.Read(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Read_MessageFrame_ChannelAndPayloadTypeBesideTheId()
    {
        var info = Read("""{"type":"message","data":{"channel":"broadcast","id":"1-0","payload":{"level":"info","type":"promo","n":{"type":"inner"}},"created_at":"x"}}""");

        Assert.Equal(("message", "1-0", "broadcast", "promo"), (info.Type, info.Id, info.Channel, info.PayloadType));
    }

    [Theory]
    [InlineData("""{"type":"message","data":{"channel":"news","payload":"promo"}}""", "news", null)]
    [InlineData("""{"type":"message","data":{"channel":"news","payload":{"type":7}}}""", "news", null)]
    [InlineData("""{"type":"message","data":{"channel":3,"payload":{"type":"promo"}}}""", null, "promo")]
    [InlineData("""{"type":"message","data":{"meta":{"channel":"deep","payload":{"type":"deep"}}}}""", null, null)]
    [InlineData("""{"type":"message","data":{"id":{"channel":"deep"},"payload":[{"type":"deep"}]}}""", null, null)]
    public void Read_OnlyTheDataObjectsOwnStrings_AreTaken(string json, string? channel, string? payloadType)
    {
        var info = Read(json);

        Assert.Equal((channel, payloadType), (info.Channel, info.PayloadType));
    }

    [Fact]
    public void Read_MalformedFrame_NoChannel()
    {
        var info = Read("""{"type":"message","data":{"channel":"news","payload":{"type":"promo"}""");

        Assert.Null(info.Channel);
        Assert.Null(info.PayloadType);
    }

    [Fact]
    public void Read_FieldsAfterThePayload_StillRead()
    {
        var info = Read("""{"data":{"payload":{"a":[1,{"b":2}],"type":"t"},"channel":"c","id":"9-1"},"type":"message"}""");

        Assert.Equal(("message", "9-1", "c", "t"), (info.Type, info.Id, info.Channel, info.PayloadType));
    }
}
