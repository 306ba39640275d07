using System.Text.Json;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using Notify.Core.Notifications;

namespace Notify.Core.Storage.Mongo;

/// <summary>
/// The BSON shape of a stored notification: snake_case fields as on the wire, <c>_id</c> the ULID,
/// times as BSON dates (millisecond precision), metadata as its JSON text in a string (so it comes back
/// exactly as sent: BSON has no type for integers beyond 64 bits, and reading BSON back as JSON would turn
/// keys such as <c>$numberLong</c> into values), and
/// <c>idempotency_key</c> with <c>idempotency_caller</c> and <c>request_hash</c> present only when the
/// create had a key (the unique index is partial on it),
/// <c>prev</c> the user's newest id when it was written, and <c>pending</c> only while it is unpublished.
/// </summary>
internal static class MongoNotificationDocument
{
    public const string Id = "_id";
    public const string UserId = "user_id";
    public const string Type = "type";
    public const string Title = "title";
    public const string Content = "content";
    public const string Link = "link";
    public const string Source = "source";
    public const string Severity = "severity";
    public const string Status = "status";
    public const string CreatedAt = "created_at";
    public const string ReadAt = "read_at";
    public const string Metadata = "metadata";
    public const string SeenAt = "seen_at";
    public const string ArchivedAt = "archived_at";
    public const string SnoozedUntil = "snoozed_until";
    public const string IdempotencyKey = "idempotency_key";
    public const string IdempotencyCaller = "idempotency_caller";
    public const string RequestHash = "request_hash";
    /// <summary>The user's newest id when this document was written ("" for the first); unique per user.</summary>
    public const string Prev = "prev";
    /// <summary>Present (true) while the notification is in the outbox, not yet published.</summary>
    public const string Pending = "pending";
    /// <summary>Present while the notification waits for Web Push: since when (<c>IPushOutbox</c>).</summary>
    public const string PushDue = "push_due";
    /// <summary>Present while a Worker holds the push claim: until when.</summary>
    public const string PushLease = "push_lease";

    private static readonly JsonWriterSettings MetadataJson = new() { OutputMode = JsonOutputMode.RelaxedExtendedJson, Indent = false };

    public static string StatusName(NotificationStatus status) => status == NotificationStatus.Read ? "read" : "unread";

    public static BsonDocument ToBson(Notification notification, Notifications.IdempotencyKey? idempotency)
    {
        var document = new BsonDocument
        {
            { Id, notification.Id },
            { UserId, notification.UserId },
            { Type, notification.Type },
            { Title, notification.Title },
            { Content, notification.Content },
            { Link, notification.Link is null ? BsonNull.Value : notification.Link },
            { Source, notification.Source is null ? BsonNull.Value : notification.Source },
            { Severity, StoredNotification.SeverityName(notification.Severity) },
            { Status, StatusName(notification.Status) },
            { CreatedAt, new BsonDateTime(notification.CreatedAt.UtcDateTime) },
            { ReadAt, notification.ReadAt is { } readAt ? new BsonDateTime(readAt.UtcDateTime) : BsonNull.Value },
            { Metadata, notification.Metadata is { } metadata ? MetadataToBson(metadata) : BsonNull.Value },
            { SeenAt, Date(notification.SeenAt) },
            { ArchivedAt, Date(notification.ArchivedAt) },
            { SnoozedUntil, Date(notification.SnoozedUntil) },
        };
        if (idempotency is not null)
        {
            document.Add(IdempotencyKey, idempotency.Key);
            document.Add(IdempotencyCaller, idempotency.Caller);
            document.Add(RequestHash, idempotency.RequestHash);
        }
        return document;
    }

    public static Notification FromBson(BsonDocument document) => new()
    {
        Id = document[Id].AsString,
        UserId = document[UserId].AsString,
        Type = document[Type].AsString,
        Title = document[Title].AsString,
        Content = document.GetValue(Content, "").AsString,
        Link = NullableString(document, Link),
        Source = NullableString(document, Source),
        Severity = StoredNotification.ParseSeverity(document.GetValue(Severity, "info").AsString),
        Status = document.GetValue(Status, "unread").AsString == "read" ? NotificationStatus.Read : NotificationStatus.Unread,
        CreatedAt = new DateTimeOffset(document[CreatedAt].ToUniversalTime()),
        ReadAt = NullableDate(document, ReadAt),
        Metadata = document.GetValue(Metadata, BsonNull.Value) is { IsBsonNull: false } metadata ? MetadataFromBson(metadata) : null,
        // Documents written before seen, archive and snooze lack these fields: null.
        SeenAt = NullableDate(document, SeenAt),
        ArchivedAt = NullableDate(document, ArchivedAt),
        SnoozedUntil = NullableDate(document, SnoozedUntil),
    };

    /// <summary>A time as stored: a BSON date, or null.</summary>
    public static BsonValue Date(DateTimeOffset? value) => value is { } v ? new BsonDateTime(v.UtcDateTime) : BsonNull.Value;

    private static DateTimeOffset? NullableDate(BsonDocument document, string name) =>
        document.GetValue(name, BsonNull.Value) is BsonDateTime date ? new DateTimeOffset(date.ToUniversalTime()) : null;

    /// <summary>Metadata as stored: its JSON text, byte for byte as the request carried it.</summary>
    public static BsonValue MetadataToBson(JsonElement metadata) => new BsonString(metadata.GetRawText());

    /// <summary>
    /// Metadata as read: the stored JSON text; a document written before metadata was kept as text holds
    /// native BSON, which is read back as relaxed Extended JSON as it was then.
    /// </summary>
    public static JsonElement MetadataFromBson(BsonValue value)
    {
        var json = value is BsonString text ? text.Value : new BsonDocument("v", value).ToJson(MetadataJson);
        using var document = JsonDocument.Parse(json);
        return value is BsonString ? document.RootElement.Clone() : document.RootElement.GetProperty("v").Clone();
    }

    private static string? NullableString(BsonDocument document, string name) =>
        document.GetValue(name, BsonNull.Value) is BsonString text ? text.Value : null;
}
