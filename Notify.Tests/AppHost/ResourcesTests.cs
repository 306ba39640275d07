using Notify.AppHost.Hosting;

namespace Notify.Tests.AppHost;

public sealed class ResourcesTests
{
    [Theory]
    [InlineData("mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017/notifydb")]
    [InlineData("mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/notifydb")]
    [InlineData("mongodb://u:p@a:1,b:2/admin?replicaSet=rs0", "mongodb://u:p@a:1,b:2/notifydb?replicaSet=rs0")]
    [InlineData("mongodb://a:1?tls=true", "mongodb://a:1/notifydb?tls=true")]
    public void MongoDBDatabaseResource_ConnectionString_PutsDatabaseBeforeOptions(string server, string expected)
    {
        var mongo = new MongoDBServerResource("mongo", new ParameterResource("mongo-password", secret: true, generate: null))
        {
            ExternalConnectionString = server,
        };

        Assert.Equal(expected, new MongoDBDatabaseResource("notifydb", "notifydb", mongo).ConnectionString);
    }

    [Fact]
    public void MongoDBDatabaseResource_NoServerRunning_HasNoConnectionString()
    {
        var mongo = new MongoDBServerResource("mongo", new ParameterResource("mongo-password", secret: true, generate: null));

        Assert.Null(new MongoDBDatabaseResource("notifydb", "notifydb", mongo).ConnectionString);
    }

    [Theory]
    [InlineData("127.0.0.1:6380,password=secret", "127.0.0.1", 6380, "secret", false)]
    [InlineData("redis.example.com,ssl=true,abortConnect=false", "redis.example.com", 6379, null, true)]
    [InlineData("localhost:6379", "localhost", 6379, null, false)]
    public void ParseRedis_ConfigurationString_ReadsEndpointPasswordAndSsl(string configuration, string host, int port, string? password, bool ssl)
    {
        Assert.Equal((host, port, password, ssl), HealthProbes.ParseRedis(configuration));
    }
}
