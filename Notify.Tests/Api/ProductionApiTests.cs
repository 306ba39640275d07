using System.Net;

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

    [Fact]
    public async Task DevToken_OutsideDevelopment_Returns404()
    {
        using var response = await api.SendAsync(HttpMethod.Post, "/api/auth/dev-token", body: new { user_id = "alice" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
