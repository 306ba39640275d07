namespace Notify.Tests.Api;

/// <summary>
/// The test classes that share one Api process: none of them changes process-wide state (each owns its
/// users, channels and idempotency keys), so one process serves them all.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiFixture>
{
    public const string Name = "Api";
}
