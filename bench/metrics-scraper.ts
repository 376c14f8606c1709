/**
 * A scraper for benchmarks: GETs a /metrics URL every `everyMs`, at a fixed rate whether or not
 * earlier scrapes have answered (so a stalled server is sampled at every moment, not once per
 * stall), and records how long each took, from the request to the last byte of the answer. A
 * scrape that fails or takes longer than `timeoutMs` is recorded as failed, with the time it
 * took (for a timeout, a lower bound of what it would have taken).
 */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** One scrape. */
export interface Scrape {
  /** When it started, wall-clock ms since the epoch (to match a report's run start and end). */
  readonly startedAtMs: number;
  /** From the request to the end of the answer (or to the failure), ms. */
  readonly tookMs: number;
  /** Answered 200 in time. */
  readonly ok: boolean;
  /** Why it failed: an HTTP status, a socket error code, or 'timeout'. */
  readonly failure?: string;
}

/** A running scraper. */
export interface Scraper {
  /** Starts no more scrapes; resolves with every scrape, oldest first, once all have ended. */
  stop(): Promise<Scrape[]>;
}

/** Options of {@link startScraper}. */
export interface ScraperOptions {
  readonly url: string;
  /** Period between scrape starts, ms. */
  readonly everyMs: number;
  /** A scrape taking longer fails as 'timeout', ms. */
  readonly timeoutMs: number;
}

/** Starts scraping `options.url` at once. */
export function startScraper(options: ScraperOptions): Scraper {
  const pending: Promise<Scrape>[] = [];
  const stop = new AbortController();
  const loop = (async () => {
    let due = performance.now();
    while (!stop.signal.aborted) {
      pending.push(scrapeOnce(options.url, options.timeoutMs));
      due += options.everyMs;
      const now = performance.now();
      // Late (this process was busy): the next starts at once; missed periods are not made up.
      if (due < now) due = now;
      await sleep(due - now, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      stop.abort();
      await loop;
      return Promise.all(pending);
    },
  };
}

function scrapeOnce(url: string, timeoutMs: number): Promise<Scrape> {
  const startedAtMs = Date.now();
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean, failure?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const tookMs = performance.now() - started;
      resolve(
        failure === undefined ? { startedAtMs, tookMs, ok } : { startedAtMs, tookMs, ok, failure },
      );
    };
    const req = request(url, { agent: false }, (res) => {
      res.on('data', () => undefined);
      res.once('end', () =>
        res.statusCode === 200 ? finish(true) : finish(false, `HTTP ${String(res.statusCode)}`),
      );
      res.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
    });
    const timer = setTimeout(() => {
      finish(false, 'timeout');
      req.destroy();
    }, timeoutMs);
    req.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
    req.end();
  });
}

/** The nearest-rank percentile `p` (0–100) of `values`; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
