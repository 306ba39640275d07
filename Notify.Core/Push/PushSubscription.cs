using System.Security.Cryptography;
using System.Text;

namespace Notify.Core.Push;

/// <summary>
/// One browser's Web Push subscription (RFC 8030 endpoint with its RFC 8291 keys). The id is derived
/// from the endpoint, so registering the same device again is idempotent.
/// </summary>
public sealed record PushSubscription
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public required string Endpoint { get; init; }
    /// <summary>The browser's P-256 public key, base64url (65 bytes uncompressed).</summary>
    public required string P256dh { get; init; }
    /// <summary>The browser's authentication secret, base64url (16 bytes).</summary>
    public required string Auth { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The id of the subscription at <paramref name="endpoint"/>: 32 hex digits of its SHA-256.</summary>
    public static string IdOf(string endpoint) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(endpoint)))[..32];
}

/// <summary>What saving a subscription did.</summary>
public enum PushSaveOutcome
{
    /// <summary>A new device was stored.</summary>
    Created,
    /// <summary>The endpoint was known; its keys (and owner) were replaced.</summary>
    Updated,
    /// <summary>The user already holds the maximum number of subscriptions; nothing was stored.</summary>
    LimitReached,
}

/// <summary>The stored subscriptions of the users, by endpoint.</summary>
public interface IPushSubscriptionStore
{
    /// <summary>Creates the schema or indexes (idempotent).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="subscription"/> by its endpoint: a known endpoint is replaced (also when it
    /// belonged to another user: the browser profile changed hands), a new one is added unless the user
    /// already holds <paramref name="maxPerUser"/>.
    /// </summary>
    Task<PushSaveOutcome> SaveAsync(PushSubscription subscription, int maxPerUser, CancellationToken cancellationToken);

    /// <summary>The user's subscriptions, oldest first.</summary>
    Task<IReadOnlyList<PushSubscription>> ListAsync(string userId, CancellationToken cancellationToken);

    /// <summary>Deletes one of the user's subscriptions; false when the user has none with that id.</summary>
    Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken);

    /// <summary>Deletes the subscription at <paramref name="endpoint"/> (the push service said it is gone).</summary>
    Task<bool> DeleteByEndpointAsync(string endpoint, CancellationToken cancellationToken);
}
