/** What the report says about the machine a run ran on. */
import { existsSync } from 'node:fs';
import { arch, cpus, platform, release } from 'node:os';

/** The machine and churn build; see the environment section of the report. */
export interface HostInfo {
  readonly churnVersion: string;
  readonly gitCommit: string | null;
  readonly node: string;
  readonly os: string;
  readonly kernel: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly cgroupVersion: 1 | 2 | null;
}

/** Reads the host's facts (node:os and /sys/fs/cgroup). */
export function collectHostInfo(churnVersion: string, gitCommit: string | null = null): HostInfo {
  const cpuList = cpus();
  return {
    churnVersion,
    gitCommit,
    node: process.version,
    os: platform(),
    kernel: release(),
    arch: arch(),
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpuCount: cpuList.length,
    cgroupVersion: cgroupVersion(),
  };
}

function cgroupVersion(): 1 | 2 | null {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return 2;
  if (existsSync('/sys/fs/cgroup')) return 1;
  return null;
}
