using Microsoft.Extensions.Time.Testing;
using Notify.Core.Notifications;

namespace Notify.Tests.Storage;

/// <summary>Id proposals and how a store raises one above a user's greatest id (pure logic).</summary>
public sealed class NotificationIdsTests
{
    [Fact]
    public void Next_SameMillisecond_StillIncreases()
    {
        var ids = new NotificationIds(new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero)));

        var made = Enumerable.Range(0, 100).Select(_ => ids.Next()).ToList();

        Assert.Equal(made.Order(StringComparer.Ordinal), made);
        Assert.Equal(100, made.Distinct().Count());
        Assert.All(made, id => Assert.Equal(26, id.Length));
    }

    [Fact]
    public void Above_ProposalAfterTheFloorOrNoFloor_KeepsTheProposal()
    {
        var ids = new NotificationIds(TimeProvider.System);
        var floor = ids.Next();
        var proposal = ids.Next();

        Assert.Equal(proposal, NotificationIds.Above(proposal, floor));
        Assert.Equal(proposal, NotificationIds.Above(proposal, ""));
        Assert.Equal(proposal, NotificationIds.Above(proposal, null));
    }

    [Fact]
    public void Above_ProposalAtOrBelowTheFloor_IsAValidIdJustAboveIt()
    {
        var behind = new NotificationIds(new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-1))).Next();
        var floor = new NotificationIds(TimeProvider.System).Next();

        var raised = Enumerable.Range(0, 50).Select(_ => NotificationIds.Above(behind, floor)).ToList();

        Assert.All(raised, id =>
        {
            Assert.True(string.CompareOrdinal(id, floor) > 0, $"{id} must sort after {floor}");
            Assert.True(Ulid.TryParse(id, out var parsed));
            Assert.Equal(Ulid.Parse(floor).Time, parsed.Time);
            var step = new System.Numerics.BigInteger(parsed.ToByteArray(), isUnsigned: true, isBigEndian: true)
                - new System.Numerics.BigInteger(Ulid.Parse(floor).ToByteArray(), isUnsigned: true, isBigEndian: true);
            Assert.InRange(step, System.Numerics.BigInteger.One, new System.Numerics.BigInteger(int.MaxValue));
        });
        Assert.True(raised.Distinct().Count() > 40, "raised ids should be spread by their random step");
        Assert.Equal(NotificationIds.Above(floor, floor).Length, floor.Length);
    }

    [Fact]
    public void Above_FloorThatIsNotAUlid_Throws()
    {
        var proposal = new NotificationIds(TimeProvider.System).Next();

        Assert.Throws<InvalidOperationException>(() => NotificationIds.Above(proposal, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"));
    }
}
