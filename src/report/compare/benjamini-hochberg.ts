/**
 * Benjamini-Hochberg adjustment: when a comparison tests many operations × statistics at once,
 * some small p-values appear by chance. Adjusted p-values (q-values) keep the expected share of
 * false discoveries among the flagged rows at most alpha; under "nothing changed" that is the
 * chance of flagging anything at all.
 */

/** Adjusted p-values in the order of `pValues`; null entries (no test) stay null and do not count. */
export function benjaminiHochberg(pValues: readonly (number | null)[]): (number | null)[] {
  const tested = pValues
    .map((p, index) => ({ p, index }))
    .filter((e): e is { p: number; index: number } => e.p !== null)
    .sort((a, b) => a.p - b.p);
  const m = tested.length;
  const out: (number | null)[] = pValues.map(() => null);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const entry = tested[rank - 1]!;
    running = Math.min(running, (entry.p * m) / rank);
    // max(): (p·m)/m can round below p.
    out[entry.index] = Math.min(1, Math.max(entry.p, running));
  }
  return out;
}
