/**
 * churn serve under hostile input: over 10,000 random, malformed and oversized requests to
 * every unary RPC of both services, over real gRPC. Every call is answered with a status (no
 * hang, no dropped connection), the core reports no internal error, what is over a size limit
 * is INVALID_ARGUMENT, and afterwards the server still lists and runs full cycles.
 */
import {
  Client,
  credentials,
  Metadata,
  status as GrpcStatus,
  type MethodDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { criPackage } from '../../src/cri/proto-package.js';
import { requestLimits } from '../../src/cri/request-limits.js';
import { CriServer } from '../../src/cri/server.js';
import { CriDriver } from '../../src/drivers/cri.js';
import { RuntimeService } from '../../src/runtime/service.js';
import { containerSpec, podSpec } from '../support/driver-specs.js';

type Method = MethodDefinition<unknown, unknown> & { readonly name: string };

const pkg = criPackage();
const methods: readonly Method[] = [
  ...Object.entries(pkg.RuntimeService.service),
  ...Object.entries(pkg.ImageService.service),
]
  .map(([name, m]) => ({ ...(m as MethodDefinition<unknown, unknown>), name }))
  .filter((m) => !m.requestStream && !m.responseStream);

/** One call's outcome: its gRPC code and details. */
interface Outcome {
  readonly method: string;
  readonly code: GrpcStatus;
  readonly details: string;
  /** The request was built over a size limit on purpose. */
  readonly oversized: boolean;
}

function call(client: Client, method: Method, body: Buffer, oversized: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      method.path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      new Metadata(),
      { deadline: Date.now() + 30_000 },
      (err: ServiceError | null) => {
        resolve({
          method: method.name,
          code: err?.code ?? GrpcStatus.OK,
          details: err?.details ?? '',
          oversized,
        });
      },
    );
  });
}

/** Strings a hostile client sends: empty, unicode, NULs, path tricks, just over a limit. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.string({ unit: 'grapheme', maxLength: 16 }),
  fc.constantFrom('', '..', '../../etc', '/', '\0', 'a\0b', '%s%n', '${PATH}', 'é'.repeat(200)),
  fc.nat({ max: 3 }).map((k) => 'x'.repeat(requestLimits.nameBytes + k)),
);
const hostileMap = fc.dictionary(hostileString, hostileString, { maxKeys: 5 });

/** Well-typed requests with hostile values, built from the request message's own fields. */
const structured = fc.record({
  config: fc.record({
    metadata: fc.record({ name: hostileString, namespace: hostileString, uid: hostileString }),
    hostname: hostileString,
    labels: hostileMap,
    annotations: hostileMap,
    command: fc.array(hostileString, { maxLength: 4 }),
    args: fc.array(hostileString, { maxLength: 4 }),
    envs: fc.array(fc.record({ key: hostileString, value: hostileString }), { maxLength: 3 }),
    image: fc.record({ image: hostileString }),
    workingDir: hostileString,
  }),
  podSandboxId: hostileString,
  containerId: hostileString,
  image: fc.record({ image: hostileString }),
  cmd: fc.array(hostileString, { maxLength: 3 }),
  filter: fc.record({ id: hostileString, labelSelector: hostileMap }),
});

/** Requests each far over one limit, with the RPC whose message holds that field. */
const name9MiB = 'n'.repeat(9 * 1024 * 1024);
const longPodId = 'p'.repeat(requestLimits.idBytes + 1);
const longContainerId = 'c'.repeat(requestLimits.idBytes + 1);
const oversize = fc.constantFrom<readonly [string, unknown]>(
  ['RunPodSandbox', { config: { metadata: { name: name9MiB } } }],
  ['RunPodSandbox', { config: { metadata: { name: 'n' }, labels: { ['k'.repeat(1000)]: 'v' } } }],
  [
    'RunPodSandbox',
    {
      config: {
        metadata: { name: 'n' },
        annotations: { a: 'v'.repeat(requestLimits.annotationsTotalBytes + 1) },
      },
    },
  ],
  ['CreateContainer', { podSandboxId: longPodId, config: { metadata: { name: 'c' } } }],
  ['CreateContainer', { podSandboxId: 'p', config: { metadata: { name: name9MiB } } }],
  [
    'CreateContainer',
    {
      podSandboxId: 'p',
      config: { metadata: { name: 'c' }, args: ['a'.repeat(requestLimits.argBytes + 1)] },
    },
  ],
  ['StopPodSandbox', { podSandboxId: longPodId }],
  ['RemovePodSandbox', { podSandboxId: longPodId }],
  ['PodSandboxStatus', { podSandboxId: longPodId }],
  ['StartContainer', { containerId: longContainerId }],
  ['StopContainer', { containerId: longContainerId }],
  ['RemoveContainer', { containerId: longContainerId }],
  ['ContainerStatus', { containerId: longContainerId }],
  ['ExecSync', { containerId: longContainerId, cmd: ['true'] }],
  ['PullImage', { image: { image: 'i'.repeat(requestLimits.imageBytes + 1) } }],
  ['ImageStatus', { image: { image: 'i'.repeat(requestLimits.imageBytes + 1) } }],
  ['RemoveImage', { image: { image: 'i'.repeat(requestLimits.imageBytes + 1) } }],
);

/** Encodes `request` as `method`'s request message (protobufjs drops unknown fields). */
function encode(method: Method, request: unknown): Buffer | undefined {
  try {
    return method.requestSerialize(request);
  } catch {
    return undefined;
  }
}

/** Byte-level damage to a valid encoding: truncation, flipped bytes, garbage appended. */
function damage(bytes: Buffer, seed: readonly number[]): Buffer {
  const out = Buffer.from(bytes);
  const [kind = 0, at = 0, value = 0] = seed;
  if (out.length === 0) return Buffer.from(seed.slice(0, 8));
  const i = at % out.length;
  switch (kind % 3) {
    case 0:
      return out.subarray(0, i);
    case 1:
      out[i] = value & 0xff;
      return out;
    default:
      return Buffer.concat([out, Buffer.from(seed)]);
  }
}

describe('churn serve under hostile requests', () => {
  it('answers every one of 10,000+ random, malformed and oversized requests with a status', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'churn-fuzz-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const core = await RuntimeService.open({ stateDir: join(dir, 'state') });
    onTestFinished(() => core.close());
    const internal: string[] = [];
    const socketPath = join(dir, 'cri.sock');
    const server = await CriServer.listen(core, {
      socketPath,
      onInternalError: (method, err) => internal.push(`${method}: ${String(err)}`),
    });
    onTestFinished(() => server.close(1000));
    const client = new Client(`unix://${socketPath}`, credentials.createInsecure(), {
      'grpc.max_send_message_length': 32 * 1024 * 1024,
    });
    onTestFinished(() => client.close());

    const seed = Number(process.env.CHURN_FUZZ_SEED ?? Date.now() % 2 ** 31);
    const cases: { method: Method; body: Buffer; oversized: boolean }[] = [];
    const methodArb = fc.constantFrom(...methods);
    // Random bytes: mostly not protobuf at all.
    for (const [method, bytes] of fc.sample(
      fc.tuple(methodArb, fc.uint8Array({ maxLength: 256 })),
      { numRuns: 3000, seed },
    ))
      cases.push({ method, body: Buffer.from(bytes), oversized: false });
    // Well-typed requests with hostile values, some of them then damaged.
    for (const [method, request, cut] of fc.sample(
      fc.tuple(
        methodArb,
        structured,
        fc.option(fc.array(fc.nat(), { minLength: 3, maxLength: 12 })),
      ),
      { numRuns: 6500, seed: seed + 1 },
    )) {
      const body = encode(method, request);
      if (body === undefined) continue;
      cases.push({ method, body: cut === null ? body : damage(body, cut), oversized: false });
    }
    // Far over one limit each: refused, whatever else the request says.
    const byName = new Map(methods.map((m) => [m.name, m]));
    for (const [name, request] of fc.sample(oversize, { numRuns: 700, seed: seed + 2 })) {
      const method = byName.get(name);
      expect(method, name).toBeDefined();
      const body = encode(method!, request);
      expect(body, name).toBeDefined();
      cases.push({ method: method!, body: body!, oversized: true });
    }
    expect(cases.length, `seed ${String(seed)}`).toBeGreaterThanOrEqual(10_000);

    const outcomes: Outcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < cases.length) {
          const c = cases[next++]!;
          outcomes.push(await call(client, c.method, c.body, c.oversized));
        }
      }),
    );

    const byCode = new Map<GrpcStatus, number>();
    for (const o of outcomes) byCode.set(o.code, (byCode.get(o.code) ?? 0) + 1);
    const summary = `seed ${String(seed)}; codes ${JSON.stringify(Object.fromEntries(byCode))}`;
    expect(outcomes).toHaveLength(cases.length);
    // Every call answered by the server itself: no deadline, no lost connection.
    const lost = outcomes.filter(
      (o) => o.code === GrpcStatus.DEADLINE_EXCEEDED || o.code === GrpcStatus.UNAVAILABLE,
    );
    expect(lost.slice(0, 5), summary).toEqual([]);
    // INTERNAL only for bytes that are not the request message (grpc-js's own answer).
    const internals = outcomes.filter(
      (o) => o.code === GrpcStatus.INTERNAL && !/deserializ|parse/i.test(o.details),
    );
    expect(internals.slice(0, 5), summary).toEqual([]);
    expect(internal.slice(0, 5), summary).toEqual([]);
    // Unknown means a thrown surprise, not a chosen answer.
    expect(outcomes.filter((o) => o.code === GrpcStatus.UNKNOWN).slice(0, 5), summary).toEqual([]);
    const admitted = outcomes.filter((o) => o.oversized && o.code !== GrpcStatus.INVALID_ARGUMENT);
    expect(admitted.slice(0, 5), summary).toEqual([]);
    expect(outcomes.filter((o) => o.oversized).length, 'some oversized requests were checked').toBe(
      700,
    );

    // Still serving: the lists answer (whatever the fuzz created), and full cycles run.
    const driver = new CriDriver({
      endpoint: `unix://${socketPath}`,
      runtimeHandler: '',
      callTimeoutMs: 10_000,
    });
    onTestFinished(() => driver.close());
    await driver.connect();
    await driver.pullImage('host');
    for (let i = 0; i < 3; i++) {
      const pod = podSpec(`after-fuzz-${String(i)}`);
      const podId = await driver.runPod(pod);
      const id = await driver.createContainer(podId, pod, containerSpec());
      await driver.startContainer(id);
      await driver.stopContainer(id, 5);
      await driver.removeContainer(id);
      await driver.stopPod(podId);
      await driver.removePod(podId);
    }
    const pods = await core.listPodSandbox({});
    for (const p of pods)
      expect(Buffer.byteLength(p.config.metadata.name)).toBeLessThanOrEqual(
        requestLimits.nameBytes,
      );
  }, 300_000);
});
