using System.Net;
using Notify.Realtime.Streams;

namespace Notify.Tests.Realtime;

/// <summary>How a Realtime instance reads <c>CLUSTER NODES</c> to tell that a lost node's replica took its slots.</summary>
public sealed class ClusterSlotOwnershipTests
{
    // A 3+3 cluster after 127.0.0.1:7001 died and its replica 127.0.0.1:7004 was promoted.
    private const string AfterFailover = """
        a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
        b2 127.0.0.1:7001@17001 master,fail - 1700000000000 1700000000000 2 disconnected
        c3 127.0.0.1:7002@17002 master - 0 1700000000500 3 connected 10923-16383
        d4 127.0.0.1:7003@17003 slave a1 0 1700000000500 1 connected
        e5 127.0.0.1:7004@17004 master - 0 1700000000500 7 connected 5461-10922
        f6 127.0.0.1:7005@17005 slave c3 0 1700000000500 3 connected
        """;

    // The same cluster before the promotion: the failed primary still holds its slots.
    private const string BeforePromotion = """
        a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
        b2 127.0.0.1:7001@17001 master,fail? - 1700000000000 1700000000000 2 disconnected 5461-10922
        e5 127.0.0.1:7004@17004 slave b2 0 1700000000500 2 connected
        """;

    [Fact]
    public void OwnsSlots_FailedPrimaryAfterItsReplicaWasPromoted_False() =>
        Assert.False(SubscriptionRecovery.OwnsSlots(AfterFailover, new IPEndPoint(IPAddress.Loopback, 7001)));

    [Fact]
    public void OwnsSlots_FailedPrimaryBeforeThePromotion_True() =>
        Assert.True(SubscriptionRecovery.OwnsSlots(BeforePromotion, new IPEndPoint(IPAddress.Loopback, 7001)));

    [Theory]
    [InlineData(7004, true)]
    [InlineData(7003, false)]
    [InlineData(7999, false)]
    public void OwnsSlots_OtherNodes_ByTheirSlotRanges(int port, bool owns) =>
        Assert.Equal(owns, SubscriptionRecovery.OwnsSlots(AfterFailover, new IPEndPoint(IPAddress.Loopback, port)));

    [Fact]
    public void OwnsSlots_NodeNamedByHost_MatchesItsLine() =>
        Assert.True(SubscriptionRecovery.OwnsSlots("x1 redis-a:6379@16379 master - 0 0 1 connected 0-16383\n", new DnsEndPoint("redis-a", 6379)));
}
