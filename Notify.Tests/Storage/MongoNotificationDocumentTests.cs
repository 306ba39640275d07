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
    // Extended JSON spelled by a client is data, not a type: it must not come back as {"n":5}.
    [InlineData("""{"n":{"$numberLong":"5"}}""")]
    [InlineData("""{"when":{"$date":"2026-01-01T00:00:00Z"},"id":{"$oid":"507f1f77bcf86cd799439011"}}""")]
    // Beyond Int64 (and beyond double precision), and number spellings a BSON round trip would change.
    [InlineData("""{"big":123456789012345678901234567890,"neg":-99999999999999999999}""")]
    [InlineData("""{"one":1.0,"exp":1e3,"tiny":5E-324,"zero":-0}""")]
    [InlineData("""{"dotted.key":1,"$top":2,"nul\u0000key":3,"esc":"a\"b\\c\u00e9"}""")]
    [InlineData("""{ "spaced" : [ 1 , 2 ] }""")]
    public void MetadataToBson_ThenBack_KeepsTheJsonTextExactly(string json)
    {
        using var original = JsonDocument.Parse(json);
        var notification = new Notification { Id = "01JD3ZABCDEFGHJKMNPQRSTVWX", UserId = "u", Type = "t", Title = "t", CreatedAt = Now, Metadata = original.RootElement };

        // Through the BSON bytes a server would store, not just the object model.
        var bytes = MongoNotificationDocument.ToBson(notification, null).ToBson();
        var back = MongoNotificationDocument.FromBson(MongoDB.Bson.Serialization.BsonSerializer.Deserialize<BsonDocument>(bytes));

        Assert.Equal(json, back.Metadata!.Value.GetRawText());
    }

    [Fact]
    public void FromBson_MetadataStoredAsNativeBsonBeforeTextStorage_StillReads()
    {
        var legacy = MongoNotificationDocument.ToBson(new Notification { Id = "01JD3ZABCDEFGHJKMNPQRSTVWX", UserId = "u", Type = "t", Title = "t", CreatedAt = Now }, null);
        legacy[MongoNotificationDocument.Metadata] = new BsonDocument { { "symbol", "000001" }, { "n", 3 } };

        var back = MongoNotificationDocument.FromBson(legacy);

        Assert.Equal("000001", back.Metadata!.Value.GetProperty("symbol").GetString());
        Assert.Equal(3, back.Metadata.Value.GetProperty("n").GetInt32());
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

        var document = MongoNotificationDocument.ToBson(notification, new IdempotencyKey("key:billing", "key-1", "hash-1"));
        var back = MongoNotificationDocument.FromBson(document);

        Assert.Equal("key-1", document[MongoNotificationDocument.IdempotencyKey].AsString);
        Assert.Equal("key:billing", document[MongoNotificationDocument.IdempotencyCaller].AsString);
        Assert.Equal("hash-1", document[MongoNotificationDocument.RequestHash].AsString);
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
        Assert.False(document.Contains(MongoNotificationDocument.IdempotencyCaller));
        Assert.Equal(notification, back);
    }
}
