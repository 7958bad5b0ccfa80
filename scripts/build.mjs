// Bundles the client, the server, the command line and every test file with esbuild.
// Output: client/out/extension.js, server/out/{server,cli,cli-sections,cli-check,cli-fix,cli-io,cli-rules}.js,
// out/test/**.test.js, out/bench/**.bench.js, and each rule's explanation page as
// server/out/rules/<rule id>.md (the rule's folder name is its id).
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
};

function findFiles(dir, suffix) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'fixtures' || name === 'out' || name === 'e2e') continue;
    if (statSync(p).isDirectory()) out.push(...findFiles(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

// The command line is split per command: server/out/cli.js only dispatches, and requires
// cli-sections.js, cli-check.js or cli-fix.js when that command runs (cli-io.js is shared; the relocation
// type tables are cli-relocnames.js, loaded on first use), so
// `sections` starts without parsing the Make parser, the rules or the language server library
// (cli-sectionMarks.js, which analyzes an object's directory, is loaded only for an object of a kernel build).
const cliCommands = ['sections', 'check', 'fix', 'linkMap', 'sectionMarks'];
const cliSplit = {
  name: 'cli-split',
  setup(b) {
    // The rules: one file for check, fix and `sections --json`.
    b.onResolve({ filter: /^\.\.\/rules\/registry(\.js)?$/ }, (args) =>
      args.importer.startsWith(join(root, 'server/src/cli') + '/')
        ? { path: './cli-rules.js', external: true }
        : undefined,
    );
    b.onResolve({ filter: /^\.\/relocNames$/ }, (args) =>
      args.importer.startsWith(join(root, 'server/src/elf') + '/')
        ? { path: './cli-relocnames.js', external: true }
        : undefined,
    );
    b.onResolve({ filter: /^\.\/(io|sections|check|fix|sectionMarks)(\.js)?$/ }, (args) => {
      if (!args.importer.startsWith(join(root, 'server/src/cli') + '/')) return undefined;
      return { path: `./cli-${args.path.slice(2).replace(/\.js$/, '')}.js`, external: true };
    });
  },
};
const cliOut = (name) => join(root, 'server/out', `cli-${name}.js`);

const rulesDir = join(root, 'server/src/rules');
mkdirSync(join(root, 'server/out/rules'), { recursive: true });
for (const id of readdirSync(rulesDir)) {
  const page = join(rulesDir, id, 'explanation.md');
  if (existsSync(page)) copyFileSync(page, join(root, 'server/out/rules', `${id}.md`));
}
// Tests live in test/ and in each rule's folder (server/src/rules/<id>/test/). A rule's tests bundle to
// out/test/rules/<id>/, its kernel tier (server/src/rules/<id>/test/kernel/) to out/test/kernel/<id>/,
// so `node --test out/test/kernel/` runs every kernel-tier test and scripts/run-tests.mjs skips them all.
const testFiles = [...findFiles(join(root, 'test'), '.test.ts'), ...findFiles(rulesDir, '.test.ts')];

await Promise.all([
  build({
    ...common,
    entryPoints: [join(root, 'client/src/extension.ts')],
    outfile: join(root, 'client/out/extension.js'),
    external: ['vscode'],
  }),
  build({ ...common, entryPoints: [join(root, 'server/src/server.ts')], outfile: join(root, 'server/out/server.js') }),
  build({
    ...common,
    entryPoints: [join(root, 'server/src/cli.ts')],
    outfile: join(root, 'server/out/cli.js'),
    banner: { js: '#!/usr/bin/env node' },
    plugins: [cliSplit],
    supported: { 'dynamic-import': false },
  }),
  ...[...cliCommands, 'io'].map((name) =>
    build({
      ...common,
      entryPoints: [join(root, `server/src/cli/${name}.ts`)],
      outfile: cliOut(name),
      plugins: [cliSplit],
    }),
  ),
  build({ ...common, entryPoints: [join(root, 'server/src/elf/relocNames.ts')], outfile: cliOut('relocnames') }),
  build({ ...common, entryPoints: [join(root, 'server/src/rules/registry.ts')], outfile: cliOut('rules') }),
  build({
    ...common,
    entryPoints: [...testFiles, ...findFiles(join(root, 'bench'), '.bench.ts')].map((p) => ({
      in: p,
      out: relative(root, p)
        .replace(/^server\/src\/rules\/([^/]+)\/test\/kernel\//, 'test/kernel/$1/')
        .replace(/^server\/src\/rules\/([^/]+)\/test\//, 'test/rules/$1/')
        .replace(/\.ts$/, ''),
    })),
    outdir: join(root, 'out'),
    external: ['vscode'],
  }),
]);
