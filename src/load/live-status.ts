/**
 * What a live status line shows while a run goes on. The runner emits one at most once a
 * second through `onStatus`; the CLI formats it (one refreshed line on a TTY, a plain line
 * every 10 s otherwise, JSON with --json).
 */

/** The run's stage. */
export type LiveStage = 'running' | 'draining' | 'cleaning';

/** One status update. Counts cover every phase, warm-up included. */
export interface LiveStatus {
  readonly stage: LiveStage;
  /** The phase running (the last one while draining or cleaning); undefined before the first. */
  readonly phase:
    | {
        /** From 0. */
        readonly index: number;
        readonly count: number;
        readonly name: string;
        readonly kind: 'closed' | 'open' | 'pause';
        /** false for a warm-up phase, whose cycles stay out of the results. */
        readonly record: boolean;
      }
    | undefined;
  /** Since the first phase started, ms. */
  readonly elapsedMs: number;
  /** Planned length of all phases, ms. */
  readonly totalMs: number;
  /** Cycles finished (succeeded or failed) per second since the previous status. */
  readonly cyclesPerSec: number;
  /** p99 of `cycle` in the last closed timeline interval, ms; undefined without data. */
  readonly cycleP99Ms: number | undefined;
  readonly cycles: {
    readonly started: number;
    readonly succeeded: number;
    readonly failed: number;
  };
  /** Failed cycles: each is the error of the step that failed. */
  readonly errors: number;
  readonly inflight: number;
  /** Open-loop arrivals dropped. */
  readonly dropped: number;
}
