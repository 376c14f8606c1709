// critest specs expected to fail, per target, each with its reason: the ONE place the critest
// e2e test (test/e2e/critest.test.ts) reads. A listed spec that passes where it is listed in
// `on` fails the test, so when a fix lands its target must leave `on` (or the entry go).
// `varies` is only for a spec whose outcome is not churn's to decide; the reason says why.
// Reasons name what critest checks (cri-tools v1.26.1, pkg/validate/) and why the target
// differs. Counts are in docs/critest.md.
import type { ExpectedFailure } from '../support/critest-report.js';

/** critest's spec names, shortened here. */
const sc = '[k8s.io] Security Context bucket runtime should support';
const ns = '[k8s.io] Security Context NamespaceOption runtime should support';
const propagation =
  '[k8s.io] Container Mount Propagation runtime should support mount propagation mount with';

const noMounts =
  "churn's CRI subset has no `mounts`: CreateContainer's are dropped and ContainerStatus reports none.";
const processRefusesPrivileged =
  'process: CreateContainer is refused with INVALID_ARGUMENT (the container is privileged; the process executor cannot grant privileges and says to use --executor runc).';
const noUsers =
  'churn applies no user or group from the CRI config or the image: runc tasks run as 0:0, process tasks as the core (root here), so `id` reports root (0).';

export const critestExpectedFailures: readonly ExpectedFailure[] = [
  // ── image artifacts: the stand-in images cannot give what critest looks for ────────────
  {
    spec: '[k8s.io] Image Manager public image with digest should be pulled and removed [Conformance]',
    on: ['containerd', 'runc', 'process'],
    reason:
      'Image artifact: critest pulls gcr.io/k8s-staging-cri-tools/test-image-digest@sha256:9700f…, the digest of the upstream manifest. No locally built image can have it and no registry is reachable here, so the pull is NotFound everywhere.',
  },
  {
    spec: `${sc} MaskedPaths`,
    on: ['containerd', 'runc', 'process'],
    reason:
      'Image artifact, and a churn gap. critest masks /bin/ls and expects `sh -c ls` to fail with "Permission denied". With Debian\'s busybox-static neither can happen: its sh runs applets itself without looking at /bin/ls, and /bin/ls is a symlink, so containerd masks /bin/busybox and the container cannot start ("sh": not found). churn does not apply masked paths at all (not in its CRI subset): runc and process containers start and `ls` runs.',
  },
  {
    spec: '[k8s.io] Security Context NoNewPrivs should not allow privilege escalation when true',
    on: ['containerd', 'runc', 'process'],
    reason:
      'Image artifact: the real nonewprivs image runs a setuid binary that prints "Effective uid: 1000". The stand-in (busybox) has no setuid binary and prints nothing, so the log critest reads is empty everywhere. churn would fail this spec with the real image too: it applies no RunAsUser (tasks run as root), and no_new_privs is fixed per executor (runc always sets it, process never does), whatever the spec asks.',
  },
  {
    spec: '[k8s.io] Security Context NoNewPrivs should allow privilege escalation when false',
    on: ['containerd', 'runc', 'process'],
    reason:
      'Image artifact: as the spec with no_new_privs true. The stand-in has no setuid binary to print "Effective uid: 0", so the log critest reads is empty everywhere. churn would fail this spec with the real image too: no RunAsUser, and the runc executor always sets no_new_privs.',
  },
  {
    spec: '[k8s.io] Container runtime should support basic operations on container runtime should support execSync with timeout [Conformance]',
    on: ['containerd', 'crio', 'runc'],
    varies: ['process'],
    reason:
      "After an ExecSync of `sleep 4321` times out, critest runs `pgrep sleep` in the container and expects no output. Every target reports the timeout and kills that sleep, but something else is named sleep. containerd: its sandbox is the pause stand-in (churn's pause image, a shell looping over `sleep 3600`), and the pod's containers share its pid namespace, so pgrep finds that child (pid 7). The real pause is one binary named pause. crio: the same pause stand-in as its infra container (pgrep finds pid 6), and the killed `sleep 4321` is still a zombie when pgrep runs (pid 12, state Z, its parent outside the pod's pid namespace; seen by hand with crictl). runc: churn's sandbox is `sleep infinity` as pid 1 of the pod's pid namespace, so pgrep finds it. As init it reaps nothing, so the killed exec also stays a zombie named sleep (pids 1 and 11, seen by hand). That pause is a churn gap. process: no chroot, so pgrep is the host's and counts every sleep on the host; whether any runs there is up to the host.",
  },
  // ── churn core gaps ─────────────────────────────────────────────────────────────────────
  {
    spec: `${propagation} 'rprivate' should not support propagation`,
    on: ['runc', 'process'],
    reason: `runc: ${noMounts} critest indexes Status.Mounts[0] of an empty list, so the spec panics. Its deferred cleanup then fails to unmount the mount point it never made, and that is the message reported ("failed to unmount propagationMntPoint: invalid argument"). ${processRefusesPrivileged}`,
  },
  {
    spec: `${propagation} 'rshared' should support propagation from host to container and vice versa`,
    on: ['runc', 'process'],
    reason: `runc: ${noMounts} As with 'rprivate', critest panics on the empty Status.Mounts, then reports its own cleanup failing. ${processRefusesPrivileged}`,
  },
  {
    spec: `${propagation} 'rslave' should support propagation from host to container`,
    on: ['runc', 'process'],
    reason: `runc: ${noMounts} As with 'rprivate', critest panics on the empty Status.Mounts, then reports its own cleanup failing. ${processRefusesPrivileged}`,
  },
  {
    spec: '[k8s.io] Container runtime should support adding volume and device runtime should support starting container with volume [Conformance]',
    on: ['runc'],
    reason: `${noMounts} critest mounts a host temp dir at the same path and execs \`ls\` of a file in it. In the runc container's rootfs the path is absent and ls fails. The process executor passes only because it has no rootfs of its own: its tasks see the host's filesystem, where the path is.`,
  },
  {
    spec: '[k8s.io] Container runtime should support adding volume and device runtime should support starting container with volume when host path is a symlink [Conformance]',
    on: ['runc'],
    reason: `${noMounts} This is the volume spec with the host path given through a symlink. It fails on runc and passes on process for the same reasons.`,
  },
  {
    spec: '[k8s.io] Container runtime should support basic operations on container runtime should support removing running container [Conformance]',
    on: ['runc', 'process'],
    reason:
      "churn serve's default lifecycle (--compat strict) refuses RemoveContainer of a RUNNING container with FAILED_PRECONDITION. The CRI says such a container is removed by force, and critest checks that. `--compat containerd` removes it (kills it first); critest runs against the default.",
  },
  {
    spec: '[k8s.io] Container runtime should support log runtime should support reopening container log [Conformance]',
    on: ['runc', 'process'],
    reason:
      'ReopenContainerLog is not in churn\'s CRI service: the call is UNIMPLEMENTED (critest: "Expected success, but got an error").',
  },
  {
    spec: '[k8s.io] Streaming runtime should support streaming interfaces runtime should support exec with tty=false and stdin=false [Conformance]',
    on: ['runc', 'process'],
    reason:
      'Exec (the streaming call, not ExecSync) is not in churn\'s CRI service and there is no streaming server: the call is UNIMPLEMENTED ("failed to exec in container").',
  },
  {
    spec: '[k8s.io] Streaming runtime should support streaming interfaces runtime should support exec with tty=true and stdin=true [Conformance]',
    on: ['runc', 'process'],
    reason: 'Exec (streaming) is UNIMPLEMENTED in churn, as for the tty=false spec.',
  },
  {
    spec: '[k8s.io] PodSandbox runtime should support sysctls should support safe sysctls',
    on: ['runc', 'process'],
    reason:
      "The pod's sysctls are decoded but not applied: the runc executor writes none into the pod's namespaces, and the process executor has no namespaces of its own. critest cats /proc/sys/kernel/shm_rmid_forced in the container and finds the default, not the 1 it asked for.",
  },
  {
    spec: '[k8s.io] PodSandbox runtime should support sysctls should support unsafe sysctls',
    on: ['runc', 'process'],
    reason:
      'Sysctls are not applied, as for the safe sysctls spec. critest reads /proc/sys/fs/mqueue/msg_max and finds the default, not the 100 it asked for.',
  },
  {
    spec: `${ns} HostNetwork is false`,
    on: [],
    varies: ['process'],
    reason:
      "process: the process executor has no namespaces, so every pod has the host's network and the container's `netstat -ln` lists the port critest listens on. critest polls the log and accepts the first look that lacks the port, so the spec passes whenever netstat's output is not yet written at that first look: timing, not churn, decides. runc passes: a pod without host network gets its own network namespace, loopback only.",
  },
  {
    spec: `${ns} HostPID`,
    on: ['runc'],
    reason:
      "The runc executor's root filesystem is always read-only. So the nginx stand-in cannot write /var/run/nginx.pid (its log: \"can't create /var/run/nginx.pid: Read-only file system\"; the real nginx writes it too), and critest's exec waiting for that file times out. process passes: it shares the host's pid namespace and writes the image's rootfs.",
  },
  {
    spec: `${ns} HostIpc is false`,
    on: ['process'],
    reason:
      'The process executor has no IPC namespace: `ipcs -m` in the container lists the shared memory segment critest made on the host.',
  },
  {
    spec: `${ns} ContainerPID`,
    on: ['process'],
    reason:
      'The process executor has no pid namespace: /proc/1 in the container is the host\'s init, not the nginx stand-in. critest\'s loop waiting for "master process" in /proc/1/cmdline never ends, and the ExecSync times out.',
  },
  {
    spec: "[k8s.io] Security Context bucket if the container's primary UID belongs to some groups in the image, runtime should add SupplementalGroups to them",
    on: ['runc', 'process'],
    reason: `${noUsers} critest expects "1000 1234 50000": RunAsUser 1000, SupplementalGroups 1234, and group 50000 that the image's /etc/group gives user 1000.`,
  },
  {
    spec: `${sc} RunAsUser`,
    on: ['runc', 'process'],
    reason: `${noUsers} critest expects \`id -u\` to print 1001.`,
  },
  {
    spec: `${sc} RunAsUserName`,
    on: ['runc', 'process'],
    reason: `${noUsers} critest expects \`id -nu\` to print nobody.`,
  },
  {
    spec: `${sc} RunAsGroup`,
    on: ['runc', 'process'],
    reason: `${noUsers} critest expects "1001:1002".`,
  },
  {
    spec: `${sc} SupplementalGroups`,
    on: ['runc', 'process'],
    reason: `${noUsers} critest expects \`id -G\` to list the supplemental groups 1234 and 5678.`,
  },
  {
    spec: `${sc} ReadonlyPaths`,
    on: ['runc', 'process'],
    reason:
      'Read-only paths are not applied (not in churn\'s CRI subset): `touch /tmp/test` succeeds where critest expects "Read-only file system".',
  },
  {
    spec: `${sc} Privileged is true`,
    on: ['runc', 'process'],
    reason: `runc: \`privileged\` is ignored. The container keeps the runc executor's fixed capability set, which lacks CAP_NET_ADMIN, so \`brctl addbr foobar\` is not permitted. ${processRefusesPrivileged}`,
  },
  {
    spec: `${sc} Privileged is false`,
    on: ['process'],
    reason:
      "process: tasks run with the core's own capabilities (root here) in the host's network namespace. So `brctl addbr foobar` succeeds, on the host, where critest expects it refused. The e2e test deletes the bridge this leaves (guardCritestBridge).",
  },
  {
    spec: `${sc} adding capability`,
    on: ['runc', 'process'],
    reason:
      'runc: added capabilities are ignored (the fixed set has no CAP_NET_ADMIN), so `brctl addbr` is not permitted. process: CreateContainer is refused with INVALID_ARGUMENT (the process executor cannot change capabilities).',
  },
  {
    spec: `${sc} adding ALL capabilities`,
    on: ['process'],
    reason:
      'process: CreateContainer is refused with INVALID_ARGUMENT (the process executor cannot change capabilities). runc passes, because its fixed set leaves CapBnd non-zero, which is all critest checks.',
  },
  {
    spec: `${sc} dropping capability`,
    on: ['process'],
    reason:
      'process: CreateContainer is refused with INVALID_ARGUMENT (the process executor cannot change capabilities). runc passes, because its fixed set has no CAP_NET_RAW, so ping is denied as critest expects.',
  },
  {
    spec: `${sc} dropping ALL capabilities`,
    on: ['runc', 'process'],
    reason:
      'runc: dropped capabilities are ignored, so CapBnd is the fixed set, not 0 as critest expects. process: CreateContainer is refused with INVALID_ARGUMENT (the process executor cannot change capabilities).',
  },
  {
    spec: `${sc} that ReadOnlyRootfs is false`,
    on: ['runc'],
    reason:
      "The runc executor's root filesystem is always read-only: it has no writable layer per container. So `touch` in / fails where critest expects it to work.",
  },
  {
    spec: `${sc} that ReadOnlyRootfs is true`,
    on: ['process'],
    reason:
      "The process executor's root filesystem is never read-only (its tasks write the image's unpacked rootfs on the host). critest's `touch` succeeds where it expects \"Read-only file system\".",
  },
];
