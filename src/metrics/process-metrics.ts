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
 * every 250 ms instead of 20 ms, on the grid of the 1 s heartbeat the sampler and the status
 * loop share (common/heartbeat.ts): every fourth idle tick is their beat, in the same wakeup,
 * so an idle churn wakes 4 times a second in all. Each idle tick is recorded with the twelve
 * 20 ms ticks that were due on time before it (so the p99 stays a share of time). What it gives
 * up: a stall shorter than 250 ms while nothing is measured (no call in flight) may go unseen;
 * a longer one always delays an idle tick and is read to within 250 ms (a 500 ms stall reads
 * 250–500 ms idle, 480–500 ms otherwise). The first call after idle puts the fast tick back at
 * once (RunMetrics tells the probe of every call the driver makes).
 *
 * Why not slower, and why not the loop's busy time instead: a 1 s idle tick would leave a
 * 500 ms stall unseen; `eventLoopUtilization` (busy time since the last tick) cannot tell one
 * stall from many short callbacks, and read a busy stretch with no call in flight (start-up,
 * clean-up) as a stall of up to a second (tried: core-stall runs marked harness-bound).
 *
 * The same ticks feed a {@link LoopLagTally}: stall-corrected delays per sampling period and
 * over the probe's life (what a run is judged `harness-bound` by). Event-loop utilization
 * (`performance.eventLoopUtilization`, the share of time the loop was busy rather than idle)
 * is read as a delta at each sample: no timer of its own.
 *
 * A late tick has two causes the lag alone cannot tell apart: churn's own work holding the
 * loop, or the host's other work keeping churn's thread off the CPUs. The kernel counts the
 * second: the main thread's run-queue wait (schedstat), read at the start of the run's lag
 * and at its end, gives the share of that span the thread was ready but waiting for a CPU
 * (`cpuWaitShare`), which the report and the harness-bound verdict quote.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { systemClock } from '../common/clock.js';
import { heartbeatOf } from '../common/heartbeat.js';
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
  /**
   * Share of the lag's span (from the last {@link HarnessProbe.restartRun}) churn's main thread
   * was ready to run but waited for a CPU, 0..1; undefined when the kernel does not say.
   * High, it says the host's other work delayed the event loop, not churn's own.
   */
  readonly cpuWaitShare?: number | undefined;
}

/** Period of the event-loop timer while the harness calls its runtime, ms. */
export const loopProbeTickMs = 20;
/** Period of the event-loop timer once the harness has been idle for {@link loopProbeIdleAfterMs}, ms. */
export const loopProbeIdleTickMs = 250;
/** How long after its last runtime call ended the harness counts as idle, ms. */
export const loopProbeIdleAfterMs = 1000;
const tickMs = loopProbeTickMs;
/** Idle ticks per heartbeat (1 s). */
const idleTicksPerBeat = 1000 / loopProbeIdleTickMs;

/**
 * How late the event loop runs its probe timer; statistics in {@link LoopLagWindow}. The timer
 * ticks every {@link loopProbeTickMs} while a runtime call is in flight or ended less than
 * {@link loopProbeIdleAfterMs} ago, and every {@link loopProbeIdleTickMs} on the heartbeat's
 * grid otherwise (see the module comment): an idle tick is recorded as its own delay plus the
 * 20 ms ticks that were due, on time, before it, so the figures stay shares of time.
 */
class LoopDelay {
  #lastMs = performance.now();
  /** When the pending tick (a fast timer or an idle tick) is due. */
  #dueMs = this.#lastMs + tickMs;
  readonly #window = new LoopLagWindow();
  readonly tally = new LoopLagTally(tickMs);
  /** The fast timer, while not idle. */
  #timer: NodeJS.Timeout | undefined;
  /** Aborts the wait on the heartbeat, while idle. */
  #idleWait: AbortController | undefined;
  #callsInFlight = 0;
  #lastCallEndMs = performance.now();
  #closed = false;

  constructor() {
    this.#scheduleFast();
  }

  #scheduleFast(): void {
    this.#dueMs = this.#lastMs + tickMs;
    const timer = setTimeout(() => this.#tick(), tickMs);
    // Sampling must never keep the process alive.
    timer.unref();
    this.#timer = timer;
  }

  /** Waits for the heartbeat's next sub-beat (its timer never keeps the process alive either). */
  #scheduleIdle(): void {
    const heartbeat = heartbeatOf(systemClock);
    this.#dueMs = heartbeat.nextDueMs(idleTicksPerBeat);
    const wait = new AbortController();
    this.#idleWait = wait;
    heartbeat.next(wait.signal, idleTicksPerBeat).then(
      () => {
        if (this.#idleWait !== wait) return;
        this.#idleWait = undefined;
        this.#tick();
      },
      () => undefined,
    );
  }

  #tick(): void {
    this.#timer = undefined;
    const now = performance.now();
    this.#settle(now, Math.max(0, now - this.#dueMs));
    if (this.#closed) return;
    const idle = this.#callsInFlight === 0 && now - this.#lastCallEndMs >= loopProbeIdleAfterMs;
    if (idle) this.#scheduleIdle();
    else this.#scheduleFast();
  }

  /**
   * Records a tick `delayMs` late, with the on-time 20 ms ticks the time from the last tick to
   * its due time stands for; the next span starts at `now`.
   */
  #settle(now: number, delayMs: number): void {
    this.#recordOnTime(now, Math.round((this.#dueMs - this.#lastMs) / tickMs) - 1);
    this.#window.record(now, delayMs);
    this.tally.record(delayMs);
    this.#lastMs = now;
  }

  /** `count` ticks on time at `now`: one entry of the window and of the tally for them all. */
  #recordOnTime(now: number, count: number): void {
    if (count <= 0) return;
    this.#window.recordOnTime(now, count);
    this.tally.recordOnTime(count);
  }

  /** Marks a runtime call in flight until the returned function is called. */
  track(): () => void {
    this.#callsInFlight++;
    if (this.#idleWait !== undefined && !this.#closed) {
      const now = performance.now();
      if (now > this.#dueMs + tickMs) {
        // Late already: a stall is going on (we are called from inside it); the tick records it.
      } else {
        // Back to the fast tick at once: the idle tick's time so far counts as on-time ticks.
        this.#idleWait.abort();
        this.#idleWait = undefined;
        this.#recordOnTime(now, Math.floor((now - this.#lastMs) / tickMs));
        this.#lastMs = now;
        this.#scheduleFast();
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

  /** Records a stall still going (the pending tick is over a tick late); returns now. */
  flushPending(): number {
    const now = performance.now();
    const pendingMs = now - this.#dueMs;
    if (pendingMs > tickMs && !this.#closed) {
      const periodMs = this.#dueMs - this.#lastMs;
      this.#settle(now, pendingMs);
      // The pending tick, when it runs, reads only the rest of the stall.
      this.#dueMs = now + periodMs;
    }
    return now;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#idleWait?.abort();
    this.#idleWait = undefined;
  }
}

/** A {@link HarnessProbe} of this process, reading descriptors through `proc`. */
export function harnessProbe(proc: ProcSource): HarnessProbe {
  const loop = new LoopDelay();
  const startElu = performance.eventLoopUtilization();
  const startCpu = process.cpuUsage();
  const cpuWait = (): { readonly atMs: number; readonly seconds: number | undefined } => ({
    atMs: performance.now(),
    seconds: proc.mainThreadCpuWaitSeconds?.(process.pid),
  });
  let waitFrom = cpuWait();
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
      const waitTo = cpuWait();
      const spanSeconds = (waitTo.atMs - waitFrom.atMs) / 1000;
      return {
        lagP99Ms: lag.p99Ms,
        lagMaxMs: lag.maxMs,
        utilization: Number.isFinite(utilization) ? utilization : 0,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        cpuWaitShare:
          waitTo.seconds === undefined || waitFrom.seconds === undefined || spanSeconds <= 0
            ? undefined
            : Math.min(1, Math.max(0, (waitTo.seconds - waitFrom.seconds) / spanSeconds)),
      };
    },
    track() {
      return loop.track();
    },
    restartRun() {
      if (closedFigures !== undefined) return;
      loop.flushPending();
      loop.tally.restartRun();
      waitFrom = cpuWait();
    },
    close() {
      // Figures end here: a stopped timer would read the time since as a stall.
      closedFigures ??= this.run();
      loop.close();
    },
  };
}
