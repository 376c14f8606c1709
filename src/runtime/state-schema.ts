/**
 * The shapes of the objects the core persists (pod-store.ts, container-store.ts), checked when
 * the state is read back: a record of the wrong shape is refused and reported by recovery, not
 * turned into a TypeError deep in the core. Objects are loose (fields this version does not
 * know pass), so a newer core's state still reads; every field the core relies on is checked.
 */
import { z } from 'zod';
import type { StateValidators } from './state-journal.js';

const stringMap = z.record(z.string(), z.string());
const namespaceMode = z.enum(['POD', 'CONTAINER', 'NODE', 'TARGET']);
const executorName = z.enum(['process', 'runc']);
const count = z.number().int().nonnegative();
const nanoseconds = z.bigint().nonnegative();

const taskRef = z.looseObject({
  executor: executorName,
  pid: z.number().int().positive(),
  pidStartTime: z.string(),
});

const podRecord = z.looseObject({
  pod: z.looseObject({
    id: z.string().min(1),
    config: z.looseObject({
      metadata: z.looseObject({
        name: z.string(),
        uid: z.string(),
        namespace: z.string(),
        attempt: count,
      }),
      hostname: z.string(),
      logDirectory: z.string(),
      labels: stringMap,
      annotations: stringMap,
      networkMode: namespaceMode,
      pidMode: namespaceMode,
      ipcMode: namespaceMode,
    }),
    state: z.enum(['READY', 'NOTREADY']),
    createdAtNs: nanoseconds,
    runtimeHandler: z.string(),
  }),
  executor: executorName,
  sandboxRef: taskRef.optional(),
});

const containerRecord = z.looseObject({
  container: z.looseObject({
    id: z.string().min(1),
    podId: z.string().min(1),
    config: z.looseObject({
      metadata: z.looseObject({ name: z.string(), attempt: count }),
      image: z.string(),
      command: z.array(z.string()),
      args: z.array(z.string()),
      workingDir: z.string(),
      envs: z.array(z.looseObject({ key: z.string(), value: z.string() })),
      labels: stringMap,
      annotations: stringMap,
      logPath: z.string(),
    }),
    imageRef: z.string(),
    state: z.enum(['CREATED', 'RUNNING', 'EXITED', 'UNKNOWN']),
    createdAtNs: nanoseconds,
    startedAtNs: nanoseconds,
    finishedAtNs: nanoseconds,
    exitCode: z.number().int(),
    reason: z.string(),
    message: z.string(),
    pid: count,
    logPathAbs: z.string(),
    user: z
      .looseObject({
        uid: count,
        gid: count,
        additionalGids: z.array(count),
        named: z.boolean(),
      })
      .optional(),
  }),
  taskRef: taskRef.optional(),
});

/** What zod says is wrong, in one line: `pod.state: Invalid option …; executor: …`. */
function problemOf(schema: z.ZodType): (value: unknown) => string | undefined {
  return (value) => {
    const result = schema.safeParse(value);
    if (result.success) return undefined;
    return result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`)
      .join('; ');
  };
}

/** Validators of the core's persisted kinds, for {@link StateJournal.open}. */
export const coreStateValidators: StateValidators = {
  pod: problemOf(podRecord),
  container: problemOf(containerRecord),
};
