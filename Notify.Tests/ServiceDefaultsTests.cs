using System.Net;
using Notify.Tests.Infrastructure;

namespace Notify.Tests;

public sealed class ServiceDefaultsTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Theory]
    [InlineData("Notify.Api")]
    [InlineData("Notify.Realtime")]
    [InlineData("Notify.Worker")]
    public async Task Health_WithRedisUp_Answers200AndAliveAnswers200(string project)
    {
        await using var service = await ServiceProcess.StartAsync(project, TestEnvironment.For(redis));
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        await service.WaitUntilAsync("/health", TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Theory]
    [InlineData("Notify.Api")]
    [InlineData("Notify.Realtime")]
    [InlineData("Notify.Worker")]
    public async Task Health_WithRedisDown_Answers503WhileAliveAnswers200(string project)
    {
        var env = new Dictionary<string, string?>(TestEnvironment.For(redis))
        {
            ["ConnectionStrings__redis"] = $"127.0.0.1:{RedisServer.FreePort()},abortConnect=false,connectTimeout=200",
        };
        await using var service = await ServiceProcess.StartAsync(project, env);
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health", TestContext.Current.CancellationToken)).StatusCode);
    }
}
