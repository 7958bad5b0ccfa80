// Bundles the client, the server, the command line and every test file with esbuild.
// Output: client/out/extension.js, server/out/{server,cli}.js, out/test/**.test.js, out/bench/**.bench.js,
// and each rule's explanation page as server/out/rules/<rule id>.md (the rule's folder name is its id).
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };

function findFiles(dir, suffix) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'fixtures' || name === 'out' || name === 'e2e' || name === 'node_modules') continue;
    if (statSync(p).isDirectory()) out.push(...findFiles(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

const rulesDir = join(root, 'server/src/rules');
mkdirSync(join(root, 'server/out/rules'), { recursive: true });
for (const id of readdirSync(rulesDir)) {
  const page = join(rulesDir, id, 'explanation.md');
  if (existsSync(page)) copyFileSync(page, join(root, 'server/out/rules', `${id}.md`));
}
// Tests live in test/ and in each rule's folder (server/src/rules/<id>/test/).
const testFiles = [...findFiles(join(root, 'test'), '.test.ts'), ...findFiles(rulesDir, '.test.ts')];

await Promise.all([
  build({ ...common, entryPoints: [join(root, 'client/src/extension.ts')], outfile: join(root, 'client/out/extension.js'), external: ['vscode'] }),
  build({ ...common, entryPoints: [join(root, 'server/src/server.ts')], outfile: join(root, 'server/out/server.js') }),
  build({ ...common, entryPoints: [join(root, 'server/src/cli.ts')], outfile: join(root, 'server/out/cli.js'), banner: { js: '#!/usr/bin/env node' } }),
  build({
    ...common,
    entryPoints: [...testFiles, ...findFiles(join(root, 'bench'), '.bench.ts')].map((p) => ({ in: p, out: relative(root, p).replace(/^server\/src\/rules\/([^/]+)\/test\//, 'test/rules/$1/').replace(/\.ts$/, '') })),
    outdir: join(root, 'out'),
    external: ['vscode'],
  }),
]);
