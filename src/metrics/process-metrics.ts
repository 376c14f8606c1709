/**
 * churn's own process, sampled next to the target: CPU time, resident memory, V8 heap, open
 * descriptors, and the event loop's delay: its p99 over the last 60 s and its max over the
 * last sampling period (loop-lag-window.ts says why the p99 needs the longer window). A
 * harness whose event loop stalls distorts every latency it measures; these figures say when.
 *
 * Event-loop delay is measured here with a 20 ms interval timer (how late each tick fires),
 * not with `perf_hooks.monitorEventLoopDelay`: resetting that monitor once per period, as a
 * per-period figure needs, loses most of a stall that begins right after the reset (measured
 * on Node 20: a 100 ms stall read as 33 ms).
 *
 * The period is what the probe costs: every tick wakes an otherwise idle loop, about 120 µs of
 * CPU each on this project's 2-core VM, so a 10 ms timer alone cost 12–14 ms of CPU a second
 * (2 ms per cycle against containerd's ~6 cycles/s) and a 20 ms one half that. Lateness is
 * measured exactly either way; a 20 ms tick only samples it half as often (3,000 delays in
 * the 60 s p99 window), and a stall longer than a tick always delays one.
 *
 * Idle, the probe slows down (issue 13: an idle run's fixed cost ≤ 1 ms of CPU a second): while
 * no call to the runtime is in flight, and for a second after the last one ended, it ticks
 * every 250 ms instead of 20 ms, and each idle tick is recorded with the twelve 20 ms ticks
 * that were due on time before it (so the p99 stays a share of time). What it gives up: a stall
 * shorter than 250 ms while nothing is measured (no call in flight) may go unseen; a longer one
 * always delays an idle tick and is recorded in full. The first call after idle puts the fast
 * tick back at once (RunMetrics tells the probe of every call the driver makes).
 *
 * The same ticks feed a {@link LoopLagTally}: stall-corrected delays per sampling period and
 * over the probe's life (what a run is judged `harness-bound` by). Event-loop utilization
 * (`performance.eventLoopUtilization`, the share of time the loop was busy rather than idle)
 * is read as a delta at each sample: no timer of its own.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { LoopLagTally } from './loop-lag-tally.js';
import { LoopLagWindow, type LoopLag } from './loop-lag-window.js';
import type { ProcSource } from './procfs.js';
import type { HarnessSample } from './resource-sample.js';

/** Reads churn's own process; see the module comment. */
export interface HarnessProbe {
  /** A sample; event-loop p99 over the last 60 s, max since the previous call. */
  sample(): Promise<HarnessSample>;
  /** Figures over the probe's life so far (from its creation, or its lag from the last {@link restartRun}, to now or to its close). */
  run(): HarnessRunFigures;
  /**
   * Starts the run-wide lag afresh: churn loading and starting its runtime (a fork, an image
   * import) happen before any cycle, so they distort no latency and must not mark the run.
   */
  restartRun(): void;
  /**
   * Marks a call to the runtime in flight until the returned function is called: the probe
   * ticks fast while calls are in flight and for a second after (see the module comment).
   */
  track?(): () => void;
  /** Stops the event-loop timer. */
  close(): void;
}

/** churn's process over the probe's life. */
export interface HarnessRunFigures {
  /** p99 of the stall-corrected event-loop delay (loop-lag-tally.ts), ms. */
  readonly lagP99Ms: number;
  /** Longest event-loop delay, ms. */
  readonly lagMaxMs: number;
  /** Share of the time the event loop was busy, 0..1. */
  readonly utilization: number;
  /** churn's CPU time (user + system), s. */
  readonly cpuSeconds: number;
}

/** Period of the event-loop timer while the harness calls its runtime, ms. */
export const loopProbeTickMs = 20;
/** Period of the event-loop timer once the harness has been idle for {@link loopProbeIdleAfterMs}, ms. */
export const loopProbeIdleTickMs = 250;
/** How long after its last runtime call ended the harness counts as idle, ms. */
export const loopProbeIdleAfterMs = 1000;
const tickMs = loopProbeTickMs;

/**
 * How late the event loop runs its probe timer; statistics in {@link LoopLagWindow}. The timer
 * ticks every {@link loopProbeTickMs} while a runtime call is in flight or ended less than
 * {@link loopProbeIdleAfterMs} ago, and every {@link loopProbeIdleTickMs} otherwise (see the
 * module comment): an idle tick is recorded as its own delay plus the 20 ms ticks that were
 * due, on time, before it, so the figures stay shares of time.
 */
class LoopDelay {
  #lastMs = performance.now();
  /** Period of the timer now pending. */
  #periodMs = tickMs;
  readonly #window = new LoopLagWindow();
  readonly tally = new LoopLagTally(tickMs);
  #timer: NodeJS.Timeout;
  #callsInFlight = 0;
  #lastCallEndMs = performance.now();
  #closed = false;

  constructor() {
    this.#timer = this.#schedule(tickMs);
  }

  #schedule(periodMs: number): NodeJS.Timeout {
    this.#periodMs = periodMs;
    const timer = setTimeout(() => this.#tick(), periodMs);
    // Sampling must never keep the process alive.
    timer.unref();
    return timer;
  }

  #tick(): void {
    const now = performance.now();
    this.#record(now, Math.max(0, now - this.#lastMs - this.#periodMs), this.#periodMs);
    this.#lastMs = now;
    if (this.#closed) return;
    const idle = this.#callsInFlight === 0 && now - this.#lastCallEndMs >= loopProbeIdleAfterMs;
    this.#timer = this.#schedule(idle ? loopProbeIdleTickMs : tickMs);
  }

  /** A tick `delayMs` late after a period of `periodMs`, with the on-time 20 ms ticks it stands for. */
  #record(now: number, delayMs: number, periodMs: number): void {
    for (let onTime = Math.round(periodMs / tickMs) - 1; onTime > 0; onTime--) {
      this.#window.record(now, 0);
      this.tally.record(0);
    }
    this.#window.record(now, delayMs);
    this.tally.record(delayMs);
  }

  /** Marks a runtime call in flight until the returned function is called. */
  track(): () => void {
    this.#callsInFlight++;
    if (this.#periodMs !== tickMs && !this.#closed) {
      // Back to the fast tick at once: the idle tick's time so far counts as on-time ticks.
      const now = performance.now();
      const elapsedMs = now - this.#lastMs;
      if (elapsedMs > this.#periodMs + tickMs) {
        // Late already: a stall is going on (we are called from inside it); the tick records it.
      } else {
        clearTimeout(this.#timer);
        for (let onTime = Math.floor(elapsedMs / tickMs); onTime > 0; onTime--) {
          this.#window.record(now, 0);
          this.tally.record(0);
        }
        this.#lastMs = now;
        this.#timer = this.#schedule(tickMs);
      }
    }
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#callsInFlight--;
      this.#lastCallEndMs = performance.now();
    };
  }

  /** p99 over the last 60 s and max since the last call, ms; a stall still going counts too. */
  take(): LoopLag {
    const now = this.flushPending();
    return this.#window.take(now);
  }

  /** Records a stall still going (the timer is over a tick late); returns now. */
  flushPending(): number {
    const now = performance.now();
    const pending = now - this.#lastMs - this.#periodMs;
    if (pending > tickMs) {
      this.#record(now, pending, this.#periodMs);
      this.#lastMs = now;
    }
    return now;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}

/** A {@link HarnessProbe} of this process, reading descriptors through `proc`. */
export function harnessProbe(proc: ProcSource): HarnessProbe {
  const loop = new LoopDelay();
  const startElu = performance.eventLoopUtilization();
  const startCpu = process.cpuUsage();
  let lastElu: EventLoopUtilization = startElu;
  let closedFigures: HarnessRunFigures | undefined;
  return {
    async sample() {
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      const delay = loop.take();
      const span = loop.tally.takeSpan();
      const elu = performance.eventLoopUtilization();
      const utilization = performance.eventLoopUtilization(elu, lastElu).utilization;
      lastElu = elu;
      return {
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        openFds: await proc.openFds(process.pid),
        eventLoopLagP99Seconds: delay.p99Ms / 1000,
        eventLoopLagMaxSeconds: delay.maxMs / 1000,
        eventLoopLagSpanP99Seconds: span.p99Ms / 1000,
        eventLoopUtilization: Number.isFinite(utilization) ? utilization : undefined,
      };
    },
    run() {
      if (closedFigures !== undefined) return closedFigures;
      loop.flushPending();
      const lag = loop.tally.run();
      const cpu = process.cpuUsage(startCpu);
      const utilization = performance.eventLoopUtilization(startElu).utilization;
      return {
        lagP99Ms: lag.p99Ms,
        lagMaxMs: lag.maxMs,
        utilization: Number.isFinite(utilization) ? utilization : 0,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      };
    },
    track() {
      return loop.track();
    },
    restartRun() {
      if (closedFigures !== undefined) return;
      loop.flushPending();
      loop.tally.restartRun();
    },
    close() {
      // Figures end here: a stopped timer would read the time since as a stall.
      closedFigures ??= this.run();
      loop.close();
    },
  };
}
