/**
 * Connections into a pod's network for CRI PortForward: to 127.0.0.1:port of the namespace the
 * pod's tasks use. In the core's own namespace that is a plain connect. In another one, a
 * short-lived helper (this Node binary under `nsenter --net`) connects there and relays the
 * bytes over its stdin and stdout: Node cannot enter a namespace itself (setns), and a socket
 * made inside one keeps working from outside, but only a process inside can make it.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';
import { ChurnError } from '../../common/errors.js';

/** A TCP connection to 127.0.0.1:`port` in this process's network namespace. */
export function dialLoopback(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const onError = (err: Error): void =>
      reject(
        new ChurnError('UNAVAILABLE', `cannot connect to 127.0.0.1:${port}: ${err.message}`, {
          cause: err,
        }),
      );
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Whether `netnsPath` (e.g. /proc/PID/ns/net) is this process's own network namespace. */
export async function isOwnNetworkNamespace(netnsPath: string): Promise<boolean> {
  const [theirs, ours] = await Promise.all([stat(netnsPath), stat('/proc/self/ns/net')]);
  return theirs.ino === ours.ino && theirs.dev === ours.dev;
}

/**
 * The relay run inside the namespace: it connects, writes one byte 0x01 once connected, then
 * copies both ways; a failure to connect is its stderr and exit code 1.
 */
const relayScript = [
  "const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1');",
  "s.once('connect', () => { process.stdout.write(Buffer.from([1])); process.stdin.pipe(s); s.pipe(process.stdout); });",
  "s.on('error', (e) => { process.stderr.write(e.message); process.exit(1); });",
].join('\n');

/**
 * A connection to 127.0.0.1:`port` in the network namespace `netnsPath` (needs root, for
 * nsenter). Rejects with UNAVAILABLE when nothing listens there.
 */
export async function dialInNamespace(netnsPath: string, port: number): Promise<Duplex> {
  if (await isOwnNetworkNamespace(netnsPath)) return dialLoopback(port);
  const child = spawn(
    'nsenter',
    [`--net=${netnsPath}`, '--', process.execPath, '-e', relayScript, String(port)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const stderr: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  const stdout = child.stdout;
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string): void => {
      child.kill('SIGKILL');
      reject(
        new ChurnError(
          'UNAVAILABLE',
          `cannot connect to 127.0.0.1:${port} in ${netnsPath}: ${why}`,
        ),
      );
    };
    const onReadable = (): void => {
      const first = stdout.read(1) as Buffer | null;
      if (first === null) return;
      stdout.off('readable', onReadable);
      child.off('exit', onExit);
      if (first[0] === 1) resolve();
      else fail('unexpected answer from the relay');
    };
    const onExit = (): void => {
      stdout.off('readable', onReadable);
      fail(Buffer.concat(stderr).toString().trim() || 'the relay exited');
    };
    child.once('error', (err) => fail(err.message));
    child.once('exit', onExit);
    stdout.on('readable', onReadable);
  });
  const duplex = Duplex.from({ readable: stdout, writable: child.stdin });
  duplex.once('close', () => child.kill('SIGKILL'));
  return duplex;
}
