namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A database on the MongoDB server (<c>AddDatabase("notifydb")</c>), in the shape of Aspire.Hosting.MongoDB's. Its
/// connection string names the database in its path, as the services' <c>AddMongoDBClient</c> expects. When the
/// parent is a <see cref="SqliteStoreResource"/> there is no database: <see cref="SqlitePath"/> says where the
/// services keep their data instead.
/// </summary>
public sealed class MongoDBDatabaseResource(string name, string databaseName, IResource parent, ReferenceExpression connectionString)
    : Resource(name), IResourceWithParent, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    public IResource Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression { get; } = connectionString;

    /// <summary>The shared SQLite file when no MongoDB runs; null when the database exists.</summary>
    public string? SqlitePath => (Parent as SqliteStoreResource)?.SqlitePath;
}
