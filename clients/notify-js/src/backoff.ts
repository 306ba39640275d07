import type { Clock } from "./clock.js";

export interface BackoffOptions {
  /** First delay's upper bound, ms. Default 500. */
  baseMs?: number;
  /** The cap on any delay, ms. Default 30,000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
}

/**
 * Exponential backoff with full jitter: attempt n waits a uniform random time in
 * [0, min(maxMs, baseMs · factor^n)], so a crowd of clients dropped at once spreads out.
 */
export class Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly factor: number;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.baseMs = options.baseMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    if (!(this.baseMs >= 0) || !(this.maxMs >= this.baseMs) || !(this.factor >= 1)) {
      throw new RangeError("backoff: need 0 <= baseMs <= maxMs and factor >= 1");
    }
  }

  /** The upper bound for attempt n (0-based). */
  ceiling(attempt: number): number {
    const exp = this.baseMs * Math.pow(this.factor, Math.max(0, attempt));
    return Math.min(this.maxMs, Number.isFinite(exp) ? exp : this.maxMs);
  }

  /** The delay before attempt n (0-based). */
  delay(attempt: number): number {
    return Math.floor(this.random() * this.ceiling(attempt));
  }

  /**
   * The delay before attempt n, but never less than `minMs`: uniform in [minMs, max(minMs, ceiling(n))],
   * so a floor does not make every client wait exactly the same time.
   */
  delayAtLeast(attempt: number, minMs: number): number {
    return minMs + Math.floor(this.random() * Math.max(0, this.ceiling(attempt) - minMs));
  }

  static fromClock(options: BackoffOptions, clock: Clock): Backoff {
    return new Backoff(options, () => clock.random());
  }
}
