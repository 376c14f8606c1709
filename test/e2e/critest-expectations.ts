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

const processRefusesPrivileged =
  'process: CreateContainer is refused with INVALID_ARGUMENT (the container is privileged; the process executor cannot grant privileges and says to use --executor runc).';
const processRefusesGroups =
  'process: CreateContainer is refused with INVALID_ARGUMENT naming --executor runc: the process executor sets the uid and gid a container asks for (the core is root here) but no supplementary groups. runc passes: it resolves the user and groups as containerd does.';
/** Why a spec fails when its container runs as nobody, the process executor's default user. */
const processRunsAsNobody =
  "process: a container that names no user runs as nobody (65534:65534), the process executor's task user when the core is root (churn serve --task-user; containerd and runc run it as root in a container of its own)";

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
      'Image artifact. critest masks /bin/ls and expects `sh -c ls` to fail with "Permission denied". With Debian\'s busybox-static neither can happen: its sh runs applets itself without looking at /bin/ls, and /bin/ls is a symlink, so containerd and churn\'s runc executor (which applies masked paths as containerd does) mask /bin/busybox and the container cannot start ("sh": not found). process: CreateContainer is refused with INVALID_ARGUMENT (it cannot mask a path).',
  },
  {
    spec: '[k8s.io] Security Context NoNewPrivs should not allow privilege escalation when true',
    on: ['containerd', 'runc', 'process'],
    reason:
      'Image artifact: the real nonewprivs image runs a setuid binary that prints "Effective uid: 1000". The stand-in (busybox) has no setuid binary and prints nothing, so the log critest reads is empty on containerd and runc (which applies RunAsUser 1000 and no_new_privs as asked). process: CreateContainer is refused with INVALID_ARGUMENT (it cannot set no_new_privs).',
  },
  {
    spec: '[k8s.io] Security Context NoNewPrivs should allow privilege escalation when false',
    on: ['containerd', 'runc', 'process'],
    reason:
      'Image artifact: as the spec with no_new_privs true. The stand-in has no setuid binary to print "Effective uid: 0", so the log critest reads is empty on containerd, runc and process (which runs it as uid 1000; it adds no group from /etc/group).',
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
    on: ['process'],
    reason: processRefusesPrivileged,
  },
  {
    spec: `${propagation} 'rshared' should support propagation from host to container and vice versa`,
    on: ['process'],
    reason: processRefusesPrivileged,
  },
  {
    spec: `${propagation} 'rslave' should support propagation from host to container`,
    on: ['process'],
    reason: processRefusesPrivileged,
  },
  {
    spec: '[k8s.io] PodSandbox runtime should support sysctls should support safe sysctls',
    on: ['process'],
    reason:
      "process: RunPodSandbox is refused with INVALID_ARGUMENT: the process executor has no namespaces of its own, so it cannot set the pod's sysctls (kernel.shm_rmid_forced) without changing the host's, and says to use --executor runc. runc passes: the pause's spec carries them (as containerd's sandbox spec), and the containers join its namespaces.",
  },
  {
    spec: '[k8s.io] PodSandbox runtime should support sysctls should support unsafe sysctls',
    on: ['process'],
    reason:
      'process: RunPodSandbox is refused with INVALID_ARGUMENT, as for the safe sysctls spec (here fs.mqueue.msg_max). runc passes.',
  },
  {
    spec: `${ns} HostNetwork is false`,
    on: [],
    varies: ['process'],
    reason:
      "process: the process executor has no namespaces, so every pod has the host's network and the container's `netstat -ln` lists the port critest listens on. critest polls the log and accepts the first look that lacks the port, so the spec passes whenever netstat's output is not yet written at that first look: timing, not churn, decides. runc passes: a pod without host network gets its own network namespace, loopback only.",
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
    on: ['process'],
    reason: `${processRefusesGroups} critest expects "1000 1234 50000": RunAsUser 1000, SupplementalGroups 1234, and group 50000 that the image's /etc/group gives user 1000.`,
  },
  {
    spec: `${sc} SupplementalGroups`,
    on: ['process'],
    reason: `${processRefusesGroups} critest expects \`id -G\` to list the supplemental groups 1234 and 5678.`,
  },
  {
    spec: `${sc} that ReadOnlyRootfs is false`,
    on: ['process'],
    reason: `${processRunsAsNobody}. critest runs \`touch test.go\` in the working directory, the image's rootfs, owned by root: Permission denied. runc passes: a writable layer per container, written as root.`,
  },
  {
    spec: `${ns} HostPID`,
    on: ['process'],
    reason: `${processRunsAsNobody}. The nginx stand-in writes /var/run/nginx.pid, which is the host's /var/run here (no chroot): Permission denied, so critest's loop waiting for the file times out. runc passes.`,
  },
  {
    spec: '[k8s.io] Multiple Containers [Conformance] when running multiple containers in a pod should support container log',
    on: [],
    varies: ['process'],
    reason: `${processRunsAsNobody}. The BeforeEach starts the httpd stand-in, which cannot bind port 80 as nobody and exits 1 a few milliseconds after it starts, and expects it RUNNING at its first ContainerStatus right after StartContainer: whether that look comes first is timing. With tasks spawned directly (--no-supervised-tasks) it passed 6 of 6 times on a quiet machine and 9 of 10 at load 7 (and failed in CI); with supervised tasks (the default), whose StartContainer returns a few milliseconds later (it reads the task's pid from the supervisor), 4 of 8. runc passes.`,
  },
  {
    spec: '[k8s.io] Multiple Containers [Conformance] when running multiple containers in a pod should support container exec',
    on: ['process'],
    reason: `${processRunsAsNobody}. The httpd stand-in (busybox httpd) listens on port 80, which nobody may not bind, so it exits and the exec into it is refused (EXITED). runc passes.`,
  },
  {
    spec: '[k8s.io] Container runtime should support adding volume and device runtime should support starting container with volume [Conformance]',
    on: ['process'],
    reason: `${processRunsAsNobody}. The host path critest mounts (at the same path, which the process executor accepts) is in critest's TMPDIR, a 0700 directory of root's, so \`ls -A\` of it is Permission denied. runc passes.`,
  },
  {
    spec: '[k8s.io] Container runtime should support adding volume and device runtime should support starting container with volume when host path is a symlink [Conformance]',
    on: ['process'],
    reason: `${processRunsAsNobody}. As the spec above, through a symlink to the host path: Permission denied. runc passes.`,
  },
  {
    spec: `${sc} ReadonlyPaths`,
    on: ['process'],
    reason:
      'process: CreateContainer is refused with INVALID_ARGUMENT (it cannot make /tmp read-only). runc passes: it applies read-only paths as containerd does.',
  },
  {
    spec: `${sc} Privileged is true`,
    on: ['process'],
    reason: `${processRefusesPrivileged} runc passes: a privileged container gets every capability, as with containerd.`,
  },
  {
    spec: `${sc} adding capability`,
    on: ['process'],
    reason:
      'process: CreateContainer is refused with INVALID_ARGUMENT (the process executor cannot change capabilities). runc passes: it adds CAP_NET_ADMIN, so `brctl addbr` is permitted.',
  },
  {
    spec: `${sc} adding ALL capabilities`,
    on: ['process'],
    reason:
      'process: CreateContainer is refused with INVALID_ARGUMENT (the process executor cannot change capabilities). runc passes: ALL gives every capability the server has.',
  },
  {
    spec: `${sc} dropping capability`,
    on: ['process'],
    reason:
      'process: CreateContainer is refused with INVALID_ARGUMENT (the process executor cannot change capabilities). runc passes: it drops CAP_NET_RAW from the default set, so ping is denied.',
  },
  {
    spec: `${sc} dropping ALL capabilities`,
    on: ['process'],
    reason:
      'process: CreateContainer is refused with INVALID_ARGUMENT (the process executor cannot change capabilities). runc passes: CapBnd is 0.',
  },
  {
    spec: `${sc} that ReadOnlyRootfs is true`,
    on: ['process'],
    reason:
      "process: CreateContainer is refused with INVALID_ARGUMENT: the process executor runs tasks in the host's filesystem and cannot make it read-only (readonly_rootfs), and says to use --executor runc. runc passes: the image's rootfs is the read-only root.",
  },
];
