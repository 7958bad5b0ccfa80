// Benchmark of the section explorer through the real server (LSP over stdio) on generated build
// trees with 20,000 objects (hard links of clang-19 fixture objects in a temp dir).
//   npm run build && node out/bench/explorer.bench.js [--objects N] [--write]
// --write replaces the results table in BENCHMARKS-explorer.md.
import {
  cpSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspClient } from '../test/helpers/lspClient';
import { root } from '../test/helpers/kernelTree';
import type { BuildDirectoryInfo, ObjectInfo, SectionInfo } from '../server/src/lspExt';

const args = process.argv.slice(2);
const N =
  Number(args[args.indexOf('--objects') + 1]) > 0 && args.includes('--objects')
    ? Number(args[args.indexOf('--objects') + 1])
    : 20_000;
const NVHE = join('arch', 'arm64', 'kvm', 'hyp', 'nvhe');
const uri = (p: string) => pathToFileURL(p).toString();

interface Row {
  scenario: string;
  buildDirsMs: number;
  firstListObjectsMs: number;
  listed: number;
  truncated: number;
  listSectionsMs: number;
  concurrentMs?: number;
  peakRssMiB: number;
}

/** The sample tree plus N object hard links laid out by `place(i)` (a path relative to build/). */
function makeTree(base: string, name: string, place: (i: number) => string, moveNvhe?: string): string {
  const tree = join(base, name);
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  const src = join(tree, 'build', 'bench-src.o');
  cpSync(join(root, 'test', 'fixtures', 'elf', 'aarch64-hyp-profile.o'), src);
  const made = new Set<string>();
  for (let i = 0; i < N; i++) {
    const rel = place(i);
    const dir = join(tree, 'build', rel, '..');
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    linkSync(src, join(tree, 'build', rel));
  }
  rmSync(src);
  if (moveNvhe) {
    mkdirSync(join(tree, 'build', moveNvhe, '..'), { recursive: true });
    renameSync(join(tree, 'build', NVHE), join(tree, 'build', moveNvhe));
  }
  return tree;
}

function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

async function measure(scenario: string, tree: string, probeObject: string): Promise<Row> {
  const client = new LspClient();
  try {
    await client.initialize(tree);
    const t0 = performance.now();
    const dirs = await client.request<{ builds: BuildDirectoryInfo[] }>('kbuild/listBuildDirectories', {}, 120_000);
    const buildDirsMs = performance.now() - t0;
    const build = dirs.builds.find((b) => b.uri === uri(join(tree, 'build')));
    if (!build) throw new Error(`${scenario}: build/ not found`);
    const t1 = performance.now();
    // A cheap request sent while the listing may still run: how long does it wait?
    const concurrent = client
      .request('kbuild/listSections', { objectUri: uri(probeObject) }, 120_000)
      .then(() => performance.now() - t1);
    // The server answers ContentModified when it found a rule's Makefile mid-listing (the panel
    // then asks again on kbuild/buildChanged): ask again, as the panel does.
    const listObjects = () =>
      client.request<{ objects: ObjectInfo[]; truncated?: number }>(
        'kbuild/listObjects',
        { buildUri: build.uri },
        120_000,
      );
    let objs: { objects: ObjectInfo[]; truncated?: number } | undefined;
    for (let attempt = 0; !objs; attempt++) {
      objs = await listObjects().catch((e: unknown) => {
        if (attempt < 5 && String(e).includes('the build changed')) return undefined;
        throw e;
      });
    }
    const firstListObjectsMs = performance.now() - t0;
    const concurrentMs = await concurrent;
    const tmpObj = objs.objects.find((o) => o.stage === 'tmp') ?? objs.objects[0];
    const t2 = performance.now();
    await client.request<{ sections: SectionInfo[] }>('kbuild/listSections', { objectUri: tmpObj.uri }, 120_000);
    const listSectionsMs = performance.now() - t2;
    return {
      scenario,
      buildDirsMs,
      firstListObjectsMs,
      listed: objs.objects.length,
      truncated: objs.truncated ?? 0,
      listSectionsMs,
      concurrentMs,
      peakRssMiB: peakRssMiB(client.proc.pid ?? 0),
    };
  } finally {
    await client.stop();
  }
}

async function main(): Promise<void> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'kbd-explorer-bench-')));
  const rows: Row[] = [];
  try {
    const tg = performance.now();
    // 1. Kernel-shaped: N objects in 200 directories, the nvhe pipeline where Kbuild puts it.
    const spread = makeTree(base, 'spread', (i) => join('drivers', `d${String(i % 200).padStart(3, '0')}`, `f${i}.o`));
    // 2. No nvhe directory at the usual place: the explorer walks the whole tree by Kbuild names.
    const walk = makeTree(
      base,
      'walk',
      (i) => join('drivers', `d${String(i % 200).padStart(3, '0')}`, `f${i}.o`),
      join('zz', 'elsewhere', 'nvhe'),
    );
    // 3. Worst case: all N objects are hyp objects in the nvhe directory (listing capped).
    const dense = makeTree(base, 'dense', (i) => join(NVHE, `h${i}.nvhe.o`));
    console.log(`generated 3 trees of ${N} objects in ${((performance.now() - tg) / 1000).toFixed(1)} s`);
    rows.push(
      await measure(
        `spread: ${N} objects in 200 dirs, nvhe dir in place`,
        spread,
        join(spread, 'build', NVHE, 'kvm_nvhe.tmp.o'),
      ),
    );
    rows.push(
      await measure(
        `walk: ${N} objects, nvhe dir elsewhere (full walk)`,
        walk,
        join(walk, 'build', 'zz', 'elsewhere', 'nvhe', 'kvm_nvhe.tmp.o'),
      ),
    );
    rows.push(
      await measure(`dense: ${N} *.nvhe.o in the nvhe dir`, dense, join(dense, 'build', NVHE, 'kvm_nvhe.tmp.o')),
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  const f = (n: number | undefined) => (n === undefined ? '' : n.toFixed(0));
  const table = [
    '| Scenario | listBuildDirectories (ms) | first listObjects (ms, from start) | objects listed | truncated | listSections tmp.o (ms) | concurrent listSections (ms) | server peak RSS (MiB) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${f(r.buildDirsMs)} | ${f(r.firstListObjectsMs)} | ${r.listed} | ${r.truncated} | ${f(r.listSectionsMs)} | ${f(r.concurrentMs)} | ${r.peakRssMiB} |`,
    ),
  ].join('\n');
  console.log(table);
  if (args.includes('--write')) {
    const file = join(root, 'docs', 'BENCHMARKS-explorer.md');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = '';
    }
    const start = text.indexOf('<!-- results -->');
    const end = text.indexOf('<!-- /results -->');
    if (start >= 0 && end > start) text = `${text.slice(0, start)}<!-- results -->\n${table}\n${text.slice(end)}`;
    else text += `\n<!-- results -->\n${table}\n<!-- /results -->\n`;
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
