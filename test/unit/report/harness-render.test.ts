// The terminal summary and the HTML report say loudly when a run is marked or stalled.
import { describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../../src/report/render/html.js';
import { renderTerminalSummary } from '../../../src/report/render/terminal.js';
import type { Report } from '../../../src/report/schema.js';
import { syntheticReport } from '../../support/synthetic-report.js';

function marked(): Report {
  const base = syntheticReport({ seed: 1, durationMs: 3000, ops: { start: { medianMs: 10 } } });
  return {
    ...base,
    run: { ...base.run, marks: ['harness-bound', 'overloaded'] },
    cycles: { ...base.cycles, dropped: 19_595, arrivals: 20_000 },
    harness: {
      lagBoundMs: 100,
      lagP99Ms: 2020,
      lagMaxMs: 3800,
      utilization: 0.97,
      cpuSeconds: 3.7,
      cpuWaitPct: 1.5,
      contention: { load1Mean: 7.9, stealPct: 0, otherCpuPct: 66.5 },
      stalls: [{ atMs: 1000, spanMs: 1000, lagMaxMs: 3800 }],
    },
  };
}

describe('harness health in the renderers', () => {
  it('the terminal summary puts the marks under the title and the harness figures at the end', () => {
    const text = renderTerminalSummary(marked());
    const lines = text.split('\n');
    expect(lines[0]).toContain('completed, marked harness-bound, overloaded');
    expect(lines[2]).toBe(
      "⚠ harness-bound: churn's event loop lagged 2.02s at p99 over the run (bound 100ms) and stalled up to 3.80s; churn's loop was busy 97.0% of the time against 1.50% waiting for a CPU: churn's own work delayed it more than the host's; the latencies measured churn as much as the runtime",
    );
    expect(lines[3]).toMatch(
      /^⚠ overloaded: 19,595 of 20,000 arrivals \(98\.0%\) dropped \(bound 1\.00%\): this is not a run of its scenario$/,
    );
    expect(text).toContain(
      'harness: loop lag p99 2.02s max 3.80s (bound 100ms) · loop busy 97.0% · waited for a CPU 1.50% · CPU 3.7s · host: load 7.90, steal 0%, other processes 66.5%',
    );
  });

  it('the HTML report opens with the verdicts and has a harness section', () => {
    const html = renderReportHtml(marked());
    const verdicts = html.indexOf('<section id="verdicts">');
    expect(verdicts).toBeGreaterThan(-1);
    expect(verdicts).toBeLessThan(html.indexOf('<section id="summary"'));
    expect(html).toContain('⚠ overloaded: 19,595 of 20,000 arrivals');
    expect(html).toContain('<section id="harness">');
    expect(html).toContain('Intervals that stalled beyond the bound');
    expect(html).toMatch(/churn’s thread waiting for a CPU<\/(th|dt)>\s*<(td|dd)>1\.50%/);
  });

  it('a report without harness figures renders as before', () => {
    const base = syntheticReport({ seed: 1, durationMs: 3000, ops: { start: { medianMs: 10 } } });
    expect(renderTerminalSummary(base)).not.toContain('harness');
    const html = renderReportHtml(base);
    expect(html).not.toContain('id="verdicts"');
    expect(html).not.toContain('id="harness"');
  });
});
