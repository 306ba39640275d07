/**
 * Remembers the last `capacity` ids it saw, in arrival order, so replayed frames that overlap
 * live delivery are dropped. Bounded: the oldest id is forgotten first.
 */
export class DedupeSet {
  private readonly seen = new Set<string>();

  constructor(readonly capacity = 1000) {
    if (!(capacity >= 1)) throw new RangeError("dedupe capacity must be >= 1");
  }

  /** Records `id`; returns false when it was already seen. */
  add(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.capacity) {
      // Sets iterate in insertion order: the first key is the oldest.
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }

  has(id: string): boolean {
    return this.seen.has(id);
  }

  get size(): number {
    return this.seen.size;
  }

  clear(): void {
    this.seen.clear();
  }
}

/**
 * Compares two ids in creation order. Notification ids (ULIDs, or ObjectIds in hex) sort
 * lexicographically when they have the same length; a longer id is newer when lengths differ.
 */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
