// The HTML report in a real browser (Debian's headless Chromium): it loads with no console
// errors and no request beyond the file itself, and every chart is drawn with data. The
// reports come from real `churn run`s against the built-in core. Screenshots are written to
// $CHURN_SCREENSHOT_DIR (default: the temp dir) for a person to look at.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChurn } from '../support/churn-process.js';

const chromiumPath = '/usr/bin/chromium';
// Installed by the e2e globalSetup as root; elsewhere the test skips, except in CI.
const skip = existsSync(chromiumPath)
  ? undefined
  : `${chromiumPath} is not installed (apt-get install chromium)`;
if (skip !== undefined && process.env['CI'] === 'true') {
  throw new Error(`Chromium is required in CI but ${skip}`);
}
const screenshotDir = process.env['CHURN_SCREENSHOT_DIR'] ?? tmpdir();

let dir: string;
let profile: string;
let browser: BrowserContext;

beforeAll(async () => {
  if (skip !== undefined) return;
  dir = await mkdtemp(join(tmpdir(), 'churn-html-'));
  profile = await mkdtemp(join(tmpdir(), 'churn-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  if (skip !== undefined) return;
  await browser.close();
  await rm(profile, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

/** A short open-loop run with a little of everything: errors, drops, lag, resources. */
function scenario(startMs: number): string {
  return [
    'name: html-report',
    'workload:',
    "  command: [sleep, '3600']",
    'load:',
    '  maxInflight: 6',
    '  phases:',
    '    - { duration: 2s, concurrency: 2 }',
    '    - { duration: 2s, arrivalRate: 40, rampTo: 80 }',
    'faults:',
    `  start: { latency: { mean: ${startMs}ms, stddev: 5ms }, errorRate: 0.05 }`,
    '  stop: { latency: 10ms }',
    'thresholds: ["p99(start) < 1s", "error_rate < 0.1%"]',
    'report:',
    '  dir: reports',
    '  interval: 250ms',
    '',
  ].join('\n');
}

async function churnOk(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await runChurn(args, dir);
  expect(stderr.replace(/^wrote .*\n/m, '')).not.toMatch(/internal error/);
  expect([0, 1]).toContain(code);
  return stdout.trim();
}

interface PageCheck {
  errors: string[];
  requests: string[];
  charts: { id: string; series: number; points: number[]; drawn: boolean }[];
}

async function open(file: string, screenshot: string): Promise<PageCheck> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  // Runs in the page; typed by hand since this project has no DOM types.
  interface El {
    getAttribute(name: string): string | null;
    querySelectorAll(selector: string): ArrayLike<El>;
    getBBox(): { width: number; height: number };
  }
  const charts = await page.$$eval('svg.chart', (found) =>
    (found as unknown as El[]).map((svg) => {
      const paths = Array.from(svg.querySelectorAll('path.series'));
      return {
        id: svg.getAttribute('data-chart') ?? '',
        series: paths.length,
        points: paths.map((p) => Number(p.getAttribute('data-points'))),
        drawn: paths.some((p) => {
          const box = p.getBBox();
          return box.width > 0 || box.height > 0;
        }),
      };
    }),
  );
  await page.screenshot({ path: join(screenshotDir, screenshot), fullPage: true });
  await page.close();
  return { errors, requests, charts };
}

describe.skipIf(skip !== undefined)('HTML reports in Chromium', () => {
  it(
    'opens the report of a real run with no console error, every chart drawn',
    { timeout: 120_000 },
    async () => {
      await writeFile(join(dir, 'a.yaml'), scenario(20));
      const report = await churnOk(['run', 'a.yaml', '--quiet']);
      await churnOk(['report', report, '--format', 'html', '-o', 'report.html']);
      const check = await open(join(dir, 'report.html'), 'churn-report.png');
      expect(check.errors).toEqual([]);
      expect(check.requests).toEqual([pathToFileURL(join(dir, 'report.html')).href]);
      const ids = check.charts.map((c) => c.id);
      expect(ids).toEqual(
        expect.arrayContaining([
          'percentiles',
          'latency-start',
          'latency-cycle',
          'throughput',
          'errors',
          'lag',
          'resources-cpu',
          'resources-memory',
        ]),
      );
      for (const chart of check.charts) {
        expect(chart.series, chart.id).toBeGreaterThan(0);
        expect(Math.max(...chart.points), chart.id).toBeGreaterThanOrEqual(2);
        expect(chart.drawn, chart.id).toBe(true);
      }

      // The JUnit rendering of the same report is well-formed XML.
      await churnOk(['report', report, '--format', 'junit', '-o', 'junit.xml']);
      const xml = await readFile(join(dir, 'junit.xml'), 'utf8');
      const page = await browser.newPage();
      const parsed = await page.evaluate((text) => {
        const Parser = (
          globalThis as unknown as {
            DOMParser: new () => {
              parseFromString(
                t: string,
                type: string,
              ): { getElementsByTagName(name: string): { length: number } };
            };
          }
        ).DOMParser;
        const doc = new Parser().parseFromString(text, 'application/xml');
        return {
          error: doc.getElementsByTagName('parsererror').length,
          cases: doc.getElementsByTagName('testcase').length,
        };
      }, xml);
      await page.close();
      expect(parsed).toEqual({ error: 0, cases: 3 });
    },
  );

  it('overlays the two distributions of a comparison', { timeout: 120_000 }, async () => {
    await writeFile(join(dir, 'b.yaml'), scenario(40));
    const base = await churnOk(['run', 'a.yaml', '--quiet']);
    const candidate = await churnOk(['run', 'b.yaml', '--quiet']);
    // The runs drop arrivals on purpose (maxInflight 6: the HTML shows drops), so both are
    // marked overloaded, which compare refuses unless asked.
    await churnOk([
      'compare',
      base,
      candidate,
      '--allow-marked',
      '--format',
      'html',
      '-o',
      'compare.html',
    ]);
    const check = await open(join(dir, 'compare.html'), 'churn-compare.png');
    expect(check.errors).toEqual([]);
    expect(check.requests).toHaveLength(1);
    expect(check.charts.map((c) => c.id)).toEqual(
      expect.arrayContaining(['compare-start', 'compare-cycle']),
    );
    for (const chart of check.charts) {
      expect(chart.series, chart.id).toBe(2);
      expect(chart.drawn, chart.id).toBe(true);
    }
  });
});
