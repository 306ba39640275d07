namespace Notify.Core.Notifications;

/// <summary>Field limits of PROTOCOL.md §2; violating one is a 400 naming the field.</summary>
public static class NotificationLimits
{
    public const int TitleMaxLength = 200;
    public const int ContentMaxLength = 4_000;
    public const int LinkMaxLength = 2_048;
    public const int TypeMaxLength = 64;
    public const int SourceMaxLength = 64;
    public const int MetadataMaxBytes = 8 * 1024;
    /// <summary>Allowed characters of <c>type</c> and <c>source</c>.</summary>
    public const string TokenPattern = "^[A-Za-z0-9_.:-]+$";
    /// <summary>Allowed channel names (PROTOCOL.md §3).</summary>
    public const string ChannelPattern = "^[a-z0-9_.:-]{1,128}$";
    /// <summary>Longest snooze: a notification comes back at most this long after it was snoozed.</summary>
    public static readonly TimeSpan MaxSnooze = TimeSpan.FromDays(30);
}
