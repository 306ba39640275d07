using System.Net;
using Notify.Tests.Infrastructure;

namespace Notify.Tests.Api;

/// <summary>An Api in the Production environment (dev tokens off, as they must be there).</summary>
public sealed class ProductionApiFixture : ApiFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraEnvironment =>
    [
        new("ASPNETCORE_ENVIRONMENT", "Production"),
        new("Auth__EnableDevTokens", "false"),
    ];
}

public sealed class ProductionApiTests(ProductionApiFixture api) : IClassFixture<ProductionApiFixture>
{
    [Fact]
    public async Task Scalar_OutsideDevelopment_Returns404()
    {
        using var response = await api.SendAsync(HttpMethod.Get, "/scalar/");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    [InlineData("Testing")]
    public async Task Start_DevTokensOutsideDevelopment_RefusedWithOneLineNamingTheKey(string environment)
    {
        var env = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = environment,
            ["Auth__EnableDevTokens"] = "true",
            ["Auth__SigningKey"] = TestEnvironment.SigningKey,
            // Never reached: the Api refuses before it connects to anything.
            ["ConnectionStrings__redis"] = "127.0.0.1:1,abortConnect=false",
        };

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync("Notify.Api", env));

        var output = failure.Message.Split('\n').Skip(1).Where(line => line.Length > 0).ToArray();
        var line = Assert.Single(output);
        Assert.Contains("Auth:EnableDevTokens", line, StringComparison.Ordinal);
        Assert.Contains(environment, line, StringComparison.Ordinal);
        Assert.StartsWith("Notify.Api exited with 1:", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevToken_OutsideDevelopment_Returns404()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/auth/dev-token", body: new { user_id = "alice" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
