using MongoDB.Driver;

namespace Notify.Tests.Storage;

/// <summary>
/// A private database on the MongoDB server that <c>NOTIFY_TEST_MONGODB</c> names, dropped on dispose.
/// Where the variable is unset the calling test is skipped with that reason.
/// </summary>
internal sealed class MongoTestDatabase : IAsyncDisposable
{
    public const string Variable = "NOTIFY_TEST_MONGODB";

    private readonly MongoClient _client;

    private MongoTestDatabase(MongoClient client, string name)
    {
        _client = client;
        Database = client.GetDatabase(name);
    }

    public IMongoDatabase Database { get; }

    /// <summary>A fresh database, or a skipped test when no server is configured.</summary>
    public static MongoTestDatabase CreateOrSkip()
    {
        var url = Environment.GetEnvironmentVariable(Variable);
        Assert.SkipWhen(string.IsNullOrWhiteSpace(url), $"{Variable} does not name a MongoDB server (e.g. mongodb://localhost:27017).");
        var settings = MongoClientSettings.FromConnectionString(url);
        settings.ServerSelectionTimeout = TimeSpan.FromSeconds(10);
        return new MongoTestDatabase(new MongoClient(settings), $"notify_test_{Guid.NewGuid():N}");
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DropDatabaseAsync(Database.DatabaseNamespace.DatabaseName);
        _client.Dispose();
    }
}
