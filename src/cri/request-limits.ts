/**
 * Size limits on every CRI request, checked before it is decoded (wire-to-core.ts) or reaches
 * the core: what a request may carry is bounded, so one client cannot make every later answer
 * too big to send (two pods with 9 MiB names once made every ListPodSandbox fail), the core's
 * memory and journal grow without bound, or a spawn fail deep inside the core.
 *
 * The limits are Kubernetes' where it has them (object names, label and annotation sizes) and
 * Linux's where the value ends up in a syscall (argument and environment strings, paths);
 * docs/serve.md lists them. A request over a limit is INVALID_ARGUMENT naming the RPC, the field
 * (its proto name) and the limit. The whole message is bounded by gRPC's 16 MiB receive limit
 * (RESOURCE_EXHAUSTED from grpc-js).
 *
 * The walk is generic over the decoded message: a field's rule is chosen by its name (CRI's
 * field names are specific enough), anything without a rule still has a bound.
 */
import { ChurnError } from '../common/errors.js';

/** The limits, bytes (UTF-8) or counts; exported for the docs and tests. */
export const requestLimits = {
  /** metadata.name, .namespace, .uid; hostname: a DNS subdomain, 253 (Kubernetes). */
  nameBytes: 253,
  /** An id or id prefix of a pod, container or exec. */
  idBytes: 128,
  /** A label or annotation key: 253-byte prefix, '/', 63-byte name (Kubernetes). */
  keyBytes: 317,
  /** All labels of one object, keys and values (Kubernetes bounds values to 63 bytes each). */
  labelsTotalBytes: 64 * 1024,
  /** All annotations of one object, keys and values (Kubernetes' TotalAnnotationSizeLimitB). */
  annotationsTotalBytes: 256 * 1024,
  /** One argument, command word or KEY=VALUE: Linux's MAX_ARG_STRLEN. */
  argBytes: 128 * 1024,
  /** command + args + env of one container or exec, together (Linux's ARG_MAX is 2 MiB). */
  argvEnvTotalBytes: 1024 * 1024,
  /** A host or container path: PATH_MAX. */
  pathBytes: 4096,
  /** An image reference. */
  imageBytes: 4096,
  /** Entries of any list (arguments, env, mounts, devices, ids…) or map. */
  entries: 4096,
  /** Any other string. */
  otherStringBytes: 64 * 1024,
  /** Nesting depth of a message. */
  depth: 32,
} as const;

type Rule =
  'name' | 'id' | 'path' | 'image' | 'arg' | 'labels' | 'annotations' | 'argv' | 'env' | 'other';

/** Field (camelCase, as grpc-js decodes it) → rule. */
const rules: Readonly<Record<string, Rule>> = {
  name: 'name',
  namespace: 'name',
  uid: 'name',
  hostname: 'name',
  podSandboxId: 'id',
  containerId: 'id',
  id: 'id',
  execId: 'id',
  logDirectory: 'path',
  logPath: 'path',
  workingDir: 'path',
  containerPath: 'path',
  hostPath: 'path',
  image: 'image',
  userImage: 'image',
  labels: 'labels',
  labelSelector: 'labels',
  annotations: 'annotations',
  command: 'argv',
  args: 'argv',
  cmd: 'argv',
  envs: 'env',
};

/** Snake-case proto field name of a camelCase grpc-js field. */
function protoName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function bytes(text: string): number {
  // Cheap upper bound first: most strings are far below their limit.
  return text.length * 3 <= 64 ? text.length * 3 : Buffer.byteLength(text, 'utf8');
}

/** Checks one request; throws INVALID_ARGUMENT naming the first field over a limit. */
export function checkRequestLimits(rpc: string, request: unknown): void {
  new Walk(rpc).value(request, '', 'other', 0);
}

class Walk {
  /** Bytes of command, args and env seen so far (one request holds at most one container). */
  #argvEnvBytes = 0;

  constructor(private readonly rpc: string) {}

  #fail(path: string, problem: string): never {
    throw new ChurnError('INVALID_ARGUMENT', `${this.rpc}: ${path || 'request'} ${problem}`);
  }

  #string(text: string, path: string, limit: number, what: string): void {
    const size = bytes(text);
    if (size > limit)
      this.#fail(path, `is ${String(size)} bytes, over the limit of ${String(limit)} (${what})`);
  }

  #noNul(text: string, path: string): void {
    if (text.includes('\0')) this.#fail(path, 'contains a NUL byte');
  }

  value(value: unknown, path: string, rule: Rule, depth: number): void {
    if (depth > requestLimits.depth) this.#fail(path, 'is nested too deeply');
    if (typeof value === 'string') {
      this.#stringValue(value, path, rule);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
      if (value.byteLength > requestLimits.otherStringBytes)
        this.#fail(
          path,
          `is ${String(value.byteLength)} bytes, over the limit of ${String(requestLimits.otherStringBytes)}`,
        );
      return;
    }
    if (Array.isArray(value)) {
      if (value.length > requestLimits.entries)
        this.#fail(
          path,
          `has ${String(value.length)} entries, over the limit of ${String(requestLimits.entries)}`,
        );
      value.forEach((item, i) =>
        this.value(item, `${path}[${String(i)}]`, rule === 'env' ? 'env' : rule, depth + 1),
      );
      return;
    }
    if (rule === 'labels' || rule === 'annotations') {
      this.#map(value as Record<string, unknown>, path, rule);
      return;
    }
    if (rule === 'env') {
      const { key, value: v } = value as { key?: unknown; value?: unknown };
      for (const [field, text] of [
        ['key', key],
        ['value', v],
      ] as const) {
        if (typeof text !== 'string') continue;
        this.#string(text, `${path}.${field}`, requestLimits.argBytes, "Linux's MAX_ARG_STRLEN");
        this.#noNul(text, `${path}.${field}`);
        this.#argvEnv(text, path);
      }
      return;
    }
    const entries = Object.entries(value);
    if (entries.length > requestLimits.entries) this.#fail(path, 'has too many fields');
    for (const [field, child] of entries) {
      const childRule = rules[field] ?? 'other';
      this.value(
        child,
        path === '' ? protoName(field) : `${path}.${protoName(field)}`,
        childRule,
        depth + 1,
      );
    }
  }

  #stringValue(text: string, path: string, rule: Rule): void {
    switch (rule) {
      case 'name':
        this.#string(text, path, requestLimits.nameBytes, 'a DNS subdomain, as Kubernetes');
        return;
      case 'id':
        this.#string(text, path, requestLimits.idBytes, 'an id');
        return;
      case 'path':
        this.#string(text, path, requestLimits.pathBytes, 'PATH_MAX');
        this.#noNul(text, path);
        return;
      case 'image':
        this.#string(text, path, requestLimits.imageBytes, 'an image reference');
        return;
      case 'argv':
      case 'arg':
        this.#string(text, path, requestLimits.argBytes, "Linux's MAX_ARG_STRLEN");
        this.#noNul(text, path);
        this.#argvEnv(text, path);
        return;
      default:
        this.#string(text, path, requestLimits.otherStringBytes, 'any string');
    }
  }

  #argvEnv(text: string, path: string): void {
    this.#argvEnvBytes += bytes(text) + 1;
    if (this.#argvEnvBytes > requestLimits.argvEnvTotalBytes)
      this.#fail(
        path,
        `brings command, args and env to over ${String(requestLimits.argvEnvTotalBytes)} bytes together (Linux's ARG_MAX)`,
      );
  }

  #map(map: Record<string, unknown>, path: string, rule: 'labels' | 'annotations'): void {
    const keys = Object.keys(map);
    if (keys.length > requestLimits.entries)
      this.#fail(
        path,
        `has ${String(keys.length)} entries, over the limit of ${String(requestLimits.entries)}`,
      );
    const limit =
      rule === 'labels' ? requestLimits.labelsTotalBytes : requestLimits.annotationsTotalBytes;
    let total = 0;
    for (const key of keys) {
      this.#string(
        key,
        `${path} key "${key.slice(0, 40)}"`,
        requestLimits.keyBytes,
        'a qualified name, as Kubernetes',
      );
      const v = map[key];
      total += bytes(key) + (typeof v === 'string' ? bytes(v) : 0);
      if (total > limit)
        this.#fail(
          path,
          `hold over ${String(limit)} bytes of keys and values (${rule === 'labels' ? 'labels' : "Kubernetes' annotation limit"})`,
        );
    }
  }
}
