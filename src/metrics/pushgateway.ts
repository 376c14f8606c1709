/**
 * Pushing to a Prometheus Pushgateway, for runs Prometheus cannot scrape (short CI jobs,
 * machines behind a NAT): the whole registry every interval while the run goes on, once more
 * at the end with the final values, and, when asked, a delete of the group after that.
 *
 * Grouping key `job=churn`, `instance`, `scenario`: stable across runs (no run id), so each run
 * replaces the previous one's group instead of piling up groups at the gateway. Every push is
 * a PUT (the group is replaced as a whole). Push failures never stop a run: they are counted
 * and the last one is reported; only the final push's outcome is returned.
 */
import { Pushgateway, type Registry } from 'prom-client';
import { ChurnError } from '../common/errors.js';
import { checkPushgatewayUrl } from './pushgateway-url.js';

/** The `job` of churn's pushes. */
export const pushJobName = 'churn';

/** Options of a {@link MetricsPusher}. */
export interface MetricsPusherOptions {
  /** `http(s)://host:port[/path]` of the gateway. */
  readonly url: string;
  readonly registry: Registry;
  /** Grouping labels besides `job`: `instance` and `scenario`. */
  readonly instance: string;
  readonly scenario: string;
  /** Period of pushes during the run, ms; default 10 000. */
  readonly intervalMs?: number;
  /** Deadline of one push, ms; default 5000. */
  readonly timeoutMs?: number;
}

/** What a {@link MetricsPusher} did. */
export interface PushReport {
  /** Pushes that succeeded, the final one included. */
  readonly pushed: number;
  readonly failed: number;
  /** Why the final push (or delete) failed; undefined when it succeeded. */
  readonly finalError: string | undefined;
  /** Whether the group was deleted after the final push. */
  readonly deleted: boolean;
}

/** Pushes a registry periodically and at the end; see the module comment. */
export class MetricsPusher {
  readonly #gateway: Pushgateway<'text/plain; version=0.0.4; charset=utf-8'>;
  readonly #params: Pushgateway.Parameters;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #pushed = 0;
  #failed = 0;
  #lastError: string | undefined;
  #finished = false;

  constructor(options: MetricsPusherOptions) {
    const url = checkPushgatewayUrl(options.url);
    this.#gateway = new Pushgateway(url, { timeout: options.timeoutMs ?? 5000 }, options.registry);
    this.#params = {
      jobName: pushJobName,
      groupings: { instance: options.instance, scenario: options.scenario },
    };
    this.#intervalMs = options.intervalMs ?? 10_000;
    if (!(this.#intervalMs >= 100)) {
      throw new ChurnError(
        'USAGE',
        `--push-interval must be at least 100ms, got ${this.#intervalMs}ms`,
      );
    }
  }

  /** Pushes failed so far and the last failure's message. */
  get failures(): { readonly count: number; readonly last: string | undefined } {
    return { count: this.#failed, last: this.#lastError };
  }

  /** Starts the periodic pushes (the first one after one interval). */
  start(): void {
    if (this.#timer !== undefined || this.#finished) return;
    this.#timer = setInterval(() => {
      // A push still going when the next is due: skip this one rather than pile up.
      if (this.#inFlight === undefined) void this.#push();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops the periodic pushes without a final one (a run that never started). */
  stop(): void {
    this.#finished = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Stops the periodic pushes, pushes the final values and, with `deleteAfter`, deletes the
   * group. Never rejects: the outcome is in the returned report.
   */
  async finish(options: { readonly deleteAfter: boolean }): Promise<PushReport> {
    this.stop();
    await this.#inFlight;
    const finalError = await this.#push();
    let deleted = false;
    let deleteError: string | undefined;
    if (options.deleteAfter) {
      try {
        await this.#gateway.delete(this.#params);
        deleted = true;
      } catch (err) {
        deleteError = `cannot delete the group: ${messageOf(err)}`;
      }
    }
    return {
      pushed: this.#pushed,
      failed: this.#failed,
      finalError: finalError ?? deleteError,
      deleted,
    };
  }

  /** One push; resolves with the failure's message, if any. */
  #push(): Promise<string | undefined> {
    const push = this.#gateway.push(this.#params).then(
      () => {
        this.#pushed++;
        return undefined;
      },
      (err: unknown) => {
        this.#failed++;
        this.#lastError = messageOf(err);
        return this.#lastError;
      },
    );
    this.#inFlight = push.then(() => {
      this.#inFlight = undefined;
    });
    return push;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
