namespace Notify.Core.Tasks;

/// <summary>The limits one dequeue or recovery applies (from <see cref="QueueOptions"/>, adjustable at run time).</summary>
public readonly record struct QueueLimits(int PerUser, int Global, TimeSpan VisibilityTimeout, int MaxAttempts);
