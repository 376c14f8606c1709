/**
 * churn's own process, sampled next to the target: CPU time, resident memory, V8 heap, open
 * descriptors, and the event loop's delay over the last sampling period. A harness whose event
 * loop stalls distorts every latency it measures; these figures say when that happens.
 *
 * Event-loop delay is measured here with a 10 ms interval timer (how late each tick fires),
 * not with `perf_hooks.monitorEventLoopDelay`: resetting that monitor once per period, as a
 * per-period figure needs, loses most of a stall that begins right after the reset (measured
 * on Node 20: a 100 ms stall read as 33 ms).
 */
import type { ProcSource } from './procfs.js';
import type { HarnessSample } from './resource-sample.js';

/** Reads churn's own process; see the module comment. */
export interface HarnessProbe {
  /** A sample; the event-loop figures cover the time since the previous call. */
  sample(): Promise<HarnessSample>;
  /** Stops the event-loop timer. */
  close(): void;
}

/** Period of the event-loop timer, ms. */
const tickMs = 10;

/** How late the event loop runs a 10 ms timer, collected per sampling period. */
class LoopDelay {
  #lastMs = performance.now();
  #delaysMs: number[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#delaysMs.push(Math.max(0, now - this.#lastMs - tickMs));
      this.#lastMs = now;
    }, tickMs);
    // Sampling must never keep the process alive.
    this.#timer.unref();
  }

  /** p99 and max of the delays since the last call, ms; a stall still going counts too. */
  take(): { p99Ms: number; maxMs: number } {
    const now = performance.now();
    const pending = now - this.#lastMs - tickMs;
    if (pending > tickMs) {
      this.#delaysMs.push(pending);
      this.#lastMs = now;
    }
    const delays = this.#delaysMs.sort((a, b) => a - b);
    this.#delaysMs = [];
    if (delays.length === 0) return { p99Ms: 0, maxMs: 0 };
    // Nearest rank, as the report's percentiles.
    const rank = Math.max(1, Math.ceil(0.99 * delays.length));
    return { p99Ms: delays[rank - 1]!, maxMs: delays[delays.length - 1]! };
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/** A {@link HarnessProbe} of this process, reading descriptors through `proc`. */
export function harnessProbe(proc: ProcSource): HarnessProbe {
  const loop = new LoopDelay();
  return {
    async sample() {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      const delay = loop.take();
      return {
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        openFds: await proc.openFds(process.pid),
        eventLoopLagP99Seconds: delay.p99Ms / 1000,
        eventLoopLagMaxSeconds: delay.maxMs / 1000,
      };
    },
    close() {
      loop.close();
    },
  };
}
