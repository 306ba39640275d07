namespace Notify.Core.Messaging;

/// <summary>A message appended to a channel's history: its stream offset and the frame that was published.</summary>
public sealed record ChannelPublication(string Id, DateTimeOffset CreatedAt, ReadOnlyMemory<byte> Frame);

/// <summary>History entries after an offset, oldest first.</summary>
public sealed record ChannelHistory(IReadOnlyList<ChannelPublication> Entries, bool Truncated);
