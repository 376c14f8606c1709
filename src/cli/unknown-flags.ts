/**
 * Unknown `--flags` on a command line, each with the closest flag the command knows, so a
 * misspelt flag is answered with `unknown flag --concurency; did you mean --concurrency?`
 * instead of yargs' bare "Unknown argument".
 */
import { closestMatches } from '../scenario/did-you-mean.js';

/** The flags a command accepts: option names (as declared) and their aliases. */
export interface KnownFlags {
  /** Declared option names, e.g. `report-dir`, `concurrency`, `help`. */
  readonly names: readonly string[];
  /** Each name's aliases, e.g. `{ help: ['h'] }`. */
  readonly aliases: Readonly<Record<string, readonly string[]>>;
}

/** One unknown flag as typed (without dashes or `=value`) and the flags it may have meant. */
export interface UnknownFlag {
  readonly flag: string;
  readonly suggestions: readonly string[];
}

/**
 * The long flags of `argv` that `known` does not accept, in order, once each. `--x=v`,
 * `--no-x` for a known `x`, camelCase and kebab-case spellings of a known flag are accepted;
 * nothing after `--` is a flag; single-dash flags are left to yargs (a letter has no useful
 * near miss).
 */
export function findUnknownFlags(argv: readonly string[], known: KnownFlags): UnknownFlag[] {
  const accepted = new Set<string>();
  const spellings = (name: string): string[] => [name, kebabCase(name), camelCase(name)];
  for (const name of known.names) for (const s of spellings(name)) accepted.add(s);
  for (const aliases of Object.values(known.aliases)) {
    for (const alias of aliases) for (const s of spellings(alias)) accepted.add(s);
  }
  const isKnown = (name: string): boolean =>
    accepted.has(name) || (name.startsWith('no-') && accepted.has(name.slice(3)));
  // Suggest long spellings only, as declared: `--report-dir`, not `--reportDir` or `-r`.
  const candidates = [
    ...new Set([
      ...known.names,
      ...Object.values(known.aliases)
        .flat()
        .filter((a) => a.length > 1),
    ]),
  ].filter((c) => c.length > 1);
  const unknown: UnknownFlag[] = [];
  for (const token of argv) {
    if (token === '--') break;
    if (!token.startsWith('--') || token.length === 2) continue;
    const flag = token.slice(2).split('=', 1)[0]!;
    if (flag === '' || isKnown(flag) || unknown.some((u) => u.flag === flag)) continue;
    const bare = flag.startsWith('no-') ? flag.slice(3) : flag;
    unknown.push({ flag, suggestions: closestMatches(bare, candidates) });
  }
  return unknown;
}

/**
 * `unknown flag --concurency; did you mean --concurrency?`, or for several
 * `unknown flags --concurency (did you mean --concurrency?), --zz`.
 */
export function describeUnknownFlags(unknown: readonly UnknownFlag[]): string {
  const suggestion = (u: UnknownFlag): string => {
    if (u.suggestions.length === 0) return '';
    const flags = u.suggestions.map((s) => `--${s}`);
    const last = flags.pop()!;
    return `did you mean ${flags.length === 0 ? last : `${flags.join(', ')} or ${last}`}?`;
  };
  if (unknown.length === 1) {
    const u = unknown[0]!;
    const hint = suggestion(u);
    return `unknown flag --${u.flag}${hint === '' ? '' : `; ${hint}`}`;
  }
  return `unknown flags ${unknown
    .map((u) => {
      const hint = suggestion(u);
      return `--${u.flag}${hint === '' ? '' : ` (${hint})`}`;
    })
    .join(', ')}`;
}

function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}
