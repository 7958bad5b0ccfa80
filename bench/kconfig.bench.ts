// The Kconfig index and the configuration features on the real 6.12 tree: the index's build time
// (in process, arm64 and every architecture), then through the real server over LSP stdio on the
// O= defconfig build of scripts/build-config-6.12.sh: the first definition (it waits for the index
// the server started in the background), then hover and definition latency once the index exists
// (target: under 50 ms), hover on a list line, inlay hints and faded branches of arch/arm64/Makefile.
// `npm run build && node out/bench/kconfig.bench.js [--write]`
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildKconfigIndex } from '../server/src/kbuild/kconfigIndex';
import { LspClient } from '../test/helpers/lspClient';
import { root } from '../test/helpers/kernelTree';

const RUNS = 100;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
function stats(times: number[]): string {
  const s = [...times].sort((a, b) => a - b);
  return `${percentile(s, 50).toFixed(1)} | ${percentile(s, 95).toFixed(1)} | ${s[s.length - 1].toFixed(1)}`;
}
async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const r = await f();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

async function main(): Promise<void> {
  const tree = execFileSync('bash', [join(root, 'scripts', 'build-config-6.12.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1) as string;
  const rows: string[] = [];
  for (const arch of ['arm64', undefined]) {
    const times: number[] = [];
    let files = 0;
    let entries = 0;
    let partial = 0;
    for (let i = 0; i < 5; i++) {
      const idx = await buildKconfigIndex(tree, arch);
      times.push(idx.ms);
      files = idx.files;
      entries = idx.entries.size;
      partial = idx.partial.length;
    }
    rows.push(
      `| index build, ${arch ?? 'every architecture'} (in process, 5 runs) | ${files} files, ${entries} symbols, ${partial} partial notes | ${stats(times)} |`,
    );
  }
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  try {
    // As VS Code does: a file watcher (so the server caches build lookups between requests).
    const scanned = lsp.waitFor<{ value: { kind: string } }>('$/progress', (p) => p.value.kind === 'end', 300_000);
    await lsp.initialize(
      tree,
      {},
      { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } }, window: { workDoneProgress: true } },
    );
    // The workspace scan for rule files reads every make file once: measure after it.
    await scanned;
    const kvmFile = join(tree, 'arch/arm64/kvm/Makefile');
    const kvmText = readFileSync(kvmFile, 'utf8');
    const uri = lsp.open(kvmFile, kvmText, 'kbuild');
    await lsp.diagnostics(uri, () => true, 120_000);
    const lines = kvmText.split('\n');
    const kvmLine = lines.findIndex((l) => /^obj-\$\(CONFIG_KVM\)/.test(l));
    const ptdumpLine = lines.findIndex((l) => /^kvm-\$\(CONFIG_PTDUMP_STAGE2_DEBUGFS\)/.test(l));
    const onOption = {
      textDocument: { uri },
      position: { line: kvmLine, character: lines[kvmLine].indexOf('CONFIG_KVM') + 3 },
    };
    const [first] = await timed(() => lsp.request('textDocument/definition', onOption, 120_000));
    rows.push(`| first definition after opening (waits for the background index) | 1 | ${first.toFixed(1)} | | |`);
    // Each answer is checked: a fast empty answer would measure nothing.
    const measures: [string, string, unknown, RegExp][] = [
      ['definition of CONFIG_KVM', 'textDocument/definition', onOption, /arch\/arm64\/kvm\/Kconfig/],
      ['hover on CONFIG_KVM (Kconfig entry + value)', 'textDocument/hover', onOption, /menuconfig KVM/],
      [
        'hover on `kvm-$(CONFIG_PTDUMP_STAGE2_DEBUGFS) += ptdump.o` (object fates)',
        'textDocument/hover',
        { textDocument: { uri }, position: { line: ptdumpLine, character: 1 } },
        /ptdump\.o`: not built/,
      ],
    ];
    for (const [label, method, params, expect] of measures) {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const [ms, answer] = await timed(() => lsp.request(method, params));
        if (!expect.test(JSON.stringify(answer)))
          throw new Error(`${label}: unexpected answer ${JSON.stringify(answer).slice(0, 300)}`);
        times.push(ms);
      }
      rows.push(`| ${label} | ${RUNS} | ${stats(times)} |`);
    }
    const armFile = join(tree, 'arch/arm64/Makefile');
    const armText = readFileSync(armFile, 'utf8');
    const armUri = lsp.open(armFile, armText, 'kbuild');
    const [open, pub] = await timed(() => lsp.diagnostics(armUri, () => true, 120_000));
    const faded = pub.diagnostics.filter((d) => d.code === 'inactive-branch').length;
    rows.push(`| open arch/arm64/Makefile to its diagnostics (${faded} faded branches) | 1 | ${open.toFixed(1)} | | |`);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++)
      times.push(
        (
          await timed(() =>
            lsp.request('textDocument/inlayHint', {
              textDocument: { uri: armUri },
              range: { start: { line: 0, character: 0 }, end: { line: 300, character: 0 } },
            }),
          )
        )[0],
      );
    rows.push(`| inlay hints, all of arch/arm64/Makefile | ${RUNS} | ${stats(times)} |`);
  } finally {
    await lsp.stop();
  }
  const table = ['| case | runs | median ms | p95 ms | max ms |', '|---|---|---:|---:|---:|', ...rows].join('\n');
  console.log(table);
  if (process.argv.includes('--write')) {
    const doc = `# Kconfig index and configuration features\n\n\`npm run build && node out/bench/kconfig.bench.js --write\` (bench/kconfig.bench.ts) on Debian's linux-source-6.12\nwith an O= build directory configured by \`make O=out ARCH=arm64 LLVM=-19 defconfig\` and a vDSO build\n(scripts/build-config-6.12.sh). The index rows are in process; the others go through the built server\n(\`node server/out/server.js --stdio\`, initialized with a file watcher as VS Code does, after its workspace scan) and are timed from request to answer. Target: hover and definition\nunder 50 ms once the index exists. Machine: 2 cores shared with other jobs, Node ${process.version}.\n\n${table}\n`;
    writeFileSync(join(root, 'docs', 'BENCHMARKS-kconfig.md'), doc);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
