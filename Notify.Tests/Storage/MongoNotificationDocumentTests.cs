using System.Text.Json;
using MongoDB.Bson;
using Notify.Core.Notifications;
using Notify.Core.Storage.Mongo;

namespace Notify.Tests.Storage;

/// <summary>The BSON mapping of the MongoDB store, checked without a server.</summary>
public sealed class MongoNotificationDocumentTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 12, 0, 0, 123, TimeSpan.Zero);

    [Theory]
    [InlineData("""{"a":1,"b":"x","c":{"d":[1,2.5,true,null]}}""")]
    [InlineData("""[1,"two",{"three":3}]""")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("9007199254740993")]
    [InlineData("-0.125")]
    [InlineData("""{"unicode":"分析完成 ✓"}""")]
    public void MetadataToBson_ThenBack_KeepsTheJsonValue(string json)
    {
        using var original = JsonDocument.Parse(json);

        var back = MongoNotificationDocument.MetadataFromBson(MongoNotificationDocument.MetadataToBson(original.RootElement));

        Assert.True(JsonElement.DeepEquals(original.RootElement, back), back.GetRawText());
    }

    [Fact]
    public void ToBson_ThenFromBson_RoundTripsEveryField()
    {
        using var metadata = JsonDocument.Parse("""{"k":"v"}""");
        var notification = new Notification
        {
            Id = "01JD3ZABCDEFGHJKMNPQRSTVWX",
            UserId = "alice",
            Type = "analysis",
            Title = "t",
            Content = "c",
            Link = "/x",
            Source = "s",
            Severity = NotificationSeverity.Error,
            Status = NotificationStatus.Read,
            CreatedAt = Now,
            ReadAt = Now.AddSeconds(5),
            Metadata = metadata.RootElement.Clone(),
        };

        var document = MongoNotificationDocument.ToBson(notification, "key-1");
        var back = MongoNotificationDocument.FromBson(document);

        Assert.Equal("key-1", document[MongoNotificationDocument.IdempotencyKey].AsString);
        Assert.Equal("read", document[MongoNotificationDocument.Status].AsString);
        Assert.Equal("error", document[MongoNotificationDocument.Severity].AsString);
        Assert.IsType<BsonDateTime>(document[MongoNotificationDocument.CreatedAt]);
        Assert.Equal(notification with { Metadata = null }, back with { Metadata = null });
        Assert.True(JsonElement.DeepEquals(notification.Metadata.Value, back.Metadata!.Value));
    }

    [Fact]
    public void ToBson_WithoutIdempotencyKey_OmitsTheFieldForThePartialIndex()
    {
        var notification = new Notification { Id = "01JD3ZABCDEFGHJKMNPQRSTVWX", UserId = "bob", Type = "t", Title = "t", CreatedAt = Now };

        var document = MongoNotificationDocument.ToBson(notification, null);
        var back = MongoNotificationDocument.FromBson(document);

        Assert.False(document.Contains(MongoNotificationDocument.IdempotencyKey));
        Assert.Equal(notification, back);
    }
}
