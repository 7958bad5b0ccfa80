#!/usr/bin/env node
// Soak: 10,000 edits and 1,000 "rebuilds" of a copy of the sample tree through the real server
// (server/out/server.js over stdio; run `npm run build` first). A rebuild rewrites the build's objects
// and .cmd files (alternating the profiled kvm_nvhe.tmp.o with a clean one) and sends
// workspace/didChangeWatchedFiles. Requests (hover, documentSymbol, codeAction, listObjects,
// listSections) run along the way. VmRSS of the server is sampled every --sample edits.
//   node scripts/soak.mjs [--edits 10000] [--rebuilds 1000] [--sample 500] [--seed 1] [--max-growth-mb 50]
// Prints JSON (RSS in MB at start after warm-up, middle, end, peak) and exits 1 when the server died,
// a request failed other than with an LSP error, or RSS grew more than --max-growth-mb after warm-up.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const EDITS = arg('--edits', 10000);
const REBUILDS = arg('--rebuilds', 1000);
const SAMPLE = arg('--sample', 500);
const SEED = arg('--seed', 1);
const MAX_GROWTH_MB = arg('--max-growth-mb', 50);
const WARMUP = Math.min(1000, Math.floor(EDITS / 10));

const out = join(mkdtempSync(join(tmpdir(), 'kbd-soak-')), 'helpers.cjs');
await build({
  entryPoints: [join(root, 'test/reliability/lspHelpers.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  outfile: out,
  logLevel: 'warning',
});
const h = createRequire(import.meta.url)(out);
const { rng } = createRequire(import.meta.url)(
  await (async () => {
    const f = join(out, '..', 'rng.cjs');
    await build({
      stdin: { contents: "export { rng } from './test/reliability/makeFuzzCore';", resolveDir: root, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: f,
      logLevel: 'warning',
    });
    return f;
  })(),
);

const t = h.sampleTree('kbd-soak-tree-');
const clean = readFileSync(join(root, 'test/fixtures/elf/aarch64-hyp.o'));
const files = new Map(readdirSync(t.buildNvhe).map((n) => [n, readFileSync(join(t.buildNvhe, n))]));
const lsp = await h.startServer(t.tree, { watch: true });
const pid = lsp.proc.pid;
const r = rng(SEED);
const docUri = lsp.open(t.makefile, t.text, 'kbuild', 1);
let text = t.text;
let version = 1;
let requests = 0;
let lspErrors = 0;
const samples = [];
const t0 = Date.now();
const sample = (edits) =>
  samples.push({
    edits,
    rebuilds: rebuildsDone,
    rssMb: Math.round(h.rssKb(pid) / 102.4) / 10,
    s: (Date.now() - t0) / 1000,
  });
const ask = async (method, params) => {
  requests++;
  try {
    await lsp.request(method, params, 30_000);
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    lspErrors++;
  }
};
const posOf = (off) => {
  const before = text.slice(0, off);
  const line = before.split('\n').length - 1;
  return { line, character: off - (before.lastIndexOf('\n') + 1) };
};
let rebuildsDone = 0;
const rebuildEvery = Math.max(1, Math.floor(EDITS / REBUILDS));
const INSERTS = [
  'KBUILD_CFLAGS += -fprofile-sample-use=p.prof\n',
  '# comment\n',
  'X = $(X)\n',
  '$(',
  'obj-y += x.o\n',
  'ifeq (a,b)\nendif\n',
];
let failure;
try {
  for (let e = 1; e <= EDITS; e++) {
    // Insert something at a random line start, or remove what an earlier edit inserted: the text stays near its size.
    if (text.length > t.text.length + 2000 || (text !== t.text && r() < 0.45)) {
      lsp.change(docUri, ++version, (text = t.text));
    } else {
      const lines = text.split('\n');
      const l = Math.floor(r() * lines.length);
      const off = lines.slice(0, l).join('\n').length + (l > 0 ? 1 : 0);
      const ins = INSERTS[Math.floor(r() * INSERTS.length)];
      const range = { start: posOf(off), end: posOf(off) };
      text = text.slice(0, off) + ins + text.slice(off);
      lsp.notify('textDocument/didChange', {
        textDocument: { uri: docUri, version: ++version },
        contentChanges: [{ range, text: ins }],
      });
    }
    if (e % 10 === 0) {
      const pos = { line: Math.floor(r() * 80), character: Math.floor(r() * 30) };
      await ask(['textDocument/hover', 'textDocument/documentSymbol', 'textDocument/codeAction'][e % 3], {
        textDocument: { uri: docUri },
        position: pos,
        range: { start: pos, end: pos },
        context: { diagnostics: [] },
      });
    }
    if (e % rebuildEvery === 0 && rebuildsDone < REBUILDS) {
      rebuildsDone++;
      const changes = [];
      for (const [n, buf] of files) {
        const data = n === 'kvm_nvhe.tmp.o' && rebuildsDone % 2 === 0 ? clean : buf;
        writeFileSync(join(t.buildNvhe, n), data);
        changes.push({ uri: h.uri(join(t.buildNvhe, n)), type: 2 });
      }
      lsp.notify('workspace/didChangeWatchedFiles', { changes });
      if (rebuildsDone % 20 === 0) {
        await ask('kbuild/listObjects', { buildUri: h.uri(join(t.tree, 'build')) });
        await ask('kbuild/listSections', { objectUri: h.uri(join(t.buildNvhe, 'kvm_nvhe.tmp.o')) });
      }
    }
    if (e % 100 === 0) await lsp.diagnostics(docUri, (p) => p.version === version, 30_000);
    if (e === WARMUP || e % SAMPLE === 0) sample(e);
  }
  await h.assertAlive(lsp, docUri);
} catch (e) {
  failure = e instanceof Error ? e.message : String(e);
}
const afterWarm = samples.find((s) => s.edits === WARMUP) ?? samples[0];
const end = samples[samples.length - 1];
const mid = samples[Math.floor(samples.length / 2)];
const report = {
  edits: EDITS,
  rebuilds: rebuildsDone,
  requests,
  lspErrors,
  seconds: (Date.now() - t0) / 1000,
  rssMb: {
    afterWarmup: afterWarm?.rssMb,
    mid: mid?.rssMb,
    end: end?.rssMb,
    peak: Math.max(...samples.map((s) => s.rssMb)),
  },
  samples,
  failure: failure ?? null,
};
console.log(JSON.stringify(report, null, 1));
await lsp.stop();
rmSync(t.tree, { recursive: true, force: true });
const grew = end && afterWarm ? end.rssMb - afterWarm.rssMb : 0;
if (failure || grew > MAX_GROWTH_MB) {
  console.error(`soak: ${failure ?? `RSS grew ${grew} MB after warm-up (limit ${MAX_GROWTH_MB})`}`);
  process.exit(1);
}
