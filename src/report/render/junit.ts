/**
 * A report as JUnit XML for CI systems: one test suite per run, one test case per threshold
 * (failed when it did not hold, with the actual value), and a test case `run completed` that
 * fails when the run was interrupted, aborted or broke or left objects behind, or when the
 * report is a checkpoint of a run that had not finished.
 */
import { checkpointNotice, isCheckpoint } from '../checkpoint.js';
import type { Report } from '../schema.js';
import { formatThresholdActual } from './format.js';

/** Renders `report` as JUnit XML. */
export function renderJunit(report: Report): string {
  const { run } = report;
  const suite = `churn.${run.scenario}`;
  const cases: string[] = [];
  const left = report.cleanup.remainingPods + report.cleanup.remainingContainers;
  const runProblem = isCheckpoint(report)
    ? checkpointNotice(report)
    : run.exitReason !== 'completed'
      ? `the run ended ${run.exitReason}${run.error === null ? '' : `: ${run.error.code} ${run.error.message}`}${run.abortedBy === null ? '' : ` by threshold "${run.abortedBy}"`}`
      : left > 0
        ? `left behind ${report.cleanup.remainingPods} pods and ${report.cleanup.remainingContainers} containers`
        : undefined;
  cases.push(
    testCase(suite, 'run completed', run.durationMs / 1000, runProblem, 'run', {
      cycles: String(report.cycles.succeeded),
    }),
  );
  for (const t of report.thresholds) {
    const failure = t.ok
      ? undefined
      : `${t.source}: actual ${formatThresholdActual(t)}${t.abortOnFail ? ' (abortOnFail)' : ''}`;
    cases.push(testCase(`${suite}.thresholds`, t.source, 0, failure, 'threshold'));
  }
  const failures =
    (runProblem === undefined ? 0 : 1) + report.thresholds.filter((t) => !t.ok).length;
  const tests = 1 + report.thresholds.length;
  const properties = [
    ['run.id', run.id],
    ['run.start', run.start],
    ['run.exitReason', run.exitReason],
    [
      'runtime',
      [report.environment.runtime.name, report.environment.runtime.version]
        .filter(Boolean)
        .join(' '),
    ],
    ['driver', report.environment.driver],
    ...Object.entries(report.environment.labels).map(([k, v]) => [`label.${k}`, v] as const),
  ]
    .map(([name, value]) => `      <property name="${attr(name)}" value="${attr(value)}"/>`)
    .join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="churn" tests="${tests}" failures="${failures}" errors="0" time="${seconds(run.durationMs / 1000)}">`,
    `  <testsuite name="${attr(suite)}" tests="${tests}" failures="${failures}" errors="0" skipped="0" time="${seconds(run.durationMs / 1000)}" timestamp="${attr(run.start.replace(/\.\d+Z$/, ''))}">`,
    '    <properties>',
    properties,
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function testCase(
  classname: string,
  name: string,
  timeSec: number,
  failure: string | undefined,
  type: string,
  extra: Readonly<Record<string, string>> = {},
): string {
  const open = `    <testcase classname="${attr(classname)}" name="${attr(name)}" time="${seconds(timeSec)}"`;
  const props = Object.entries(extra);
  if (failure === undefined && props.length === 0) return `${open}/>`;
  const body: string[] = [];
  if (failure !== undefined) {
    body.push(
      `      <failure message="${attr(failure)}" type="${attr(type)}">${text(failure)}</failure>`,
    );
  }
  if (props.length > 0) {
    body.push(
      `      <system-out>${text(props.map(([k, v]) => `${k}=${v}`).join('\n'))}</system-out>`,
    );
  }
  return [`${open}>`, ...body, '    </testcase>'].join('\n');
}

function seconds(s: number): string {
  return s.toFixed(3);
}

/** Escapes for an XML attribute value. */
function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}

/** Escapes XML text, dropping characters XML 1.0 cannot hold. */
function text(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}
