/** The contract between bench/run.ts and every bench/*.bench.ts module. */

/** What a benchmark module is given. */
export interface BenchContext {
  /** Rough wall-clock budget of each measurement in the module, in milliseconds. */
  readonly durationMs: number;
  /** Writes a progress line (to stderr) while a long benchmark runs. */
  readonly log: (line: string) => void;
}

/** One measured figure. Figures meant to be compared are measured in the same run. */
export interface BenchRecord {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly [detail: string]: unknown;
}

/** A bench module's default export. */
export type BenchModule = (ctx: BenchContext) => Promise<BenchRecord[]>;
