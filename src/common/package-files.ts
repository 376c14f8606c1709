/**
 * Where the files churn reads from its own package at run time are (package.json, the shipped
 * scenarios, the .proto files, the core process's entry), from the TypeScript sources (tsx,
 * vitest) and from the built CLI alike.
 *
 * The one layout fact this relies on: this module sits two folders below the package root in
 * both forms. From the sources it is src/common/package-files.ts; in the build
 * (scripts/bundle.mjs) it is inlined into one of the bundle's files, and every one of those is
 * dist/<folder>/<file>.js (the bundler checks it). So `../../` from here is the package root.
 */
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);

/** True when churn runs from its TypeScript sources rather than from the built dist/. */
export const fromSources = import.meta.url.endsWith('.ts');

/** Absolute path of `relative` (slash-separated) under the package root. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(relative, root));
}

/**
 * Absolute path of a file that lives under src/ in the sources and is copied (assets) or built
 * (entry points) to the same place under dist/: `cri/proto/api.proto` is src/cri/proto/api.proto
 * or dist/cri/proto/api.proto. For a built entry point give the `.js` name; from the sources it
 * reads `.ts`.
 */
export function codePath(relative: string): string {
  return fromSources
    ? packagePath(`src/${relative.replace(/\.js$/, '.ts')}`)
    : packagePath(`dist/${relative}`);
}
