// The one migrating reader: a report survives JSON, and every kind of bad file is refused with a
// REPORT_INVALID error that names the file (and the field, for a wrong shape).
import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { upgradeReportDocument, type ReportMigration } from '../../../src/report/migrate.js';
import { parseReport } from '../../../src/report/read.js';
import { reportSchemaVersion } from '../../../src/report/schema.js';
import { defaultOps, syntheticReport } from '../../support/synthetic-report.js';

const report = syntheticReport({ seed: 7, ops: defaultOps(), durationMs: 3000 });
const text = `${JSON.stringify(report, null, 2)}\n`;

function refusal(body: string): string {
  try {
    parseReport(body, 'runs/x.json');
  } catch (err) {
    expect(isChurnError(err, 'REPORT_INVALID')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

function withField(path: (string | number)[], value: unknown): string {
  const doc = JSON.parse(text) as Record<string, unknown>;
  let node: Record<string | number, unknown> = doc;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return JSON.stringify(doc);
}

describe('parseReport', () => {
  it('reads back what buildReport wrote, the resolved scenario included', () => {
    const back = parseReport(text, 'x.json');
    expect(back).toEqual(JSON.parse(text));
    expect(back.scenario.workloads[0]!.steps.length).toBe(7);
    expect(back.schemaVersion).toBe(reportSchemaVersion);
  });

  it('ignores keys it does not know (additive fields of a newer churn)', () => {
    const back = parseReport(withField(['run', 'futureField'], { x: 1 }), 'x.json');
    expect(back.run).toEqual(report.run);
  });

  it('reads a report written before mergedFrom existed as a single run', () => {
    const doc = JSON.parse(text) as Record<string, unknown>;
    delete doc['mergedFrom'];
    expect(parseReport(JSON.stringify(doc), 'x.json').mergedFrom).toBeNull();
  });

  it.each([
    ['an empty file', '', 'runs/x.json: empty file: not a churn report'],
    [
      'a truncated file',
      text.slice(0, 500),
      'runs/x.json: truncated: the JSON ends early after 500 bytes',
    ],
    [
      'text that is not JSON',
      'schemaVersion: 1\nrun: {}\n',
      "runs/x.json: not JSON at line 1, column 1: unexpected 's' (expected a value)",
    ],
    [
      'a JSON array',
      '[1, 2]',
      'runs/x.json: not a churn report: the JSON is an array, not an object',
    ],
    [
      'an object without schemaVersion',
      '{"run": {}}',
      'runs/x.json: not a churn report: it has no schemaVersion',
    ],
    [
      'a future version',
      withField(['schemaVersion'], 2),
      'runs/x.json: schemaVersion 2 is newer than this churn reads (up to 1): upgrade churn',
    ],
    [
      'a nonsense version',
      withField(['schemaVersion'], 'one'),
      'runs/x.json: schemaVersion: "one" is not a report schema version',
    ],
  ])('refuses %s, naming the file', (_what, body, message) => {
    expect(refusal(body)).toContain(message);
  });

  it('says where a file stops being JSON, in one line (not truncated)', () => {
    expect(refusal('{\n  "schemaVersion": 1,\n  "run": x\n}')).toBe(
      "runs/x.json: not JSON at line 3, column 10: unexpected 'x' (expected a value)",
    );
    expect(refusal('hello\n')).toBe(
      "runs/x.json: not JSON at line 1, column 1: unexpected 'h' (expected a value)",
    );
    expect(refusal('{"schemaVersion": 1} {}')).toBe(
      "runs/x.json: not JSON at line 1, column 22: unexpected '{' after the JSON value",
    );
    expect(refusal('{"schemaVersion": 1, "a": "unterminated')).toMatch(/truncated/);
    expect(refusal('{"schemaVersion": 1, "a": [1, 2.')).toMatch(/truncated/);
  });

  it('refuses a histogram that is base64 but does not decode, naming the file and field', () => {
    const cut = (report.operations.start!.histogram as string).slice(0, 40);
    expect(refusal(withField(['operations', 'start', 'histogram'], cut))).toMatch(
      /^runs\/x\.json: operations\.start\.histogram: not an encoded HDR histogram \(truncated\)$/,
    );
    const interval = report.timeline.intervals[1]!.ops.create!.histogram as string;
    expect(
      refusal(
        withField(
          ['timeline', 'intervals', 1, 'ops', 'create', 'histogram'],
          `${interval.slice(0, 16)}AAAA${interval.slice(20)}`,
        ),
      ),
    ).toMatch(
      /^runs\/x\.json: timeline\.intervals\[1\]\.ops\.create\.histogram: not an encoded HDR histogram/,
    );
  });

  it('names the field of a wrong shape, with what it found', () => {
    expect(refusal(withField(['operations', 'start', 'count'], '12'))).toMatch(
      /^runs\/x\.json: not a valid churn report \(schema version 1\): operations\.start\.count: .*expected number.*\(got "12"\)/,
    );
    expect(
      refusal(withField(['timeline', 'intervals', 2, 'ops', 'start', 'histogram'], 'not base64!')),
    ).toMatch(/timeline\.intervals\[2\]\.ops\.start\.histogram: must be a base64 HdrHistogram/);
    expect(refusal(withField(['operations', 'checkpoint'], report.operations.start))).toMatch(
      /operations\.checkpoint/,
    );
    const doc = JSON.parse(text) as Record<string, unknown>;
    delete doc['environment'];
    expect(refusal(JSON.stringify(doc))).toMatch(/environment: .* \(missing\)/);
  });
});

describe('upgradeReportDocument', () => {
  const chain: ReportMigration[] = [
    { from: 1, migrate: (d) => ({ ...d, renamed: d['old'], old: undefined }) },
    { from: 2, migrate: (d) => ({ ...d, added: 'default' }) },
  ];

  it('applies the chain from the document version up to the current one', () => {
    expect(upgradeReportDocument({ schemaVersion: 1, old: 5 }, 'x.json', chain, 3)).toEqual({
      schemaVersion: 3,
      renamed: 5,
      old: undefined,
      added: 'default',
    });
    expect(upgradeReportDocument({ schemaVersion: 2, renamed: 5 }, 'x.json', chain, 3)).toEqual({
      schemaVersion: 3,
      renamed: 5,
      added: 'default',
    });
  });

  it('leaves a current document alone and refuses a gap in the chain', () => {
    const doc = { schemaVersion: 3, a: 1 };
    expect(upgradeReportDocument(doc, 'x.json', chain, 3)).toBe(doc);
    expect(() => upgradeReportDocument({ schemaVersion: 1 }, 'x.json', [chain[1]!], 3)).toThrow(
      'x.json: schemaVersion 1: no migration to version 2',
    );
  });
});
