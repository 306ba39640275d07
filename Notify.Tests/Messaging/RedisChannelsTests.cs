using Notify.Core.Messaging;

namespace Notify.Tests.Messaging;

/// <summary>Hash tags in <see cref="RedisChannels"/>: what keeps a topic's channel and history in one Redis Cluster slot.</summary>
public sealed class RedisChannelsTests
{
    [Theory]
    [InlineData("alice", "{alice}")]
    [InlineData("room:1", "{room:1}")]
    public void HashTag_PlainKey_IsTheKeyInBraces(string key, string expected) => Assert.Equal(expected, RedisChannels.HashTag(key));

    [Theory]
    [InlineData("")]
    [InlineData("}x")]
    [InlineData("a{b}")]
    [InlineData("{")]
    public void HashTag_KeyThatCannotTagItself_IsTaggedByAHashAndKeepsTheKey(string key)
    {
        var tag = RedisChannels.HashTag(key);
        Assert.Matches("^\\{#[0-9a-f]{8}\\}:", tag);
        Assert.EndsWith(":" + key, tag, StringComparison.Ordinal);
        Assert.Equal(tag, RedisChannels.HashTag(key));
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("}odd")]
    [InlineData("")]
    public void HistoryAndChannel_OfATopic_ShareTheirHashTag(string key)
    {
        var channels = new RedisChannels();
        var topic = BusTopic.Channel(key);
        Assert.Equal(TagOf(channels.For(topic)), TagOf(channels.History(topic)));
        Assert.NotEmpty(TagOf(channels.For(BusTopic.User(key))));
    }

    [Fact]
    public void HashTag_DistinctKeys_GiveDistinctNames()
    {
        string[] keys = ["", "}", "{", "a", "{a}", "#00000000}:", "a}"];
        Assert.Equal(keys.Length, keys.Select(RedisChannels.HashTag).Distinct().Count());
    }

    [Fact]
    public void UserTopics_ShareTheBucketChannels_StablyAndSpreadOverThemAll()
    {
        var channels = new RedisChannels();
        var buckets = channels.EveryUserBucket().ToHashSet();
        Assert.Equal(RedisChannels.UserBuckets, buckets.Count);
        Assert.Equal(RedisChannels.UserBuckets, buckets.Select(TagOf).Distinct().Count());

        var used = Enumerable.Range(0, 20_000).Select(i => channels.For(BusTopic.User("user-" + i))).ToArray();
        Assert.All(used, channel => Assert.Contains(channel, buckets));
        Assert.Equal(buckets.Count, used.Distinct().Count());
        // The same user maps to the same bucket in every process: the hash is fixed, not string.GetHashCode.
        Assert.Equal("notify:users:{b" + RedisChannels.UserBucket("alice") + "}", channels.For(BusTopic.User("alice")));
        Assert.Equal(RedisChannels.UserBucket("alice"), RedisChannels.UserBucket(new string("alice".ToCharArray())));
    }

    // Redis Cluster's rule: the part between the first '{' and the next '}', when not empty.
    private static string TagOf(string name)
    {
        var open = name.IndexOf('{', StringComparison.Ordinal);
        var close = open < 0 ? -1 : name.IndexOf('}', open + 1);
        return close > open + 1 ? name[(open + 1)..close] : "";
    }
}
