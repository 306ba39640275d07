using System.Net.Http.Headers;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Realtime;

/// <summary>Realtime checks <c>Cors:Origins</c> at start exactly as the Api does, and answers the listed origins.</summary>
public sealed class RealtimeStartupTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Theory]
    [InlineData("http://web.example.test/")]
    [InlineData("http://web.example.test/app")]
    [InlineData("web.example.test")]
    public async Task CorsOrigins_NotAnOrigin_RefusesToStartNamingTheKey(string origin)
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            RealtimeHost.StartAsync(redis, RealtimeHost.NewSqlitePath(), ("Cors__Origins__0", origin)));

        Assert.Contains("Cors:Origins", failure.Message, StringComparison.Ordinal);
        Assert.Contains(origin, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("8")]
    [InlineData("16")]
    public async Task CompressionWindowBits_OutOfRange_RefusesToStartNamingTheKey(string bits)
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            RealtimeHost.StartAsync(redis, RealtimeHost.NewSqlitePath(), ("Realtime__Compression__ServerMaxWindowBits", bits)));

        Assert.Contains("ServerMaxWindowBits", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CorsOrigins_ListedOrigin_MayReadTheSseStream()
    {
        var sqlite = RealtimeHost.NewSqlitePath();
        try
        {
            await using var service = await RealtimeHost.StartAsync(redis, sqlite, ("Cors__Origins__0", "http://web.example.test"));
            using var http = new HttpClient { BaseAddress = service.BaseAddress, Timeout = RealtimeHost.Wait };
            foreach (var (origin, allowed) in new[] { ("http://web.example.test", true), ("http://evil.example.test", false) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/sse/notifications?token=" + Uri.EscapeDataString(TestTokens.For("cors-" + Guid.NewGuid().ToString("N")[..8])));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                request.Headers.Add("Origin", origin);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);

                Assert.Equal(allowed, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin);
            }
        }
        finally
        {
            TestEnvironment.DeleteSqliteFiles(sqlite);
        }
    }
}
