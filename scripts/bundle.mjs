// Builds dist/: churn bundled by esbuild (ESM, code splitting) from its two entry points, the CLI
// (dist/cli/main.js, the `churn` bin) and the core process the builtin driver forks
// (dist/drivers/core-process-main.js). Each module churn imports lazily (commands, drivers,
// prom-client, the report builder, ...) stays a lazy chunk under dist/chunks/. Bundling saves
// the ESM loader's per-module cost (resolve, read, compile) at start-up: docs/performance.md.
// Type checking is tsc's (`npm run typecheck`, and `npm run build` before this script).
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

// Left out of the bundle, loaded from node_modules when used:
// - @kubernetes/client-node: `churn cluster` only, and large, with optional native parts.
// - @grpc/grpc-js: it loads .proto files of its own package by their place beside its code
//   (channelz, ORCA), which a bundle moves; churn uses neither, but a bundle would turn them
//   into a ReferenceError (no __dirname in ESM). Loaded through require(), its cost is about
//   the same either way (~10 ms more external, docs/performance.md).
const external = ['@kubernetes/client-node', '@grpc/grpc-js'];

// zod's main entry re-exports every locale (`z.locales`, and `z.core.locales` from its core),
// 64 modules, half of zod's bundled bytes, which churn never uses: English, its default, is
// registered by zod's schemas module itself. The bundle drops those two re-exports; the build
// fails if zod's modules no longer have them.
const zodLocales = 'export * as locales from "../locales/index.js";';
const zodModules =
  /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/;
const withoutZodLocales = {
  name: 'without-zod-locales',
  setup(b) {
    const seen = new Set();
    b.onLoad({ filter: zodModules }, ({ path }) => {
      const text = readFileSync(path, 'utf8');
      if (!text.includes(zodLocales)) {
        throw new Error(`${path} no longer has the line the bundle drops: ${zodLocales}`);
      }
      seen.add(path);
      return { contents: text.replace(zodLocales, ''), loader: 'js' };
    });
    b.onEnd((result) => {
      if (result.errors.length === 0 && seen.size !== 2) {
        throw new Error(`zod's locales: expected to strip 2 modules, stripped ${seen.size}`);
      }
    });
  },
};

// string-width (yargs' and, another major version, cliui's and wrap-ansi's) builds an
// Intl.Segmenter and a \p{RGI_Emoji} regular expression when its module is evaluated, ~20 ms of
// CPU at every start, though churn measures text widths only to lay out --help. Each importer
// gets a stand-in that loads its own copy of string-width at the first call: the bundler
// evaluates a module reached by require() only when that require() runs.
const lazyNamespace = 'lazy-string-width';
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === lazyNamespace) return undefined;
      const real = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: lazyNamespace,
      });
      if (real.errors.length > 0) return { errors: real.errors };
      // Relative, so that the bundle's comments name no path of the machine that built it.
      return { path: relative(root, real.path), namespace: lazyNamespace };
    });
    b.onLoad({ filter: /.*/, namespace: lazyNamespace }, ({ path }) => ({
      contents: [
        'let real;',
        'export default function stringWidth(text, options) {',
        `  real ??= require(${JSON.stringify(join(root, path))}).default;`,
        '  return real(text, options);',
        '}',
      ].join('\n'),
      resolveDir: dirname(join(root, path)),
      loader: 'js',
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: {
    'cli/main': 'src/cli/main.ts',
    'drivers/core-process-main': 'src/drivers/core-process-main.ts',
  },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  plugins: [withoutZodLocales, lazyStringWidth],
  // Bundled CommonJS packages call require() for Node's built-ins; ESM has none of its own.
  banner: {
    js: "import { createRequire as __churnCreateRequire } from 'node:module';\nconst require = __churnCreateRequire(import.meta.url);",
  },
  // Source maps give stack traces (node --enable-source-maps) their source file and line.
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});

// src/common/package-files.ts finds the package root as ../../ from whichever bundle file it
// is inlined in: every file must sit two folders down, dist/<folder>/<file>.
for (const out of Object.keys(result.metafile.outputs)) {
  if (out.split('/').length !== 3) throw new Error(`bundle: ${out} is not dist/<folder>/<file>`);
}

// Nothing of an earlier build (tsc's per-module output included) may be left to run: code
// files this build did not write go. Removed after the build, not before, so that a rebuild of
// the same code (each test suite's setup builds) never leaves a moment without dist/cli/main.js
// for a churn already running from dist/; the copied assets and tsc's dist/.tsbuildinfo stay.
const written = new Set(Object.keys(result.metafile.outputs).map((out) => join(root, out)));
const code = /\.(js|js\.map|LEGAL\.txt)$/;
function removeStale(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      removeStale(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (code.test(entry.name) && !written.has(path)) {
      rmSync(path);
    }
  }
}
removeStale(dist);
