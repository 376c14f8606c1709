/**
 * Fault injection: per operation an extra latency (fixed or normal, clamped at 0), a stall of
 * the core's thread (a busy-wait) and an error rate with a chosen code, drawn from a seeded generator so a run is reproducible.
 *
 * Each operation has its own generator (a stream of the seed named by the operation), so the draws of one
 * operation do not depend on how calls of other operations interleave with it. An injected
 * failure happens before the operation does any work: the call changes no state.
 *
 * The latency is cut short when the injector's `closed` signal aborts (the core closing): the
 * call then fails with UNAVAILABLE instead of going on, so a closing core never waits for an
 * injected latency to run out, and nothing starts behind its back once it closed.
 */
import type { Clock } from '../common/clock.js';
import { ChurnError, type RuntimeErrorCode } from '../common/errors.js';
import type { RuntimeOp } from '../common/operations.js';
import { deriveSeed, normal, seededRandom, type SeededRandom } from '../common/seeded-random.js';

/**
 * Fault injection of one operation; structurally identical to the scenario's resolved
 * `FaultSpec` (runtime/ must not import scenario/).
 */
export interface RuntimeFaultSpec {
  /** Extra latency: normal(meanMs, stddevMs), clamped at 0; stddevMs 0 for a fixed latency. */
  readonly latencyMs: { readonly meanMs: number; readonly stddevMs: number };
  /** Busy-wait of the core's thread before the call goes on, ms; default 0 (none). */
  readonly stallMs?: number;
  /** Fraction of calls that fail, in [0, 1]. */
  readonly errorRate: number;
  /** Code the failing calls fail with. */
  readonly code: RuntimeErrorCode;
}

/** Faults per operation name; operations not named run untouched. */
export type RuntimeFaults = Readonly<Partial<Record<RuntimeOp, RuntimeFaultSpec>>>;

/** What one call draws: how long to wait and whether to fail. */
export interface FaultDraw {
  readonly delayMs: number;
  readonly error: ChurnError | undefined;
}

/** Draws and applies the faults configured for each operation. */
export class FaultInjector {
  readonly #faults: RuntimeFaults;
  readonly #seed: number;
  readonly #clock: Clock;
  readonly #closed: AbortSignal | undefined;
  readonly #randoms = new Map<RuntimeOp, SeededRandom>();

  /** `closed`, when given, cuts every pending and later injected latency once it aborts. */
  constructor(faults: RuntimeFaults, seed: number, clock: Clock, closed?: AbortSignal) {
    for (const [op, spec] of Object.entries(faults) as [RuntimeOp, RuntimeFaultSpec][]) {
      if (!(spec.errorRate >= 0 && spec.errorRate <= 1)) {
        throw new ChurnError(
          'INVALID_ARGUMENT',
          `faults.${op}.errorRate: ${spec.errorRate} is not in [0, 1]`,
        );
      }
      if (
        !(spec.latencyMs.meanMs >= 0) ||
        !(spec.latencyMs.stddevMs >= 0) ||
        !((spec.stallMs ?? 0) >= 0)
      ) {
        throw new ChurnError('INVALID_ARGUMENT', `faults.${op}.latencyMs: must be ≥ 0`);
      }
    }
    this.#faults = faults;
    this.#seed = seed;
    this.#clock = clock;
    this.#closed = closed;
  }

  /** True when any operation has a fault configured. */
  get enabled(): boolean {
    return Object.keys(this.#faults).length > 0;
  }

  /** The next draw for `op` (no delay and no error when `op` has no fault). */
  draw(op: RuntimeOp): FaultDraw {
    const spec = this.#faults[op];
    if (spec === undefined) return { delayMs: 0, error: undefined };
    let random = this.#randoms.get(op);
    if (random === undefined) {
      random = seededRandom(deriveSeed(this.#seed, op));
      this.#randoms.set(op, random);
    }
    const { meanMs, stddevMs } = spec.latencyMs;
    const delayMs = Math.max(0, normal(random, meanMs, stddevMs));
    const fails = spec.errorRate > 0 && random.next() < spec.errorRate;
    return {
      delayMs,
      error: fails ? new ChurnError(spec.code, `${op}: injected fault (${spec.code})`) : undefined,
    };
  }

  /**
   * Stalls the thread for `op`'s stall, waits the drawn latency, then throws the drawn error, if any. Throws UNAVAILABLE
   * as soon as the `closed` signal aborts during the wait.
   */
  async apply(op: RuntimeOp): Promise<void> {
    const spec = this.#faults[op];
    if (spec === undefined) return;
    const { delayMs, error } = this.draw(op);
    if ((spec.stallMs ?? 0) > 0) busyWait(spec.stallMs ?? 0);
    if (delayMs > 0) {
      try {
        await this.#clock.sleep(delayMs, this.#closed);
      } catch (err) {
        throw new ChurnError(
          'UNAVAILABLE',
          `${op}: the runtime core closed during the injected latency (${Math.round(delayMs)} ms)`,
          { cause: err },
        );
      }
    }
    if (error !== undefined) throw error;
  }
}

/**
 * Keeps this thread busy for `ms`: nothing else of the core runs meanwhile (no timer, no I/O,
 * no other call), which is what a stalled runtime is. Read off the monotonic clock on purpose:
 * the stall is real time whatever clock the core was given.
 */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}
