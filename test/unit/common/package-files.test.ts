import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codePath, fromSources, packagePath } from '../../../src/common/package-files.js';

// From the sources (as vitest runs them); the built layout is exercised by the integration
// tests, which run dist/.
describe('package files', () => {
  it('finds the package root: its package.json is churn', () => {
    const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { name: string };
    expect(pkg.name).toBe('churn');
    expect(existsSync(packagePath('scenarios/smoke.yaml'))).toBe(true);
  });

  it('reads code and assets from src/ when run from the sources', () => {
    expect(fromSources).toBe(true);
    expect(codePath('cri/proto/api.proto')).toBe(packagePath('src/cri/proto/api.proto'));
    expect(existsSync(codePath('cri/proto/api.proto'))).toBe(true);
    expect(existsSync(codePath('cri/proto/streaming.proto'))).toBe(true);
    expect(existsSync(codePath('drivers/containerd/proto/api'))).toBe(true);
  });

  it('names an entry point by its .js name, the .ts from the sources', () => {
    expect(codePath('drivers/core-process-main.js')).toBe(
      packagePath('src/drivers/core-process-main.ts'),
    );
    expect(existsSync(codePath('drivers/core-process-main.js'))).toBe(true);
  });
});
