/**
 * The Mann-Whitney U test (two-sided): do two samples come from the same distribution, or does
 * one tend to be larger? Rank-based, so it needs no assumption about the shape of latency
 * distributions, and robust to the outliers they have.
 *
 * Exact p-values (the U distribution counted by Gaussian binomial coefficients) when there are
 * no ties and both samples are small enough for exact counts; otherwise the normal
 * approximation with tie correction and continuity correction, as benchstat and R do.
 */

/** Result of {@link mannWhitneyU}. */
export interface MannWhitneyResult {
  /** U of the first sample: pairs (a, b) with a > b, ties counted half. */
  readonly u: number;
  /** Two-sided p-value; 1 when either sample is empty or every value is equal. */
  readonly p: number;
  readonly n1: number;
  readonly n2: number;
  /** Whether p is exact or from the normal approximation. */
  readonly exact: boolean;
}

/** Largest n1 + n2 for which p is computed exactly (counts stay well below 2^53). */
const exactLimit = 50;

/** Two-sided Mann-Whitney U test of samples `a` and `b`. */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: 0, p: 1, n1, n2, exact: true };
  const all = [
    ...a.map((value) => ({ value, first: true })),
    ...b.map((value) => ({ value, first: false })),
  ].sort((x, y) => x.value - y.value);
  const n = n1 + n2;
  let rankSum1 = 0;
  let tieTerm = 0;
  let ties = false;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.value === all[i]!.value) j++;
    const rank = (i + j + 2) / 2;
    const size = j - i + 1;
    if (size > 1) {
      ties = true;
      tieTerm += size * size * size - size;
    }
    for (let k = i; k <= j; k++) if (all[k]!.first) rankSum1 += rank;
    i = j + 1;
  }
  const u = rankSum1 - (n1 * (n1 + 1)) / 2;
  if (!ties && n <= exactLimit) {
    return { u, p: exactTwoSidedP(u, n1, n2), n1, n2, exact: true };
  }
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, p: 1, n1, n2, exact: false };
  const z = Math.max(0, Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, 2 * normalUpperTail(z)), n1, n2, exact: false };
}

/** The smallest two-sided p-value samples of sizes n1 and n2 can give (no ties): 2 / C(n1+n2, n1). */
export function smallestPossibleP(n1: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  let log = 0;
  for (let i = 1; i <= Math.min(n1, n2); i++) {
    log += Math.log(Math.max(n1, n2) + i) - Math.log(i);
  }
  return Math.min(1, 2 * Math.exp(-log));
}

/** Counts of U = 0 … n1·n2 over all arrangements: coefficients of the Gaussian binomial. */
function uCounts(n1: number, n2: number): Float64Array {
  const max = n1 * n2;
  let poly = new Float64Array(max + 1);
  poly[0] = 1;
  // [n2+i choose i]_q = [n2+i-1 choose i-1]_q · (1 − q^(n2+i)) / (1 − q^i)
  for (let i = 1; i <= n1; i++) {
    const next = new Float64Array(max + 1);
    const shift = n2 + i;
    for (let k = 0; k <= max; k++) next[k] = poly[k]! - (k >= shift ? poly[k - shift]! : 0);
    for (let k = i; k <= max; k++) next[k] = next[k]! + next[k - i]!;
    poly = next;
  }
  return poly;
}

function exactTwoSidedP(u: number, n1: number, n2: number): number {
  const counts = uCounts(n1, n2);
  let total = 0;
  for (const c of counts) total += c;
  const low = Math.min(u, n1 * n2 - u);
  let tail = 0;
  for (let k = 0; k <= Math.floor(low); k++) tail += counts[k]!;
  return Math.min(1, (2 * tail) / total);
}

/** P(Z > z) for a standard normal Z (complementary error function, |error| < 1.2e-7). */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
