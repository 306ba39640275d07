using System.ComponentModel.DataAnnotations;

namespace Notify.Core.Push;

/// <summary>Web Push (VAPID, RFC 8292), section <c>Push</c>. Without a key pair, push is off and subscriptions are only stored.</summary>
public sealed class PushOptions
{
    public const string SectionName = "Push";

    /// <summary>The application server's P-256 public key, base64url (65 bytes uncompressed). Browsers subscribe with it.</summary>
    public string? VapidPublicKey { get; set; }

    /// <summary>The matching private key, base64url (32 bytes). A secret: never logged.</summary>
    public string? VapidPrivateKey { get; set; }

    /// <summary>Contact for the push service operator: <c>mailto:</c> or <c>https:</c> URL. Required with the keys.</summary>
    public string? Subject { get; set; }

    /// <summary>Subscriptions (devices) one user may hold; one more is refused with 409. Default 10.</summary>
    [Range(1, 100)]
    public int MaxSubscriptionsPerUser { get; set; } = 10;

    /// <summary>Accept <c>http:</c> endpoints (tests and local push services only); otherwise only <c>https:</c>. Default false.</summary>
    public bool AllowHttpEndpoints { get; set; }

    /// <summary>Attempts per subscription and message (the first included) on 429, 5xx or a network error. Default 4.</summary>
    [Range(1, 10)]
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Wait before the second attempt; doubles per attempt (a push service's <c>Retry-After</c> wins, capped by <see cref="MaxBackoff"/>). Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between attempts. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the push service keeps an undelivered message (the <c>TTL</c> header). Default 1 day.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "28.00:00:00")]
    public TimeSpan MessageTtl { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// The oldest notification still pushed: one that waited longer (no Worker ran, or push was failing) is
    /// dropped unpushed when a Worker next claims (it stays in the inbox). Default 1 hour.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often a Worker claims waiting notifications from the store; a new notification's publication also wakes it at once. Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a claim is held: a Worker that dies mid-push leaves its claims to another Worker after this. Must outlast one push with all its retries. Default 5 min.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Notifications claimed at once. Default 100.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>Notifications the Worker pushes at the same time. Default 4.</summary>
    [Range(1, 64)]
    public int Concurrency { get; set; } = 4;

    /// <summary>Whether a key pair is configured (push is sent).</summary>
    public bool Enabled => !string.IsNullOrEmpty(VapidPublicKey);

    /// <summary>Null when the options are consistent, else the problem with the key named.</summary>
    public string? Problem()
    {
        if (string.IsNullOrEmpty(VapidPublicKey) != string.IsNullOrEmpty(VapidPrivateKey))
        {
            return "Push:VapidPublicKey and Push:VapidPrivateKey must be set together.";
        }
        if (!Enabled)
        {
            return null;
        }
        if (Base64Url.Length(VapidPublicKey!) is not 65 || Base64Url.Decode(VapidPublicKey!)[0] != 4)
        {
            return "Push:VapidPublicKey must be an uncompressed P-256 point, base64url (65 bytes).";
        }
        if (Base64Url.Length(VapidPrivateKey!) is not 32)
        {
            return "Push:VapidPrivateKey must be a P-256 private key, base64url (32 bytes).";
        }
        if (Subject is null || !(Subject.StartsWith("mailto:", StringComparison.Ordinal) || Subject.StartsWith("https://", StringComparison.Ordinal)))
        {
            return "Push:Subject must be a mailto: or https: URL when the VAPID keys are set.";
        }
        if (MaxBackoff < InitialBackoff)
        {
            return "Push:MaxBackoff must not be shorter than Push:InitialBackoff.";
        }
        return ClaimLease <= MaxBackoff ? "Push:ClaimLease must be longer than Push:MaxBackoff (a claim must outlast a push's retries)." : null;
    }
}

/// <summary>Base64url without padding (RFC 4648 §5), as Web Push keys are written.</summary>
public static class Base64Url
{
    /// <summary>The decoded length, or -1 when <paramref name="text"/> is not base64url.</summary>
    public static int Length(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return System.Buffers.Text.Base64Url.IsValid(text.TrimEnd('='), out var length) ? length : -1;
    }

    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return System.Buffers.Text.Base64Url.DecodeFromChars(text.TrimEnd('='));
    }

    public static string Encode(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}
