/**
 * Gamma and beta draws for the bootstrap of percentiles, over churn's one seeded generator
 * (src/common/seeded-random.ts), so a comparison is reproducible on every machine.
 */
import { normal, type SeededRandom } from '../../common/seeded-random.js';

/** Gamma(shape, 1) for shape ≥ 1 (Marsaglia–Tsang). */
export function gammaDraw(random: SeededRandom, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random, 0, 1);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) for a, b ≥ 1: the distribution of the a-th smallest of a + b − 1 uniforms. */
export function betaDraw(random: SeededRandom, a: number, b: number): number {
  const x = gammaDraw(random, a);
  const y = gammaDraw(random, b);
  return x / (x + y);
}
