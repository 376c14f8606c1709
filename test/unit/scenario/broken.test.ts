// The broken-scenario suite: every file in test/fixtures/scenarios/broken/ says in its header
// (`# expect: LINE:COLUMN key.path: message`) every problem it must be refused with, in order.
// Each is checked through parseScenario (exact problems) and through `churn validate` (exit 2).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import { parseScenario, ScenarioError } from '../../../src/scenario/load.js';
import { bufferIo } from '../../support/cli-io.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dir = 'test/fixtures/scenarios/broken';
const files = readdirSync(join(root, dir))
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function expectations(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('# expect: '))
    .map((line) => line.slice('# expect: '.length));
}

function problemsOf(text: string, source: string): ScenarioError {
  try {
    parseScenario(text, source);
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error(`${source} was accepted`);
}

describe('broken scenarios', () => {
  it('has at least 20 of them, each with its expectations', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const file of files) {
      expect(expectations(readFileSync(join(root, dir, file), 'utf8')), file).not.toEqual([]);
    }
  });

  describe.each(files)('%s', (file) => {
    const path = `${dir}/${file}`;
    const text = readFileSync(join(root, path), 'utf8');

    it('is refused with exactly the expected problems at the expected positions', () => {
      const error = problemsOf(text, path);
      expect(error.code).toBe('SCENARIO_INVALID');
      const actual = error.problems.map(
        (p) =>
          `${String(p.line)}:${String(p.column)} ${p.path === '' ? '' : `${p.path}: `}${p.message}`,
      );
      expect(actual).toEqual(expectations(text));
      for (const problem of error.problems) expect(problem.source).toBe(path);
    });

    it('makes churn validate exit 2 and print each problem with the file name', async () => {
      const io = bufferIo({ cwd: root });
      const code = await runCli(['validate', path], io.io);
      expect(code).toBe(2);
      expect(io.stdout()).toBe('');
      for (const expected of expectations(text)) {
        expect(io.stderr()).toContain(`  ${path}:${expected}\n`);
      }
    });
  });
});
