/**
 * Whether the parts of a merge ran at the same time. `churn merge` adds throughput and aligns
 * timelines on wall-clock time because it takes the parts to have run side by side (the nodes
 * of one cluster); parts that ran one after the other make a merged report that describes no
 * moment at all. Two parts ran together when their [start, end] windows overlap by at least
 * half of the shorter one ({@link minOverlapShare}); every pair that does not is named.
 */

/** A part's window, ms since the epoch, and its name for messages. */
export interface PartWindow {
  readonly source: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** Two parts ran together when they overlap by at least this share of the shorter one. */
export const minOverlapShare = 0.5;

/** The overlap of `a` and `b` as a share (0..1) of the shorter window; 1 for two instants at once. */
export function overlapShare(a: PartWindow, b: PartWindow): number {
  const overlap = Math.min(a.endMs, b.endMs) - Math.max(a.startMs, b.startMs);
  const shorter = Math.min(a.endMs - a.startMs, b.endMs - b.startMs);
  if (shorter <= 0) return overlap >= 0 ? 1 : 0;
  return Math.max(0, overlap) / shorter;
}

/**
 * The warning for parts that did not run at the same time, naming the pairs (at most `limit`,
 * then `and N more pairs`); undefined when every pair overlapped enough.
 */
export function overlapWarning(parts: readonly PartWindow[], limit = 5): string | undefined {
  const pairs: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    for (let j = i + 1; j < parts.length; j++) {
      const share = overlapShare(parts[i]!, parts[j]!);
      if (share < minOverlapShare) {
        pairs.push(
          `${parts[i]!.source} and ${parts[j]!.source} overlap ${Math.round(share * 100)}%`,
        );
      }
    }
  }
  if (pairs.length === 0) return undefined;
  const named = pairs.slice(0, limit);
  if (pairs.length > limit) named.push(`and ${pairs.length - limit} more pairs`);
  return `the parts did not run at the same time (${named.join('; ')} of the shorter run): throughput adds and timelines align as if they had; merge parts of one run`;
}
