/**
 * The OCI runtime spec of the native driver's containers, as the JSON bytes Containers.Create
 * carries: built and serialized once per workload (its image, command, environment and working
 * directory), then only the two fields that differ per container, the hostname and the cgroup
 * path, are put in. Building and stringifying the whole spec for each container was a visible
 * share of the driver's CPU per cycle; the bytes are the same as `JSON.stringify(ociSpec(…))`'s.
 */
import { ociSpec, type OciSpecInput } from '../../runtime/executors/oci-spec.js';

/** What differs per container. */
export interface SpecFields {
  readonly hostname: string;
  readonly cgroupsPath: string;
}

/** Stands for a per-container field while the template is built; never a real value. */
const hostMark = '\u0000churn-hostname\u0000';
const cgroupMark = '\u0000churn-cgroups-path\u0000';

/** A spec with every field fixed but the hostname and the cgroup path; see the module comment. */
export class OciSpecTemplate {
  readonly #input: Omit<OciSpecInput, keyof SpecFields>;
  /** The JSON around the two fields: [before hostname, between, after cgroupsPath]. */
  readonly #parts: readonly [string, string, string] | undefined;

  constructor(input: Omit<OciSpecInput, keyof SpecFields>) {
    this.#input = input;
    const json = JSON.stringify(ociSpec({ ...input, hostname: hostMark, cgroupsPath: cgroupMark }));
    const host = JSON.stringify(hostMark);
    const cgroup = JSON.stringify(cgroupMark);
    const [before, rest] = split(json, host);
    const [between, after] = split(rest, cgroup);
    // Each mark once, the hostname first, as ociSpec orders them; else (a command or variable
    // holding a mark) every container's spec is built whole.
    const once = json.split(host).length === 2 && json.split(cgroup).length === 2;
    this.#parts =
      once && `${before}${host}${between}${cgroup}${after}` === json
        ? [before, between, after]
        : undefined;
  }

  /** The spec's JSON bytes for one container. */
  bytes(fields: SpecFields): Buffer {
    const parts = this.#parts;
    if (parts === undefined) {
      return Buffer.from(JSON.stringify(ociSpec({ ...this.#input, ...fields })));
    }
    return Buffer.from(
      `${parts[0]}${JSON.stringify(fields.hostname)}${parts[1]}${JSON.stringify(fields.cgroupsPath)}${parts[2]}`,
    );
  }
}

function split(text: string, mark: string): [string, string] {
  const at = text.indexOf(mark);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + mark.length)];
}
