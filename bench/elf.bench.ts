// Benchmark of the ELF section reader against llvm-readelf-19 -S and GNU readelf -S on the same files:
// a generated >= 300 MB ELF object (valid header, one large PROGBITS section, table at the end), the
// 65,405-section fixture and every ELF fixture. Wall time (median of runs), peak RSS of a child process
// (/usr/bin/time -v; ours runs as `node elf.bench.js --child FILE`), and bytes read by us vs the minimum
// (ELF header + section header table + section name table). Prints a Markdown table and writes
// BENCHMARKS-elf.md at the repository root.
//   npm run build && node out/bench/elf.bench.js [--runs N] [--size-mb N]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readObjectFile } from '../server/src/elf/reader';
import { formatSectionTable } from '../server/src/elf/format';
import { findLlvmReadelf, findTool } from '../test/helpers/hostTools';
import { buildElf } from '../server/src/elf/writer';

function repoRoot(): string {
  for (const c of [join(__dirname, '..', '..'), join(__dirname, '..')]) if (existsSync(join(c, 'package.json'))) return c;
  return process.cwd();
}

async function child(file: string): Promise<void> {
  const obj = await readObjectFile(file);
  if (obj.kind !== 'elf') throw new Error(`${file}: not ELF`);
  process.stdout.write(formatSectionTable(obj.elf, file));
}

/** header + 300+ MB PROGBITS section (sparse) + .shstrtab + section header table, written without holding it in memory. */
function makeBigElf(path: string, sizeMb: number): void {
  const big = BigInt(sizeMb) * 1024n * 1024n;
  const small = buildElf({ sections: [{ name: '.text', type: 1, flags: 6n, data: Buffer.alloc(16) }, { name: '.data.huge', type: 1, flags: 3n, data: Buffer.alloc(0) }, { name: '.bss', type: 8, flags: 3n, size: 4096n }] });
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
  rssKb: number | undefined;
  stdout: string;
  ok: boolean;
}

const timeV = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function measure(cmd: string, args: string[], runs: number): Measure {
  const times: number[] = [];
  let rss: number | undefined;
  let stdout = '';
  let ok = true;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = timeV ? spawnSync(timeV, ['-v', cmd, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 }) : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    ok = ok && r.status === 0;
    stdout = r.stdout;
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
    if (m) rss = Math.max(rss ?? 0, Number(m[1]));
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], rssKb: rss, stdout, ok };
}

const fmtMs = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const fmtMb = (kb: number | undefined): string => (kb === undefined ? 'n/a' : (kb / 1024).toFixed(1));
const fmtSize = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

async function bench(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
  const sizeArg = process.argv.indexOf('--size-mb');
  const sizeMb = sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : 320;
  const root = repoRoot();
  const fixtures = join(root, 'test', 'fixtures', 'elf');
  const tmp = mkdtempSync(join(tmpdir(), 'kbd-elf-bench-'));
  const llvm = findLlvmReadelf();
  const gnu = findTool(['readelf']);
  try {
    const bigPath = join(tmp, `big-${sizeMb}MB.o`);
    makeBigElf(bigPath, sizeMb);
    const many = join(tmp, 'many-sections.o');
    writeFileSync(many, gunzipSync(readFileSync(join(fixtures, 'many-sections.o.gz'))));
    const files = [bigPath, many, ...readdirSync(fixtures).filter((f) => f.endsWith('.o') && !['bitcode.o', 'empty.o'].includes(f)).sort().map((f) => join(fixtures, f))];
    const rows: string[] = [];
    let worstRatio = 0;
    let mismatches = 0;
    for (const file of files) {
      const obj = await readObjectFile(file);
      if (obj.kind !== 'elf') continue;
      const e = obj.elf;
      const min = (e.class === 64 ? 64 : 52) + e.sections.length * (e.class === 64 ? 64 : 40) + (e.shstrndx ? Number(e.sections[e.shstrndx].size) : 0);
      const ratio = obj.bytesRead / min;
      worstRatio = Math.max(worstRatio, ratio);
      // In-process: warm, median of runs.
      const inproc: number[] = [];
      for (let i = 0; i < Math.max(runs, 3); i++) {
        const t0 = process.hrtime.bigint();
        const o = await readObjectFile(file);
        if (o.kind === 'elf') formatSectionTable(o.elf, file);
        inproc.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      inproc.sort((a, b) => a - b);
      const ours = measure(process.execPath, [__filename, '--child', file], runs);
      const l = llvm ? measure(llvm, ['-S', file], runs) : undefined;
      const g = gnu ? measure(gnu, ['-S', '-W', file], runs) : undefined;
      const same = l ? (l.stdout === ours.stdout ? 'yes' : 'NO') : 'n/a';
      if (same === 'NO') mismatches++;
      rows.push(
        `| ${basename(file)} | ${fmtSize(statSync(file).size)} | ${e.sections.length} | ${fmtMs(inproc[Math.floor(inproc.length / 2)])} | ${fmtMs(ours.ms)} | ${l ? fmtMs(l.ms) : 'n/a'} | ${g ? fmtMs(g.ms) : 'n/a'} | ${fmtMb(ours.rssKb)} | ${l ? fmtMb(l.rssKb) : 'n/a'} | ${g ? fmtMb(g.rssKb) : 'n/a'} | ${obj.bytesRead} | ${min} | ${ratio.toFixed(3)} | ${same} |`,
      );
    }
    const nodeBaseline = measure(process.execPath, ['-e', '0'], runs);
    const md = [
      '# ELF reader benchmark',
      '',
      `Generated by \`node out/bench/elf.bench.js\` (bench/elf.bench.ts) on ${new Date().toISOString().slice(0, 10)}, ${runs} runs per tool (median wall time).`,
      `Machine: ${process.platform} ${process.arch}, Node ${process.version}; tools: ${llvm ?? 'no llvm-readelf'}, ${gnu ? 'GNU readelf' : 'no GNU readelf'}; peak RSS from ${timeV ? '/usr/bin/time -v' : 'n/a'}.`,
      '',
      '- **in-proc ms**: readObjectFile + formatSectionTable inside a warm Node process.',
      '- **ours ms / RSS**: a fresh `node elf.bench.js --child FILE` process (Node start-up included; a bare `node -e 0` takes ' + `${fmtMs(nodeBaseline.ms)} ms and ${fmtMb(nodeBaseline.rssKb)} MB).`,
      '- **read / min**: bytes we read vs. the minimum (ELF header + section header table + section name table); target <= 2x.',
      '- **same**: our text is byte-identical to `llvm-readelf -S`.',
      `- The ${sizeMb} MB object is generated in a temp dir (sparse file: header, one ${sizeMb} MB PROGBITS section, table at the end).`,
      '',
      '| file | size | sections | in-proc ms | ours ms | llvm-readelf ms | GNU readelf ms | ours RSS MB | llvm-readelf RSS MB | GNU readelf RSS MB | bytes read | minimum | read/min | same |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|',
      ...rows,
      '',
      `Worst read/min ratio: ${worstRatio.toFixed(3)} (target <= 2). Output mismatches vs llvm-readelf: ${mismatches}.`,
      '',
    ].join('\n');
    process.stdout.write(md);
    writeFileSync(join(root, 'BENCHMARKS-elf.md'), md);
    if (worstRatio > 2 || mismatches > 0) process.exitCode = 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3]).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
} else {
  bench().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
