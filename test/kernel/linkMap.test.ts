// The linker-script model against the real linker, on real kernel links:
//  (a) 6.1 `kvm_nvhe.tmp.o` = ld -r -T hyp.lds of the hyp objects (scripts/build-nvhe.sh's tree);
//  (b) 6.12 arm64 `vdso.so.dbg` with vdso.lds; (c) 6.12 arm64 vmlinux.lds applied to a sample of
//  that build's objects (scripts/build-lds.sh). `link-map --json` (the real CLI process) must give
//  every input section the placement `ld.lld-19 -Map` gives it (test/helpers/linkOracle.ts). And the
//  preprocessing of the three .lds.S equals the build's own .lds after whitespace normalization.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../helpers/kernelTree';
import { oraclePlacements, type Oracle, type Outcome } from '../helpers/linkOracle';
import { readCmdFile } from '../../server/src/kbuild/cmdFile';
import { preprocessLdsSource } from '../../server/src/kbuild/ldsSource';
import { missingToolchain } from '../helpers/kernelBuild';

const missing = missingToolchain(['clang-19', 'ld.lld-19', 'make'], ['6.1', '6.12']);

const cache = process.env.KBD_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'kbuild-diagnostics');

/** The 6.1 nvhe tree (built once by build-nvhe.sh; its failing gen-hyprel step comes after kvm_nvhe.tmp.o). */
function nvheTree(): string {
  const tree = join(cache, 'nvhe-build-6.1');
  if (existsSync(join(tree, 'arch/arm64/kvm/hyp/nvhe/kvm_nvhe.tmp.o'))) return tree;
  execFileSync('bash', [join(root, 'scripts', 'build-nvhe.sh')], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: 20 * 60_000,
  });
  return tree;
}
function ldsTree(): string {
  const out = execFileSync('bash', [join(root, 'scripts', 'build-lds.sh')], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: 30 * 60_000,
  })
    .trim()
    .split('\n');
  return out[out.length - 1];
}

/** The link's words from its .cmd file (first command), without the program and `-o OUT`. */
function recordedLink(tree: string, cmdFile: string): string[] {
  const r = readCmdFile(readFileSync(join(tree, cmdFile), 'utf8'));
  assert.ok(r.ok);
  const words = r.records[0].commands[0].words.map((w) => w.text);
  const o = words.indexOf('-o');
  return words.slice(1).filter((_, i) => i + 1 !== o && i + 1 !== o + 1);
}

interface CliEntry {
  object: string;
  section: string;
  output: string | null;
  discarded: boolean;
  orphan: boolean;
  dropped?: string;
}

function ours(
  tree: string,
  script: string,
  objects: string[],
  relocatable: boolean,
): { placed: Map<string, Outcome[]>; dropped: Set<string>; count: number } {
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'server/out/cli.js'),
      'link-map',
      '--script',
      script,
      ...(relocatable ? ['-r'] : []),
      ...objects,
      '--json',
    ],
    { cwd: tree, encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  assert.equal(r.status, 0, r.stderr);
  const entries = JSON.parse(r.stdout) as CliEntry[];
  const placed = new Map<string, Outcome[]>();
  const dropped = new Set<string>();
  for (const e of entries) {
    const key = `${e.object}\0${e.section}`;
    if (e.dropped) {
      dropped.add(key);
      continue;
    }
    const o = e.discarded ? 'discard' : e.orphan ? `orphan:${e.output}` : `output:${e.output}`;
    placed.set(key, [...(placed.get(key) ?? []), o]);
  }
  for (const v of placed.values()) v.sort();
  return { placed, dropped, count: entries.length };
}

function compare(name: string, oracle: Oracle, mine: ReturnType<typeof ours>): void {
  const show = (k: string): string => k.replace('\0', ':(') + ')';
  const wrong: string[] = [];
  let merged = 0;
  for (const [k, v] of mine.placed) {
    const got = oracle.placed.get(k);
    if (got === undefined) {
      // A merged section is listed only as `<internal>:(name)` under its output: the name and output must agree.
      const section = k.slice(k.indexOf('\0') + 1);
      // ld.lld names a merged synthetic section after its first member (`.rodata.str1.1` may sit in `.rodata.str`).
      const stem = (n: string): string => n.replace(/\d+\.\d+$/, '');
      const outs = [...oracle.internal].filter(([n]) => stem(n) === stem(section)).flatMap(([, o]) => o);
      const kind = oracle.orphans.has(k) ? 'orphan' : 'output';
      if (v.every((o) => outs.some((x) => o === `${kind}:${x}`))) {
        merged++;
        continue;
      }
    }
    if (JSON.stringify(got ?? []) !== JSON.stringify(v))
      wrong.push(`${show(k)}: link-map ${v.join(',')}, ld.lld ${(got ?? ['(not placed)']).join(',')}`);
  }
  for (const [k, v] of oracle.placed)
    if (!mine.placed.has(k))
      wrong.push(`${show(k)}: ld.lld ${v.join(',')}, link-map ${mine.dropped.has(k) ? 'dropped' : '(nothing)'}`);
  assert.deepEqual(wrong, [], `${name}: ${wrong.length} of ${mine.count} input sections differ`);
  assert.ok(oracle.placed.size > 10, `${name}: the oracle placed ${oracle.placed.size} sections`);
  console.log(
    `# ${name}: ${mine.count} input sections agree (${oracle.placed.size} placed by name in the map, ${merged} merged, ${mine.dropped.size} dropped by the linker)`,
  );
}

const objectsOf = (args: string[]): string[] => args.filter((w) => w.endsWith('.o'));

test(
  'kvm_nvhe.tmp.o (6.1, ld -r -T hyp.lds): link-map places every input section as ld.lld-19 -Map does',
  { skip: missing },
  () => {
    const tree = nvheTree();
    const args = recordedLink(tree, 'arch/arm64/kvm/hyp/nvhe/.kvm_nvhe.tmp.o.cmd');
    const s = args.indexOf('-T') + 1;
    compare('kvm_nvhe.tmp.o', oraclePlacements(tree, args, s), ours(tree, args[s], objectsOf(args), true));
  },
);

test(
  'vdso.so.dbg (6.12 arm64, vdso.lds): link-map places every input section as ld.lld-19 -Map does',
  { skip: missing },
  () => {
    const tree = ldsTree();
    const args = recordedLink(tree, 'arch/arm64/kernel/vdso/.vdso.so.dbg.cmd').filter(
      (w) => !w.startsWith('--orphan-handling'),
    );
    const s = args.indexOf('-T') + 1;
    compare('vdso.so.dbg', oraclePlacements(tree, args, s), ours(tree, args[s], objectsOf(args), false));
  },
);

test(
  "vmlinux.lds (6.12 arm64) on a sample of the build's objects: link-map agrees with ld.lld-19 -Map",
  { skip: missing },
  () => {
    const tree = ldsTree();
    const objects = [
      'arch/arm64/kernel/head.o',
      'init/main.o',
      'init/version.o',
      'kernel/fork.o',
      'lib/string.o',
      'arch/arm64/kernel/setup.o',
      'arch/arm64/mm/mmu.o',
      'kernel/panic.o',
    ];
    // vmlinux's own flags (top Makefile, arch/arm64/Makefile); the symbols the script's expressions
    // and ASSERTs name come from objects outside the sample, so they are given as --defsym, and
    // --noinhibit-exec lets the map be written despite the ASSERTs that a partial kernel fails.
    const base = [
      '-EL',
      '-maarch64elf',
      '-z',
      'norelro',
      '-z',
      'noexecstack',
      '--no-undefined',
      '-X',
      '--pic-veneer',
      '-z',
      'notext',
      '--no-apply-dynamic-relocs',
      '--fix-cortex-a53-843419',
      '--build-id=sha1',
      '--unresolved-symbols=ignore-all',
      '--noinhibit-exec',
      '-T',
      'arch/arm64/kernel/vmlinux.lds',
      ...objects,
    ];
    const defs: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = spawnSync('ld.lld-19', [...defs, ...base, '--error-limit=0', '-o', '/dev/null'], {
        cwd: tree,
        encoding: 'utf8',
      });
      const missingSyms = [...new Set([...r.stderr.matchAll(/symbol not found: (\S+)/g)].map((m) => m[1]))];
      if (missingSyms.length === 0) break;
      defs.push(...missingSyms.map((x) => `--defsym=${x}=0`));
    }
    const args = [...defs, ...base];
    const s = args.indexOf('-T') + 1;
    compare('vmlinux sample', oraclePlacements(tree, args, s), ours(tree, args[s], objects, false));
  },
);

const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();
for (const [name, tree, script] of [
  ['6.1 hyp.lds', nvheTree, 'arch/arm64/kvm/hyp/nvhe/hyp.lds'],
  ['6.12 vdso.lds', ldsTree, 'arch/arm64/kernel/vdso/vdso.lds'],
  ['6.12 vmlinux.lds', ldsTree, 'arch/arm64/kernel/vmlinux.lds'],
] as const) {
  test(
    `preprocessing ${name}.S as Kbuild does equals the build's own ${script.slice(script.lastIndexOf('/') + 1)} (whitespace normalized)`,
    { skip: missing },
    () => {
      const t = tree();
      const t0 = performance.now();
      const pre = preprocessLdsSource(t, t, script);
      const ms = performance.now() - t0;
      assert.ok(pre);
      assert.deepEqual(pre.incomplete, []);
      assert.equal(norm(pre.text), norm(readFileSync(join(t, script), 'utf8')));
      console.log(`# ${name}: preprocessed in ${ms.toFixed(0)} ms (${pre.text.length} characters)`);
    },
  );
}
