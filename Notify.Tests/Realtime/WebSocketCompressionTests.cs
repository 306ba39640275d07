using System.Net.WebSockets;

namespace Notify.Tests.Realtime;

/// <summary>
/// permessage-deflate (<c>Realtime:Compression</c>): negotiated only when the client offers it and the
/// instance allows it, with the configured context takeover, and frames round-trip both ways compressed.
/// </summary>
public sealed class WebSocketCompressionTests(RealtimeClusterFixture cluster) : IClassFixture<RealtimeClusterFixture>
{
    internal static string? Extensions(WsClient client) =>
        client.ResponseHeaders?.TryGetValue("Sec-WebSocket-Extensions", out var values) == true ? string.Join(",", values) : null;

    internal static async Task AssertRoundTripAsync(TestBackplane backplane, WsClient client, string user)
    {
        Assert.Equal("connected", (await client.NextAsync()).Type);
        // A long, repetitive title: the kind of payload deflate shrinks, and more than one deflate block.
        var title = string.Concat(Enumerable.Repeat("compressible title ", 400));
        var sent = await backplane.NotifyAsync(user, title);
        var frame = await client.NextAsync();
        Assert.Equal("notification", frame.Type);
        Assert.Equal(sent.Id, frame.Data.GetProperty("id").GetString());
        Assert.Equal(title, frame.Data.GetProperty("title").GetString());
        // Client to server: a (compressed, when negotiated) ping is understood and answered.
        await client.SendAsync(new { type = "ping" });
        Assert.Equal("pong", (await client.NextAsync()).Type);
    }

    [Fact]
    public async Task ClientOffersDeflate_Negotiated_FramesRoundTrip()
    {
        var user = RealtimeClusterFixture.NewUser("deflate");
        await using var client = await WsClient.ConnectAsync(cluster.A, "/api/ws/notifications", TestTokens.For(user), deflate: new WebSocketDeflateOptions());

        var extensions = Extensions(client);
        Assert.NotNull(extensions);
        Assert.Contains("permessage-deflate", extensions, StringComparison.Ordinal);
        Assert.DoesNotContain("server_no_context_takeover", extensions, StringComparison.Ordinal);
        await AssertRoundTripAsync(cluster.Backplane, client, user);
    }

    [Fact]
    public async Task ClientDoesNotOffer_NotNegotiated_FramesRoundTrip()
    {
        var user = RealtimeClusterFixture.NewUser("plain");
        await using var client = await WsClient.ConnectAsync(cluster.B, "/api/ws/notifications", TestTokens.For(user));

        Assert.Null(Extensions(client));
        await AssertRoundTripAsync(cluster.Backplane, client, user);
    }
}

/// <summary>An instance with <c>Realtime:Compression:Enabled=false</c>: an offer is declined, frames stay plain.</summary>
public sealed class CompressionOffFixture : SingleRealtimeFixture
{
    protected override (string Key, string Value)[] Settings => [("Realtime__Compression__Enabled", "false")];
}

public sealed class WebSocketCompressionOffTests(CompressionOffFixture instance) : IClassFixture<CompressionOffFixture>
{
    [Fact]
    public async Task Disabled_ClientOffers_NotNegotiated_FramesRoundTrip()
    {
        var user = RealtimeClusterFixture.NewUser("deflate-off");
        await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.For(user), deflate: new WebSocketDeflateOptions());

        Assert.Null(WebSocketCompressionTests.Extensions(client));
        await WebSocketCompressionTests.AssertRoundTripAsync(instance.Backplane, client, user);
    }
}

/// <summary>An instance without context takeover and with a 10-bit server window.</summary>
public sealed class CompressionNoTakeoverFixture : SingleRealtimeFixture
{
    protected override (string Key, string Value)[] Settings =>
    [
        ("Realtime__Compression__ContextTakeover", "false"),
        ("Realtime__Compression__ServerMaxWindowBits", "10"),
    ];
}

public sealed class WebSocketCompressionNoTakeoverTests(CompressionNoTakeoverFixture instance) : IClassFixture<CompressionNoTakeoverFixture>
{
    [Fact]
    public async Task NoContextTakeover_ClientOffers_NegotiatedWithoutTakeover_FramesRoundTrip()
    {
        var user = RealtimeClusterFixture.NewUser("deflate-nct");
        await using var client = await WsClient.ConnectAsync(instance.Service, "/api/ws/notifications", TestTokens.For(user), deflate: new WebSocketDeflateOptions());

        var extensions = Extensions(client);
        Assert.NotNull(extensions);
        Assert.Contains("permessage-deflate", extensions, StringComparison.Ordinal);
        Assert.Contains("server_no_context_takeover", extensions, StringComparison.Ordinal);
        Assert.Contains("server_max_window_bits=10", extensions, StringComparison.Ordinal);
        await WebSocketCompressionTests.AssertRoundTripAsync(instance.Backplane, client, user);
    }

    private static string? Extensions(WsClient client) => WebSocketCompressionTests.Extensions(client);
}
