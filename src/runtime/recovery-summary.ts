/** What `churn serve` says about the state it opened (see RuntimeService.recovery). */
import type { CoreRecovery } from './service.js';

/** Lines describing a recovery: `info` always, `warnings` for every loss and where files went. */
export function describeRecovery(r: CoreRecovery): { info: string[]; warnings: string[] } {
  const s = r.state;
  const info: string[] = [];
  if (s.from.startsWith('nothing') && r.killed === 0) {
    info.push('state: new, nothing to recover');
  } else {
    const pods = `${plural(r.pods, 'pod')}${r.podsNotReady > 0 ? ` (${r.podsNotReady} not ready: sandbox gone)` : ''}`;
    const details = [
      r.running > 0 ? `${r.running} still running` : '',
      r.exited > 0 ? `${r.exited} marked exited: task gone` : '',
    ].filter((d) => d !== '');
    const containers = `${plural(r.containers, 'container')}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
    info.push(
      `state: recovered ${pods} and ${containers} from ${s.from}` +
        `${s.migrated ? ' (format 1, migrated)' : ''}; ` +
        `killed ${plural(r.killed, 'leftover process', 'leftover processes')}; ` +
        `removed ${plural(r.removed, 'container')} of missing pods`,
    );
  }
  const warnings = s.problems.map((p) => `state: LOST: ${p}`);
  if (s.lost > 0) warnings.push(`state: ${plural(s.lost, 'record')} lost in all`);
  if (s.keptAside !== undefined)
    warnings.push(`state: the files read are kept, unchanged, in ${s.keptAside}`);
  return { info, warnings };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
