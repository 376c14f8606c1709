/** The contract between bench/run.ts and every bench/*.bench.ts module. */

/** What a benchmark module is given. */
export interface BenchContext {
  /** Rough wall-clock budget of each measurement in the module, in milliseconds. */
  readonly durationMs: number;
  /** Writes a progress line (to stderr) while a long benchmark runs. */
  readonly log: (line: string) => void;
}

/** A goal a figure is checked against by bench/run.ts (a missed goal fails `npm run bench`). */
export interface BenchGoal {
  /** The figure must be at most this (costs, latencies). */
  readonly atMost?: number;
  /** The figure must be at least this (rates, ratios). */
  readonly atLeast?: number;
  /** Where the goal comes from, e.g. "under 1 µs per recorded operation (issue 5)". */
  readonly why: string;
}

/** One measured figure. Figures meant to be compared are measured in the same run. */
export interface BenchRecord {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly goal?: BenchGoal;
  readonly [detail: string]: unknown;
}

/** Whether `record` meets its goal; undefined when it has none. */
export function goalMet(record: BenchRecord): boolean | undefined {
  const goal = record.goal;
  if (goal === undefined) return undefined;
  return (
    (goal.atMost === undefined || record.value <= goal.atMost) &&
    (goal.atLeast === undefined || record.value >= goal.atLeast)
  );
}

/** A bench module's default export. */
export type BenchModule = (ctx: BenchContext) => Promise<BenchRecord[]>;
