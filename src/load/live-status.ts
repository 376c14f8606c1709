/**
 * What a live status line shows while a run goes on. The runner emits one at most once a
 * second through `onStatus`; the CLI formats it (one refreshed line on a TTY, a plain line
 * every 10 s otherwise, JSON with --json).
 */

/**
 * The run's stage. `draining`: no new cycle starts (a stop was asked for, or the last phase's
 * time is up) and the runner waits for those in flight; `cleaning`: removing what the run left.
 */
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
  /** Since the first phase started, ms. Beyond `totalMs` the run overruns its plan. */
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
  /** true when the plan has an open-loop phase, whose arrivals can be dropped. */
  readonly openLoop: boolean;
  /** Open-loop arrivals dropped. */
  readonly dropped: number;
  /**
   * How long the runtime has been unreachable (an outage: outages.ts), ms; 0 while it answers.
   */
  readonly unreachableForMs: number;
}

/** What the runner knows when it tells its stage; see {@link liveStage}. */
export interface LiveStageInput {
  /** The runner's own stage: `running` until its phases return. */
  readonly stage: LiveStage;
  /** A stop was asked for (signal, threshold, iterations cap, broken run). */
  readonly stopRequested: boolean;
  readonly elapsedMs: number;
  readonly totalMs: number;
  readonly inflight: number;
}

/**
 * The stage to show: the runner's, except that a run still in its phases is already draining
 * once a stop was asked for, or once the plan's time is up with cycles still in flight (a
 * closed-loop worker finishing its cycle, an open-loop phase whose last arrivals are late).
 */
export function liveStage(input: LiveStageInput): LiveStage {
  if (input.stage !== 'running') return input.stage;
  if (input.stopRequested) return 'draining';
  if (input.elapsedMs >= input.totalMs && input.inflight > 0) return 'draining';
  return 'running';
}

/**
 * Dropped arrivals as a share of all arrivals (`dropped / (started + dropped)`), 0..1; 0 when
 * there were none.
 */
export function droppedRatio(status: Pick<LiveStatus, 'cycles' | 'dropped'>): number {
  const arrivals = status.cycles.started + status.dropped;
  return arrivals === 0 ? 0 : status.dropped / arrivals;
}
