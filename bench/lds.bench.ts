// The linker-script model against the tools a user would run instead, side by side in one run
// (interleaved runs, medians):
//  - placement: `kbuild-diagnostics link-map -r --script hyp.lds OBJ...` and the model's placement query
//    alone (one input section, the script parsed once) vs `ld.lld-19 -r -T hyp.lds OBJ... -Map` on the
//    sample tree's real nvhe objects (test/fixtures/sample-kernel, made by clang); the two must agree
//    on every input section (the oracle of test/helpers/linkOracle.ts);
//  - preprocessing: the 6.12 arm64 arch/arm64/kernel/vmlinux.lds.S, by this preprocessor (kbuild/
//    ldsSource.ts preprocessLdsSource, cold in a fresh process and warm) vs the build's own cpp_lds_S
//    command (`clang-19 -E ...` as recorded in arch/arm64/kernel/.vmlinux.lds.cmd), outputs compared
//    as tokens. Needs a 6.12 tree where `make ARCH=arm64 LLVM=-19 defconfig` and
//    `make ARCH=arm64 LLVM=-19 arch/arm64/kernel/vmlinux.lds` ran (--tree DIR, default
//    $KBD_CACHE/linux-source-6.12).
// Writes docs/BENCHMARKS-lds.md with --write.
//   npm run build && node out/bench/lds.bench.js [--runs N] [--tree DIR] [--write]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readObjectFile } from '../server/src/elf/reader';
import { SHT_REL, SHT_RELA } from '../server/src/elf/types';
import { preprocessLdsSource } from '../server/src/kbuild/ldsSource';
import { readCmdFile } from '../server/src/kbuild/cmdFile';
import { lexPp } from '../server/src/lds/ppLexer';
import { placeSection, type InputSection } from '../server/src/lds/placement';
import { parseLinkerScript } from '../server/src/lds/script';
import { placeObject } from '../server/src/cli/linkMap';
import { oraclePlacements } from '../test/helpers/linkOracle';
import { kernelTree, root } from '../test/helpers/kernelTree';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? 7);
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timeMs = (f: () => void): number => {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const run = (cmd: string, args: string[], cwd: string) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(0, 2000)}`);
  return r;
};
const tokens = (s: string): string =>
  lexPp(s)
    .filter((t) => t.kind !== 'newline')
    .map((t) => t.text)
    .join(' ');

async function placement(): Promise<string[]> {
  const tree = join(root, 'test', 'fixtures', 'sample-kernel', 'build');
  const nvhe = 'arch/arm64/kvm/hyp/nvhe';
  const objects = ['hyp-main.nvhe.o', 'switch.nvhe.o', 'sysreg-sr.nvhe.o', 'tlb.nvhe.o'].map((o) => `${nvhe}/${o}`);
  const script = `${nvhe}/hyp.lds`;
  const cli = join(root, 'server', 'out', 'cli.js');
  const out = mkdtempSync(join(tmpdir(), 'kbd-lds-bench-'));
  try {
    // Agreement first: the benchmark compares two tools that give the same answer.
    const oracle = oraclePlacements(tree, ['-r', '-T', script, ...objects], 2);
    const model = parseLinkerScript(readFileSync(join(tree, script), 'utf8'));
    const elfs = await Promise.all(objects.map(async (o) => ({ o, r: await readObjectFile(join(tree, o)) })));
    let sections = 0;
    const wrong: string[] = [];
    const inputs: { object: string; s: InputSection }[] = [];
    for (const { o, r } of elfs) {
      if (r.kind !== 'elf') throw new Error(`${o} is not ELF`);
      for (const e of placeObject(model, o, r.elf.sections, true)) {
        if (e.dropped) continue;
        sections++;
        const got = e.discarded ? 'discard' : e.orphan ? `orphan:${e.output}` : `output:${e.output}`;
        // A merged section (SHF_MERGE: .comment, strings) is listed by ld.lld only as <internal>:(name).
        const want =
          oracle.placed.get(`${o}\0${e.section}`) ??
          (oracle.internal.get(e.section) ?? []).map(
            (x) => `${oracle.orphans.has(`${o}\0${e.section}`) ? 'orphan' : 'output'}:${x}`,
          );
        if (!want.includes(got)) wrong.push(`${o}:(${e.section}) ${got} vs ld.lld ${want.join(',')}`);
      }
      for (const s of r.elf.sections) {
        if (s.index === 0) continue;
        const input: InputSection = { name: s.name, type: s.type, flags: Number(s.flags & 0xffffffffn) >>> 0 };
        if ((s.type === SHT_REL || s.type === SHT_RELA) && r.elf.sections[s.info]) {
          const t = r.elf.sections[s.info];
          input.relocates = { name: t.name, type: t.type, flags: Number(t.flags & 0xffffffffn) >>> 0 };
        }
        inputs.push({ object: o, s: input });
      }
    }
    if (wrong.length > 0) throw new Error(`link-map and ld.lld differ:\n${wrong.join('\n')}`);

    const ld: number[] = [];
    const lm: number[] = [];
    const query: number[] = [];
    const parse: number[] = [];
    const nodeStart: number[] = [];
    const text = readFileSync(join(tree, script), 'utf8');
    for (let i = 0; i < runs; i++) {
      ld.push(
        timeMs(() =>
          run('ld.lld-19', ['-r', '-T', script, ...objects, '-o', join(out, 'o.o'), '-Map', join(out, 'o.map')], tree),
        ),
      );
      lm.push(timeMs(() => run(process.execPath, [cli, 'link-map', '-r', '--script', script, ...objects], tree)));
      nodeStart.push(timeMs(() => run(process.execPath, ['-e', '0'], tree)));
      parse.push(timeMs(() => parseLinkerScript(text)));
      // The query alone: every input section once, many rounds, per query.
      const rounds = 2000;
      const t = timeMs(() => {
        for (let k = 0; k < rounds; k++)
          for (const x of inputs) placeSection(model, x.object, x.s, { relocatable: true });
      });
      query.push((t * 1000) / (rounds * inputs.length));
    }
    return [
      '## Placement: where each input section goes',
      '',
      `The sample tree's real nvhe link: ${objects.length} objects made by clang, \`hyp.lds\`, \`ld -r\`. link-map and \`ld.lld-19 -Map\` agree on all ${sections} input sections placed (checked in this run before timing).`,
      '',
      '| what | median | runs |',
      '|---|---:|---|',
      `| \`ld.lld-19 -r -T hyp.lds ${objects.length} objects -Map\` (the link itself, what a user runs to see the map) | ${med(ld).toFixed(1)} ms | ${ld.map((x) => x.toFixed(0)).join(', ')} |`,
      `| \`node server/out/cli.js link-map -r --script hyp.lds ${objects.length} objects\` (process start included) | ${med(lm).toFixed(1)} ms | ${lm.map((x) => x.toFixed(0)).join(', ')} |`,
      `| \`node -e 0\` (Node start-up alone, same run) | ${med(nodeStart).toFixed(1)} ms | ${nodeStart.map((x) => x.toFixed(0)).join(', ')} |`,
      `| parsing hyp.lds (in process) | ${med(parse).toFixed(3)} ms | ${parse.map((x) => x.toFixed(2)).join(', ')} |`,
      `| one placement query (one input section, script parsed; ${inputs.length} sections × 2,000 rounds per run) | ${med(query).toFixed(2)} µs | ${query.map((x) => x.toFixed(2)).join(', ')} |`,
      '',
    ];
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function preprocessing(): string[] {
  const dir =
    arg('--tree') ??
    (() => {
      const t = kernelTree('6.12');
      return 'path' in t ? t.path : '';
    })();
  const rel = 'arch/arm64/kernel/vmlinux.lds';
  const cmdFile = join(dir, 'arch/arm64/kernel/.vmlinux.lds.cmd');
  if (!dir || !existsSync(cmdFile))
    return [
      '## Preprocessing vmlinux.lds.S',
      '',
      `Not measured: ${cmdFile} is missing (run \`make ARCH=arm64 LLVM=-19 defconfig\` and \`make ARCH=arm64 LLVM=-19 ${rel}\` in a 6.12 tree).`,
      '',
    ];
  const parsed = readCmdFile(readFileSync(cmdFile, 'utf8'));
  if (!parsed.ok) throw new Error(`${cmdFile}: not a .cmd file`);
  const words = parsed.records[0].commands[0].words.map((w) => w.text);
  // The build's command, writing to a temp file instead of the build's vmlinux.lds.
  const out = mkdtempSync(join(tmpdir(), 'kbd-lds-pp-'));
  const o = words.indexOf('-o');
  const cppArgs = [...words.slice(1, o), '-o', join(out, 'vmlinux.lds'), ...words.slice(o + 2)].filter(
    (w) => !w.startsWith('-Wp,-MMD'),
  );
  try {
    const clang: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    let ours = '';
    for (let i = 0; i < runs; i++) {
      clang.push(timeMs(() => run(words[0], cppArgs, dir)));
      // Cold: a fresh process does it once (Node start-up measured apart and subtracted below).
      cold.push(timeMs(() => run(process.execPath, [__filename, '--child-preprocess', dir, rel], dir)));
      warm.push(
        timeMs(() => {
          const r = preprocessLdsSource(dir, dir, rel);
          if (!r) throw new Error(`${rel}.S cannot be read`);
          if (r.incomplete.length > 0) throw new Error(`incomplete: ${r.incomplete.join('; ')}`);
          ours = r.text;
        }),
      );
    }
    const nodeStart = med(Array.from({ length: runs }, () => timeMs(() => run(process.execPath, ['-e', '0'], dir))));
    const theirs = readFileSync(join(out, 'vmlinux.lds'), 'utf8');
    const same = tokens(ours) === tokens(theirs);
    if (!same) throw new Error("the preprocessed vmlinux.lds differs from the build command's output");
    return [
      '## Preprocessing the 6.12 arm64 vmlinux.lds.S',
      '',
      `Tree: ${dir} (defconfig). The output equals the build command's, compared as tokens (${theirs.length} characters).`,
      '',
      '| what | median | runs |',
      '|---|---:|---|',
      `| the build's own cpp_lds_S command (\`${words[0]} -E ...\` from .vmlinux.lds.cmd, -MMD dropped) | ${med(clang).toFixed(1)} ms | ${clang.map((x) => x.toFixed(0)).join(', ')} |`,
      `| preprocessLdsSource in a fresh Node process (cold), minus Node start-up (${nodeStart.toFixed(0)} ms) | ${(med(cold) - nodeStart).toFixed(1)} ms | ${cold.map((x) => x.toFixed(0)).join(', ')} (with start-up) |`,
      `| preprocessLdsSource, warm (same process, again) | ${med(warm).toFixed(1)} ms | ${warm.map((x) => x.toFixed(0)).join(', ')} |`,
      '',
    ];
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child-preprocess') {
  const r = preprocessLdsSource(process.argv[3], process.argv[3], process.argv[4]);
  process.exit(r && r.incomplete.length === 0 ? 0 : 1);
} else {
  void (async () => {
    const md = [
      '# Linker-script model benchmark',
      '',
      `Generated by \`node out/bench/lds.bench.js\` (bench/lds.bench.ts) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores shared with other work (load average ${loadavg()[0].toFixed(1)} at the start). ${runs} interleaved runs of every row.`,
      '',
      ...(await placement()),
      ...preprocessing(),
      `Load average at the end: ${loadavg()[0].toFixed(1)}.`,
      '',
    ].join('\n');
    process.stdout.write(md);
    if (process.argv.includes('--write')) writeFileSync(join(root, 'docs', 'BENCHMARKS-lds.md'), md);
  })().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
