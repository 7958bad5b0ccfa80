// Benchmark of `kbuild-diagnostics sections` against llvm-readelf-19 and GNU readelf on the same files,
// side by side in one run (each run of each tool interleaved with the others, medians reported):
//  - section tables (-S): a generated >= 300 MB object, the 65,405-section fixture, generated 70,004- and
//    200,000-section objects (bench/genElf.ts, as vmlinux.o with -ffunction-sections), every ELF fixture;
//  - start-up: `sections` on a small object vs a bare `node -e 0`;
//  - relocations: `sections --relocs` and `sections --json --relocs` on a generated object with 10 million
//    relocations, streamed into a hash (never held), vs `llvm-readelf -r`;
//  - with --before CLI.js, the same commands with an older build of the CLI (e.g. main's), in the same run.
// Wall time, peak RSS (/usr/bin/time -v), bytes read vs the minimum. Writes BENCHMARKS-elf.md.
//   npm run build && node out/bench/elf.bench.js [--runs N] [--size-mb N] [--relocs N] [--before OLD/cli.js [--before-relocs]]
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  ftruncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readObjectFile, readObjectTable } from '../server/src/elf/reader';
import { openFileSource } from '../server/src/elf/source';
import { manyRelocsElf, manySectionsElf } from './genElf';
import { formatSectionTable, formatSectionTableBytes } from '../server/src/elf/format';
import { findLlvmReadelf, findTool } from '../test/helpers/hostTools';
import { buildElf } from '../server/src/elf/writer';

function repoRoot(): string {
  for (const c of [join(__dirname, '..', '..'), join(__dirname, '..')])
    if (existsSync(join(c, 'package.json'))) return c;
  return process.cwd();
}

/** header + 300+ MB PROGBITS section (sparse) + .shstrtab + section header table, written without holding it in memory. */
function makeBigElf(path: string, sizeMb: number): void {
  const big = BigInt(sizeMb) * 1024n * 1024n;
  const small = buildElf({
    sections: [
      { name: '.text', type: 1, flags: 6n, data: Buffer.alloc(16) },
      { name: '.data.huge', type: 1, flags: 3n, data: Buffer.alloc(0) },
      { name: '.bss', type: 8, flags: 3n, size: 4096n },
    ],
  });
  // Move everything after the ELF header (.text data, .shstrtab, table) behind the huge section.
  const shoff = Number(small.readBigUInt64LE(40));
  const shnum = small.readUInt16LE(60);
  const tailStart = 64;
  const shift = 64n + big;
  const tail = Buffer.from(small.subarray(tailStart));
  for (let i = 0; i < shnum; i++) {
    const h = shoff - tailStart + i * 64;
    const off = tail.readBigUInt64LE(h + 24);
    if (off !== 0n) tail.writeBigUInt64LE(off - 64n + shift, h + 24);
  }
  const huge = shoff - tailStart + 2 * 64; // section 2: .data.huge
  tail.writeBigUInt64LE(64n, huge + 24);
  tail.writeBigUInt64LE(big, huge + 32);
  const head = Buffer.from(small.subarray(0, 64));
  head.writeBigUInt64LE(BigInt(shoff - 64) + shift, 40);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head, 0, 64, 0);
    ftruncateSync(fd, Number(shift));
    writeSync(fd, tail, 0, tail.length, Number(shift));
  } finally {
    closeSync(fd);
  }
}

interface Measure {
  ms: number;
  /** Median user + system CPU time (from /usr/bin/time -v, 10 ms resolution): less disturbed than wall time by other work waiting for the same cores. */
  cpuMs: number | undefined;
  rssKb: number | undefined;
  stdout: string;
  ok: boolean;
}

const timeV = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Cmd {
  cmd: string;
  args: string[];
}

/** Runs every command `runs` times, interleaved (a, b, c, a, b, c, ...), so load changes hit all alike. */
function measureSide(cmds: (Cmd | undefined)[], runs: number): (Measure | undefined)[] {
  const times: number[][] = cmds.map(() => []);
  const cpu: number[][] = cmds.map(() => []);
  const res: (Measure | undefined)[] = cmds.map((c) =>
    c ? { ms: 0, cpuMs: undefined, rssKb: undefined, stdout: '', ok: true } : undefined,
  );
  for (let i = 0; i < runs; i++) {
    cmds.forEach((c, k) => {
      const m = res[k];
      if (!c || !m) return;
      const t0 = process.hrtime.bigint();
      const r = timeV
        ? spawnSync(timeV, ['-v', c.cmd, ...c.args], { encoding: 'utf8', maxBuffer: 256 << 20 })
        : spawnSync(c.cmd, c.args, { encoding: 'utf8', maxBuffer: 256 << 20 });
      times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
      m.ok = m.ok && r.status === 0;
      m.stdout = r.stdout;
      const x = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
      if (x) m.rssKb = Math.max(m.rssKb ?? 0, Number(x[1]));
      const u = /User time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
      const sy = /System time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
      if (u && sy) cpu[k].push((Number(u[1]) + Number(sy[1])) * 1000);
    });
  }
  res.forEach((m, k) => {
    if (!m) return;
    const t = times[k].sort((a, b) => a - b);
    m.ms = t[Math.floor(t.length / 2)];
    if (cpu[k].length) m.cpuMs = median(cpu[k]);
  });
  return res;
}

/** One run with stdout streamed into a SHA-256 (outputs of several GB are never held). */
function measureStream(
  c: Cmd,
): Promise<{ ms: number; rssKb: number | undefined; sha: string; bytes: number; tail: string; ok: boolean }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = timeV ? spawn(timeV, ['-v', c.cmd, ...c.args]) : spawn(c.cmd, c.args);
    const h = createHash('sha256');
    let bytes = 0;
    let tail = Buffer.alloc(0);
    let err = '';
    p.stdout.on('data', (b: Buffer) => {
      h.update(b);
      bytes += b.length;
      tail = Buffer.concat([tail, b]).subarray(-200);
    });
    p.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    p.on('error', reject);
    p.on('close', (code) => {
      const x = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      resolve({
        ms: Number(process.hrtime.bigint() - t0) / 1e6,
        rssKb: x ? Number(x[1]) : undefined,
        sha: h.digest('hex'),
        bytes,
        tail: tail.toString('utf8'),
        ok: code === 0,
      });
    });
  });
}

const fmtMs = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const fmtMb = (kb: number | undefined): string => (kb === undefined ? 'n/a' : (kb / 1024).toFixed(1));
const fmtSize = (n: number): string =>
  n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratio = (a: number, b: number): string => (a / b).toFixed(2);

/** In-process: what the CLI does (raw table, bytes out) and the ElfSection path the editor uses; warm medians. */
async function inProcess(file: string, runs: number): Promise<{ cli: number; objects: number }> {
  const cli: number[] = [];
  const objects: number[] = [];
  for (let i = 0; i < Math.max(runs, 5); i++) {
    let t0 = process.hrtime.bigint();
    const src = await openFileSource(file);
    try {
      const o = await readObjectTable(src);
      if (o.kind === 'elf-table') formatSectionTableBytes(o.table, file, {}, () => undefined);
    } finally {
      await src.close();
    }
    cli.push(Number(process.hrtime.bigint() - t0) / 1e6);
    t0 = process.hrtime.bigint();
    const obj = await readObjectFile(file);
    if (obj.kind === 'elf') formatSectionTable(obj.elf, file);
    objects.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { cli: median(cli), objects: median(objects) };
}

async function bench(): Promise<void> {
  const runs = Number(arg('--runs') ?? 5);
  const sizeMb = Number(arg('--size-mb') ?? 320);
  const relocCount = Number(arg('--relocs') ?? 10_000_000);
  const before = arg('--before');
  const root = repoRoot();
  const cli = join(root, 'server', 'out', 'cli.js');
  const fixtures = join(root, 'test', 'fixtures', 'elf');
  const tmp = mkdtempSync(join(tmpdir(), 'kbd-elf-bench-'));
  const llvm = findLlvmReadelf();
  const gnu = findTool(['readelf']);
  const node = process.execPath;
  const targets: string[] = [];
  try {
    const bigPath = join(tmp, `big-${sizeMb}MB.o`);
    makeBigElf(bigPath, sizeMb);
    const many = join(tmp, 'many-sections.o');
    writeFileSync(many, gunzipSync(readFileSync(join(fixtures, 'many-sections.o.gz'))));
    const s70k = join(tmp, 'sections-70004.o');
    manySectionsElf(s70k, 70004);
    const s200k = join(tmp, 'sections-200000.o');
    manySectionsElf(s200k, 200000);
    const files = [
      bigPath,
      many,
      s70k,
      s200k,
      ...readdirSync(fixtures)
        .filter((f) => f.endsWith('.o') && !['bitcode.o', 'empty.o'].includes(f))
        .sort()
        .map((f) => join(fixtures, f)),
    ];
    const rows: string[] = [];
    let worstRatio = 0;
    let mismatches = 0;
    for (const file of files) {
      const obj = await readObjectFile(file);
      if (obj.kind !== 'elf') continue;
      const e = obj.elf;
      const min =
        (e.class === 64 ? 64 : 52) +
        e.sections.length * (e.class === 64 ? 64 : 40) +
        (e.shstrndx ? Number(e.sections[e.shstrndx].size) : 0);
      const readRatio = obj.bytesRead / min;
      worstRatio = Math.max(worstRatio, readRatio);
      const inproc = await inProcess(file, runs);
      const big = e.sections.length > 1000;
      const [ours, old, l, g] = measureSide(
        [
          { cmd: node, args: [cli, 'sections', file] },
          before ? { cmd: node, args: [before, 'sections', file] } : undefined,
          llvm ? { cmd: llvm, args: ['-S', file] } : undefined,
          gnu ? { cmd: gnu, args: ['-S', '-W', file] } : undefined,
        ],
        big ? runs : Math.min(runs, 3),
      );
      if (!ours) throw new Error('unreachable');
      const same = l ? (l.stdout === ours.stdout ? 'yes' : 'NO') : 'n/a';
      if (same === 'NO') mismatches++;
      rows.push(
        `| ${basename(file)} | ${fmtSize(statSync(file).size)} | ${e.sections.length} | ${fmtMs(inproc.cli)} | ${fmtMs(inproc.objects)} | ${fmtMs(ours.ms)} | ${old ? fmtMs(old.ms) : 'n/a'} | ${l ? fmtMs(l.ms) : 'n/a'} | ${l ? ratio(ours.ms, l.ms) : 'n/a'} | ${g ? fmtMs(g.ms) : 'n/a'} | ${fmtMb(ours.rssKb)} | ${old ? fmtMb(old.rssKb) : 'n/a'} | ${l ? fmtMb(l.rssKb) : 'n/a'} | ${g ? fmtMb(g.rssKb) : 'n/a'} | ${obj.bytesRead} | ${min} | ${readRatio.toFixed(3)} | ${same} |`,
      );
      if (file === s70k) {
        targets.push(
          `| \`sections\` on 70,004 sections vs llvm-readelf -S | ${fmtMs(ours.ms)} ms vs ${l ? fmtMs(l.ms) : 'n/a'} ms (${l ? ratio(ours.ms, l.ms) : 'n/a'}x)${old ? `; before: ${fmtMs(old.ms)} ms` : ''} | no slower (<= 1.00x) | ${l && ours.ms <= l.ms ? 'met' : 'NOT met'} |`,
        );
        targets.push(
          `| \`sections\` on 70,004 sections, peak RSS | ${fmtMb(ours.rssKb)} MiB${old ? `; before: ${fmtMb(old.rssKb)} MiB` : ''} | < 80 MiB | ${(ours.rssKb ?? Infinity) < 80 * 1024 ? 'met' : 'NOT met'} |`,
        );
        targets.push(
          `| \`sections\` on 70,004 sections in process (warm) | ${fmtMs(inproc.cli)} ms (ElfSection path: ${fmtMs(inproc.objects)} ms) | < 50 ms | ${inproc.cli < 50 ? 'met' : 'NOT met'} |`,
        );
      }
      if (file === s200k)
        targets.push(
          `| \`sections\` on 200,000 sections vs llvm-readelf -S | ${fmtMs(ours.ms)} ms vs ${l ? fmtMs(l.ms) : 'n/a'} ms (${l ? ratio(ours.ms, l.ms) : 'n/a'}x), ${fmtMb(ours.rssKb)} MiB vs ${l ? fmtMb(l.rssKb) : 'n/a'} MiB | (generated case, no target) | - |`,
        );
    }

    // Start-up: a small object vs a bare Node, interleaved, many runs.
    const small = join(fixtures, 'aarch64-clean.o');
    const startRuns = Math.max(21, runs * 4);
    const [bare, start, startOld] = measureSide(
      [
        { cmd: node, args: ['-e', '0'] },
        { cmd: node, args: [cli, 'sections', small] },
        before ? { cmd: node, args: [before, 'sections', small] } : undefined,
      ],
      startRuns,
    );
    if (!bare || !start) throw new Error('unreachable');
    const cpuRatio = start.cpuMs !== undefined && bare.cpuMs ? start.cpuMs / bare.cpuMs : undefined;
    targets.push(
      `| \`sections\` on a small object vs \`node -e 0\` | wall ${fmtMs(start.ms)} ms vs ${fmtMs(bare.ms)} ms (${ratio(start.ms, bare.ms)}x)${startOld ? `, before ${ratio(startOld.ms, bare.ms)}x` : ''}; CPU ${start.cpuMs ?? 'n/a'} ms vs ${bare.cpuMs ?? 'n/a'} ms (${cpuRatio?.toFixed(2) ?? 'n/a'}x)${startOld?.cpuMs !== undefined && bare.cpuMs ? `, before ${(startOld.cpuMs / bare.cpuMs).toFixed(2)}x` : ''} | <= 1.25x | wall: ${start.ms <= bare.ms * 1.25 ? 'met' : 'NOT met'}; CPU: ${cpuRatio !== undefined && cpuRatio <= 1.25 ? 'met' : 'NOT met'} |`,
    );

    // Relocations: one run each, outputs hashed as they stream.
    const relocRows: string[] = [];
    if (relocCount > 0) {
      const rfile = join(tmp, `relocs-${relocCount}.o`);
      manyRelocsElf(rfile, relocCount);
      const cases: [string, Cmd | undefined][] = [
        ['ours `sections --relocs`', { cmd: node, args: [cli, 'sections', '--relocs', rfile] }],
        ['llvm-readelf -S -r', llvm ? { cmd: llvm, args: ['-S', '-r', rfile] } : undefined],
        ['ours `sections --json --relocs`', { cmd: node, args: [cli, 'sections', '--json', '--relocs', rfile] }],
        // The old build holds the whole document in memory and takes minutes to fail: only on request.
        [
          'before `sections --json --relocs`',
          before && process.argv.includes('--before-relocs')
            ? { cmd: node, args: [before, 'sections', '--json', '--relocs', rfile] }
            : undefined,
        ],
      ];
      const got: Record<
        string,
        { ms: number; rssKb: number | undefined; sha: string; bytes: number; tail: string; ok: boolean }
      > = {};
      for (const [label, c] of cases) {
        if (!c) continue;
        const m = await measureStream(c);
        got[label] = m;
        relocRows.push(
          `| ${label} | ${m.ok ? 'yes' : 'no (exit ≠ 0)'} | ${(m.ms / 1000).toFixed(1)} | ${fmtMb(m.rssKb)} | ${(m.bytes / (1 << 20)).toFixed(0)} | ${m.sha.slice(0, 12)} |`,
        );
      }
      const text = got['ours `sections --relocs`'];
      const ref = got['llvm-readelf -S -r'];
      const js = got['ours `sections --json --relocs`'];
      if (ref && text.sha !== ref.sha) mismatches++;
      const jsonOk = js.ok && js.tail.endsWith('\n        ]\n      }\n    ]\n  }\n]\n');
      targets.push(
        `| \`sections --json --relocs\` on ${relocCount.toLocaleString('en-US')} relocations | ${jsonOk ? 'answers' : 'FAILS'}: ${(js.ms / 1000).toFixed(1)} s, ${fmtMb(js.rssKb)} MiB peak for ${(js.bytes / (1 << 20)).toFixed(0)} MiB of JSON | answers, streamed, bounded memory | ${jsonOk && (js.rssKb ?? Infinity) < 512 * 1024 ? 'met' : 'NOT met'} |`,
      );
      relocRows.push(
        '',
        `Text output of ours ${ref ? (text.sha === ref.sha ? 'is byte-identical to' : 'DIFFERS from') : 'was not compared with'} llvm-readelf -S -r (SHA-256 of the streamed output).`,
      );
    }

    const nodeVersion = process.version;
    const md = [
      '# ELF reader benchmark',
      '',
      `Generated by \`node out/bench/elf.bench.js\` (bench/elf.bench.ts) on ${new Date().toISOString().slice(0, 10)}; section tables: ${runs} runs per tool on the large files (3 on the small ones), interleaved, median wall time.`,
      `Machine: ${process.platform} ${process.arch}, 2 cores shared with other work, Node ${nodeVersion}; tools: ${llvm ?? 'no llvm-readelf'}, ${gnu ? 'GNU readelf' : 'no GNU readelf'}; peak RSS from ${timeV ? '/usr/bin/time -v' : 'n/a'}.${before ? ` "before" = \`${basename(before)}\` built from the code before this work, run in the same loop.` : ''}`,
      '',
      '## Targets (issue 14)',
      '',
      '| target | measured (this run) | goal | |',
      '|---|---|---|---|',
      ...targets,
      '',
      '## Section tables (`sections FILE` vs `llvm-readelf -S FILE` vs `readelf -S -W FILE`)',
      '',
      '- **in-proc ms**: inside a warm Node process, what the CLI does (read the raw header table, format bytes); **ElfSection ms**: readObjectFile + formatSectionTable, the path the editor uses.',
      '- **ours ms / RSS**: a fresh `node server/out/cli.js sections FILE` (Node start-up included); **vs llvm**: ours / llvm-readelf.',
      '- **read / min**: bytes we read vs. the minimum (ELF header + section header table + section name table); target <= 2x.',
      '- **same**: our text is byte-identical to `llvm-readelf -S`.',
      `- Generated in a temp dir: the ${sizeMb} MB object (sparse: header, one ${sizeMb} MB PROGBITS section, table at the end) and the 70,004/200,000-section objects (bench/genElf.ts: .text.<fn>/.rela.text.<fn> pairs, .data.*, .bss.*, extended section numbering).`,
      '',
      '| file | size | sections | in-proc ms | ElfSection ms | ours ms | before ms | llvm-readelf ms | vs llvm | GNU readelf ms | ours RSS MB | before RSS MB | llvm-readelf RSS MB | GNU readelf RSS MB | bytes read | minimum | read/min | same |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|',
      ...rows,
      '',
      `Worst read/min ratio: ${worstRatio.toFixed(3)} (target <= 2). Output mismatches vs llvm-readelf: ${mismatches}.`,
      '',
      `## Start-up (${startRuns} interleaved runs, median)`,
      '',
      '| command | wall ms | CPU ms (user + sys) | RSS MB |',
      '|---|---:|---:|---:|',
      `| \`node -e 0\` | ${fmtMs(bare.ms)} | ${bare.cpuMs ?? 'n/a'} | ${fmtMb(bare.rssKb)} |`,
      `| \`node server/out/cli.js sections aarch64-clean.o\` | ${fmtMs(start.ms)} (${ratio(start.ms, bare.ms)}x) | ${start.cpuMs ?? 'n/a'} (${cpuRatio?.toFixed(2) ?? 'n/a'}x) | ${fmtMb(start.rssKb)} |`,
      ...(startOld
        ? [
            `| before: same command | ${fmtMs(startOld.ms)} (${ratio(startOld.ms, bare.ms)}x) | ${startOld.cpuMs ?? 'n/a'}${startOld.cpuMs !== undefined && bare.cpuMs ? ` (${(startOld.cpuMs / bare.cpuMs).toFixed(2)}x)` : ''} | ${fmtMb(startOld.rssKb)} |`,
          ]
        : []),
      '',
      ...(relocCount > 0
        ? [
            `## ${relocCount.toLocaleString('en-US')} relocations (one run each; output streamed into a SHA-256 by the benchmark)`,
            '',
            '| command | exit 0 | s | peak RSS MB | output MiB | sha256 |',
            '|---|:-:|---:|---:|---:|---|',
            ...relocRows,
            '',
          ]
        : []),
    ].join('\n');
    process.stdout.write(md);
    if (process.argv.includes('--write')) writeFileSync(join(root, 'docs', 'BENCHMARKS-elf.md'), md);
    if (worstRatio > 2 || mismatches > 0) process.exitCode = 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

bench().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
