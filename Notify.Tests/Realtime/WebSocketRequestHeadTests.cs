using System.Buffers;
using System.Text;
using Notify.Realtime.Connections;
using Notify.Realtime.Options;
using Notify.Realtime.Transports;

namespace Notify.Tests.Realtime;

/// <summary>
/// The head reader of the direct upgrade at its edges: it claims only a plain WebSocket upgrade of a stream
/// path, reads the token and cursor as the request pipeline does, and leaves everything else to HTTP.
/// </summary>
public sealed class WebSocketRequestHeadTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private static string Head(string target = "/api/ws/notifications?token=abc", string method = "GET", string version = "HTTP/1.1", params string[] extra)
    {
        var head = new StringBuilder($"{method} {target} {version}\r\nHost: 127.0.0.1:5000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
        if (!extra.Any(h => h.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase) || h == "-key"))
        {
            head.Append($"Sec-WebSocket-Key: {Key}\r\n");
        }
        if (!extra.Any(h => h.StartsWith("Sec-WebSocket-Version:", StringComparison.OrdinalIgnoreCase)))
        {
            head.Append("Sec-WebSocket-Version: 13\r\n");
        }
        foreach (var header in extra.Where(h => h != "-key"))
        {
            head.Append(header).Append("\r\n");
        }
        return head.Append("\r\n").ToString();
    }

    private static HeadVerdict Read(string bytes, out UpgradeRequest? request, CompressionOptions? compression = null) =>
        Read(Encoding.Latin1.GetBytes(bytes), out request, compression);

    private static HeadVerdict Read(byte[] bytes, out UpgradeRequest? request, CompressionOptions? compression = null) =>
        WebSocketRequestHead.Read(new ReadOnlySequence<byte>(bytes), compression ?? new CompressionOptions(), out request, out _);

    [Fact]
    public void Read_PlainUpgrade_IsOursWithTokenAndKey()
    {
        Assert.Equal(HeadVerdict.Ours, Read(Head(), out var request));
        Assert.Equal(StreamKind.Notifications, request!.Kind);
        Assert.Equal("abc", request.Token);
        Assert.Equal(Key, request.Key);
        Assert.Null(request.Deflate);
    }

    [Fact]
    public void Read_HeadThenFrameBytes_EndsAfterTheBlankLine()
    {
        var head = Encoding.ASCII.GetBytes(Head());
        byte[] bytes = [.. head, 0x81, 0x00];

        Assert.Equal(HeadVerdict.Ours, WebSocketRequestHead.Read(new ReadOnlySequence<byte>(bytes), new CompressionOptions(), out _, out var end));
        Assert.Equal(head.Length, new ReadOnlySequence<byte>(bytes).Slice(0, end).Length);
    }

    [Theory]
    [InlineData("/api/ws/admin?token=t", "Admin", null)]
    [InlineData("/api/ws/tasks/0f3a-B_c.9~?token=t", "Task", "0f3a-B_c.9~")]
    public void Read_OtherStreamPaths_AreOurs(string target, string kind, string? resourceId)
    {
        Assert.Equal(HeadVerdict.Ours, Read(Head(target), out var request));
        Assert.Equal(Enum.Parse<StreamKind>(kind), request!.Kind);
        Assert.Equal(resourceId, request.ResourceId);
    }

    [Fact]
    public void Read_QueryValues_ArePercentAndPlusDecoded()
    {
        Assert.Equal(HeadVerdict.Ours, Read(Head("/api/ws/notifications?TOKEN=a%2Eb%2ec&last_id=%20x+y%21"), out var request));
        Assert.Equal("a.b.c", request!.Token);
        Assert.Equal("x y!", request.LastId);
    }

    [Fact]
    public void Read_TokenInQueryTwice_JoinedAsTheRequestPipelineJoinsThem()
    {
        Assert.Equal(HeadVerdict.Ours, Read(Head("/api/ws/notifications?token=a&token=b"), out var request));
        Assert.Equal("a,b", request!.Token);
    }

    [Fact]
    public void Read_AuthorizationHeader_TokenWhenTheQueryHasNone()
    {
        Assert.Equal(HeadVerdict.Ours, Read(Head("/api/ws/notifications", extra: "authorization: bearer  xyz "), out var request));
        Assert.Equal("xyz", request!.Token);
        Assert.Equal(HeadVerdict.Ours, Read(Head("/api/ws/notifications?token=q", extra: "Authorization: Bearer xyz"), out request));
        Assert.Equal("q", request!.Token);
        Assert.Equal(HeadVerdict.Ours, Read(Head("/api/ws/notifications", extra: "Authorization: Basic xyz"), out request));
        Assert.Null(request!.Token);
    }

    [Fact]
    public void Read_LastEventIdHeader_WinsOverTheQuery()
    {
        Assert.Equal(HeadVerdict.Ours, Read(Head("/api/ws/notifications?last_id=q", extra: "Last-Event-ID:  h "), out var request));
        Assert.Equal("h", request!.LastId);
    }

    [Theory]
    [InlineData("GET /api/ws/notif")]
    [InlineData("GET /api/ws/notifications?token=abc HTTP/1.1\r\nHost: x\r\n")]
    [InlineData("GE")]
    public void Read_PartOfAnUpgrade_NeedsMore(string bytes) =>
        Assert.Equal(HeadVerdict.NeedMore, Read(bytes, out _));

    [Theory]
    [InlineData("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("POST /api/ws/notifications HTTP/1.1\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("GET /api/sse/notifications HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("G\u0016")]
    public void Read_NotAStreamUpgrade_GoesToHttpAtOnce(string bytes) =>
        Assert.Equal(HeadVerdict.NotOurs, Read(bytes, out _));

    [Fact]
    public void Read_TlsClientHello_GoesToHttpAtOnce() =>
        Assert.Equal(HeadVerdict.NotOurs, Read([0x16, 0x03, 0x01, 0x02, 0x00, 0x01], out _));

    [Theory]
    [InlineData("/api/ws/notifications/")]
    [InlineData("/API/WS/notifications")]
    [InlineData("/api/ws/notifications%2F")]
    [InlineData("/api/ws//notifications")]
    [InlineData("/api/ws/tasks/")]
    [InlineData("/api/ws/tasks/..")]
    [InlineData("/api/ws/tasks/a%20b")]
    [InlineData("/api/ws/tasks/a/b")]
    [InlineData("/api/ws/stats")]
    [InlineData("/api/ws/notifications#x")]
    public void Read_PathsRoutingWouldReadDifferently_GoToHttp(string target) =>
        Assert.Equal(HeadVerdict.NotOurs, Read(Head(target), out _));

    [Theory]
    [InlineData("Sec-WebSocket-Key: short")]
    [InlineData("Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!!!")]
    [InlineData("Sec-WebSocket-Key: dGhlIHNhbXBs ZSBub25jZQ==")]
    [InlineData("-key")]
    [InlineData("Sec-WebSocket-Version: 8")]
    [InlineData("Sec-WebSocket-Version: 13, 8")]
    [InlineData("Upgrade: h2c")]
    [InlineData("Content-Length: 5")]
    [InlineData("Transfer-Encoding: chunked")]
    [InlineData("Host: second")]
    [InlineData("Authorization: Bearer a\r\nAuthorization: Bearer b")]
    [InlineData(" folded: line")]
    [InlineData("Bad Name: x")]
    [InlineData("X-Latin1: caf\u00e9")]
    public void Read_HeadersThePipelineMightJudgeOtherwise_GoToHttp(string header) =>
        Assert.Equal(HeadVerdict.NotOurs, Read(Head(extra: header), out _));

    [Theory]
    [InlineData("GET", "HTTP/1.0")]
    [InlineData("get", "HTTP/1.1")]
    public void Read_OtherMethodOrVersion_GoesToHttp(string method, string version) =>
        Assert.Equal(HeadVerdict.NotOurs, Read(Head(method: method, version: version), out _));

    [Fact]
    public void Read_NoUpgradeInConnection_GoesToHttp()
    {
        var head = Head().Replace("Connection: Upgrade", "Connection: keep-alive", StringComparison.Ordinal);
        Assert.Equal(HeadVerdict.NotOurs, Read(head, out _));
        Assert.Equal(HeadVerdict.Ours, Read(Head().Replace("Connection: Upgrade", "Connection: keep-alive, UPGRADE", StringComparison.Ordinal), out _));
    }

    [Fact]
    public void Read_OversizedHead_GoesToHttp()
    {
        Assert.Equal(HeadVerdict.NotOurs, Read(Head(extra: "X-Padding: " + new string('a', WebSocketRequestHead.MaxHeadBytes)), out _));
        // Not whole yet, but already too long to be read here.
        Assert.Equal(HeadVerdict.NotOurs, Read("GET /api/ws/notifications?token=" + new string('a', WebSocketRequestHead.MaxHeadBytes), out _));
    }

    [Theory]
    [InlineData("permessage-deflate", "permessage-deflate")]
    [InlineData("permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=15")]
    [InlineData("permessage-deflate; client_max_window_bits=10; client_no_context_takeover", "permessage-deflate; client_max_window_bits=10; client_no_context_takeover")]
    [InlineData("permessage-deflate; server_no_context_takeover; server_max_window_bits=12", "permessage-deflate; server_no_context_takeover; server_max_window_bits=12")]
    [InlineData("permessage-deflate;server_max_window_bits", "permessage-deflate; server_max_window_bits=15")]
    public void TryNegotiate_Offers_AnsweredAsTheWebSocketMiddlewareAnswers(string offer, string answer)
    {
        Assert.True(WebSocketRequestHead.TryNegotiate(offer, new CompressionOptions(), out var deflate, out var response));
        Assert.NotNull(deflate);
        Assert.Equal(answer, response);
    }

    [Fact]
    public void TryNegotiate_ConfiguredWithoutTakeoverAndSmallWindow_AnswerSaysSo()
    {
        var compression = new CompressionOptions { ContextTakeover = false, ServerMaxWindowBits = 10 };
        Assert.True(WebSocketRequestHead.TryNegotiate("permessage-deflate; server_max_window_bits=12", compression, out var deflate, out var response));
        Assert.Equal("permessage-deflate; server_no_context_takeover; server_max_window_bits=10", response);
        Assert.False(deflate!.ServerContextTakeover);
        Assert.Equal(10, deflate.ServerMaxWindowBits);
    }

    [Fact]
    public void TryNegotiate_EightBitWindow_DeclinedButUpgraded()
    {
        Assert.True(WebSocketRequestHead.TryNegotiate("permessage-deflate; client_max_window_bits=8", new CompressionOptions(), out var deflate, out var response));
        Assert.Null(deflate);
        Assert.Null(response);
    }

    [Theory]
    [InlineData("x-webkit-deflate-frame")]
    [InlineData("permessage-deflate, permessage-deflate; client_max_window_bits")]
    [InlineData("permessage-deflate; client_max_window_bits=\"10\"")]
    [InlineData("permessage-deflate; client_max_window_bits=16")]
    [InlineData("permessage-deflate; unknown")]
    [InlineData("permessage-deflate; server_no_context_takeover; server_no_context_takeover")]
    [InlineData("permessage-deflate;")]
    public void TryNegotiate_OffersOfAnotherForm_LeftToHttp(string offer) =>
        Assert.False(WebSocketRequestHead.TryNegotiate(offer, new CompressionOptions(), out _, out _));

    [Fact]
    public void Read_CompressionDisabled_OfferIgnored()
    {
        var head = Head(extra: "Sec-WebSocket-Extensions: permessage-deflate; unknown");
        Assert.Equal(HeadVerdict.Ours, Read(head, out var request, new CompressionOptions { Enabled = false }));
        Assert.Null(request!.Deflate);
        Assert.Equal(HeadVerdict.NotOurs, Read(head, out _));
    }
}
