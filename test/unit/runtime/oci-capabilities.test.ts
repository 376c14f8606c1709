import { describe, expect, it } from 'vitest';
import {
  capabilitiesOfStatus,
  containerCapabilities,
  defaultCapabilities,
  type CapabilityRequest,
} from '../../../src/runtime/executors/oci-capabilities.js';

const all = capabilitiesOfStatus('Name:\tnode\nCapEff:\t000001ffffffffff\n');

describe('containerCapabilities, as containerd 1.6 computes them', () => {
  it('reads the effective set of /proc/<pid>/status by bit', () => {
    expect(all).toHaveLength(41);
    expect(all[0]).toBe('CAP_CHOWN');
    expect(all[40]).toBe('CAP_CHECKPOINT_RESTORE');
    expect(capabilitiesOfStatus('CapEff:\t0000000000003001\n')).toEqual([
      'CAP_CHOWN',
      'CAP_NET_ADMIN',
      'CAP_NET_RAW',
    ]);
    expect(capabilitiesOfStatus('Name:\tx\n')).toEqual([]);
  });

  it.each<[string, CapabilityRequest, (caps: string[]) => void]>([
    ['the default set when nothing is asked', {}, (c) => expect(c).toEqual(defaultCapabilities)],
    [
      'adds a CRI name with the CAP_ prefix, any case',
      { addCapabilities: ['net_admin', 'CHOWN'] },
      (c) => expect(c).toEqual([...defaultCapabilities, 'CAP_NET_ADMIN']),
    ],
    [
      'drops a name',
      { dropCapabilities: ['NET_RAW'] },
      (c) => expect(c).toEqual(defaultCapabilities.filter((x) => x !== 'CAP_NET_RAW')),
    ],
    [
      'ALL in add: every capability the runtime has',
      { addCapabilities: ['ALL'] },
      (c) => expect(c).toEqual(all),
    ],
    ['ALL in drop: none', { dropCapabilities: ['ALL'] }, (c) => expect(c).toEqual([])],
    [
      'ALL in drop, then the named adds',
      { addCapabilities: ['SYS_ADMIN'], dropCapabilities: ['ALL'] },
      (c) => expect(c).toEqual(['CAP_SYS_ADMIN']),
    ],
    [
      'ALL in add, then the named drops',
      { addCapabilities: ['ALL'], dropCapabilities: ['CHOWN'] },
      (c) => expect(c).toEqual(all.filter((x) => x !== 'CAP_CHOWN')),
    ],
    [
      'privileged: every capability, whatever is dropped',
      { privileged: true, dropCapabilities: ['ALL'] },
      (c) => expect(c).toEqual(all),
    ],
  ])('%s', (_name, request, check) => {
    check(containerCapabilities(request, all));
  });
});
