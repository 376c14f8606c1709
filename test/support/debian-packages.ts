// globalSetup of the integration and e2e suites: installs the Debian packages they drive
// (runc for the core's runc executor; containerd, conmon, skopeo, busybox-static, Prometheus,
// Chromium, etcd-server for e2e)
// when they are missing and this is root on a machine with apt-get, so on a fresh Debian
// machine `npm test` needs nothing else. Elsewhere it does nothing: the tests that need a
// missing component skip, except in CI (CI=true), where they fail.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian package → a file it installs, to tell whether it is there. */
const packages: Readonly<Record<string, string>> = {
  containerd: '/usr/bin/containerd',
  runc: '/usr/sbin/runc',
  conmon: '/usr/bin/conmon',
  skopeo: '/usr/bin/skopeo',
  'busybox-static': '/bin/busybox',
  'etcd-server': '/usr/bin/etcd',
  prometheus: '/usr/bin/prometheus',
  'prometheus-pushgateway': '/usr/bin/prometheus-pushgateway',
  chromium: '/usr/bin/chromium',
};

export default function setup(): void {
  const missing = Object.entries(packages)
    .filter(([, file]) => !existsSync(file))
    .map(([name]) => name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return;
  console.log(`tests: installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { env, stdio: 'inherit' });
}
