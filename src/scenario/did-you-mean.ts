/** Suggestions for misspelt keys and values: the closest allowed word by edit distance. */

/**
 * Edit distance between `a` and `b`: insertions, deletions, substitutions and swaps of two
 * neighbouring characters (`strat` → `start` is 1) each cost 1 (optimal string alignment).
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  // rows[i][j]: distance between the first i characters of a and the first j of b.
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidates closest to `word` (several when tied), or none when none is close enough to
 * be a plausible typo: at most a third of the word's length away (at least 1, at most 3
 * edits). Case is ignored for the distance, so `Driver` finds `driver`.
 */
export function closestMatches(word: string, candidates: Iterable<string>): string[] {
  const maxDistance = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string[] = [];
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = [candidate];
      bestDistance = distance;
    } else if (distance === bestDistance && best.length > 0 && !best.includes(candidate)) {
      best.push(candidate);
    }
  }
  return best;
}

/** ` (did you mean "x"?)`, or `"x" or "y"` when tied, when a candidate is close; else ''. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  return formatSuggestions(closestMatches(word, candidates));
}

/** ` (did you mean "a", "b" or "c"?)` for `matches`; '' when there are none. */
export function formatSuggestions(matches: readonly string[]): string {
  if (matches.length === 0) return '';
  const quoted = matches.map((m) => `"${m}"`);
  const last = quoted.pop()!;
  return ` (did you mean ${quoted.length === 0 ? last : `${quoted.join(', ')} or ${last}`}?)`;
}
