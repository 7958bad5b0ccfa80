// Edit-to-diagnostics latency of the nvhe rule through the real server over LSP stdio:
// time from didChange on the nvhe Makefile to the publishDiagnostics for that version, 200 edits,
// with the debounce set to 0, with and without a build directory (the sample tree's build/).
// `npm run build && node out/bench/latency.bench.js [--write]`
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient } from '../test/helpers/lspClient';
import { root } from '../test/helpers/kernelTree';

const EDITS = 200;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(withBuild: boolean): Promise<{ median: number; p95: number; max: number; severity: number | undefined }> {
  const tree = mkdtempSync(join(tmpdir(), 'kbd-latency-'));
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  if (!withBuild) rmSync(join(tree, 'build'), { recursive: true, force: true });
  const makefile = join(tree, 'arch/arm64/kvm/hyp/nvhe/Makefile');
  const text = readFileSync(makefile, 'utf8');
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  try {
    await lsp.initialize(tree);
    const uri = lsp.open(makefile, text, 'kbuild', 1);
    const first = await lsp.diagnostics(uri, (p) => p.version === 1);
    const severity = first.diagnostics.find((d) => d.code === 'nvhe-profile-metadata')?.severity;
    const times: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      const version = i + 2;
      // A realistic edit: the user types in a comment line; the verdict stays the same.
      const edited = text + `# edit ${i}\n`;
      const start = process.hrtime.bigint();
      const done = lsp.diagnostics(uri, (p) => p.version === version);
      lsp.change(uri, version, edited);
      await done;
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    return { median: percentile(times, 50), p95: percentile(times, 95), max: times[times.length - 1], severity };
  } finally {
    await lsp.stop();
    rmSync(tree, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const withBuild of [false, true]) {
    const r = await measure(withBuild);
    rows.push(`| ${withBuild ? 'with build directory (objects + .cmd files read, cached)' : 'Makefile alone (no build directory)'} | ${EDITS} | ${r.median.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.max.toFixed(2)} | ${r.severity === 1 ? 'error' : r.severity === 2 ? 'warning' : String(r.severity)} |`);
  }
  const table = [
    '| case | edits | median ms | p95 ms | max ms | diagnostic |',
    '|---|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
  console.log(table);
  if (process.argv.includes('--write')) {
    const doc = `# Edit-to-diagnostics latency\n\n\`npm run build && node out/bench/latency.bench.js --write\` (bench/latency.bench.ts): the built server\n(\`node server/out/server.js --stdio\`) on a copy of the sample tree, debounce 0\n(\`KBUILD_DIAGNOSTICS_DEBOUNCE_MS=0\`), ${EDITS} \`didChange\` notifications on the nvhe Makefile, each timed until the\n\`publishDiagnostics\` for its version. Target: p95 under 20 ms. Machine: 2 cores, Node ${process.version}.\n\n${table}\n\nThe shipped debounce is 150 ms (\`kbuildDiagnostics.debounceMs\`): analysis itself is far below it, so\nthe delay only merges a burst of keystrokes into one analysis and stays under the ~200 ms at which\na reaction stops feeling immediate.\n`;
    writeFileSync(join(root, 'docs', 'BENCHMARKS-lsp.md'), doc);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
