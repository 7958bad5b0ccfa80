// `sections OBJ` on real clang-19 objects of a small in-tree kernel build written here (the 6.12 vDSO
// shape: the directory's Makefile links a.o and b.o with --orphan-handling=error and its script), run
// as the real command-line process. The oracle is the real ld.lld-19 on the same link and the same
// objects: every orphan line it prints is one section marked `offending` in `--json`, at the index
// and name llvm-readelf-19 shows, with the link that refuses it and its level; the section that script
// places is not marked, and carries its destination. The text form's stdout stays byte for byte
// llvm-readelf-19's; the marks are noted on stderr. The same object outside a kernel build: no marks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLlvmReadelf, findTool } from '../../../../../test/helpers/hostTools';
import { root } from '../../../../../test/helpers/kernelTree';

const clang = findTool(['clang-19']);
const lld = findTool(['ld.lld-19']);
const readelf = findLlvmReadelf();
const missing = !clang
  ? 'clang-19 is not installed'
  : !lld
    ? 'ld.lld-19 is not installed'
    : !readelf
      ? 'llvm-readelf-19 is not installed'
      : undefined;
if (missing && process.env.CI) throw new Error(`CI needs ${missing}`);

const cli = join(root, 'server', 'out', 'cli.js');
const DIR = 'lib/v';
const SCRIPT = [
  'SECTIONS {',
  '  .text : { *(.text*) }',
  '  .data : { *(.data*) *(.bss*) *(.rodata*) }',
  '  .comment 0 : { *(.comment) }',
  '  /DISCARD/ : { *(.note.GNU-stack) *(.llvm_addrsig) *(.eh_frame) }',
  '}',
  '',
].join('\n');

interface JsonSection {
  index: number;
  name: string;
  offending?: string;
  warning?: string;
  destinations?: { link: string; kind: string; output?: string }[];
}
interface JsonFile {
  file: string;
  buildDirectory?: string;
  links?: { output: string; script?: string; orphanHandling?: string }[];
  sections: JsonSection[];
}

function run(tool: string, args: string[], cwd: string): string {
  const r = spawnSync(tool, args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `${tool} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** index -> name, as llvm-readelf-19 -S lists them. */
function readelfSections(file: string, cwd: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of run(readelf as string, ['-S', '-W', file], cwd).matchAll(/^\s*\[\s*(\d+)\]\s+(\S+)/gm))
    out.set(Number(m[1]), m[2]);
  return out;
}

/** A kernel tree that holds its own build (.config), its lib/v Makefile linking a.o and b.o. */
function buildTree(level: 'error' | 'warn'): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbd-orphan-sections-cli-'));
  mkdirSync(join(dir, 'scripts'));
  writeFileSync(join(dir, 'scripts', 'Kbuild.include'), '');
  writeFileSync(join(dir, 'Makefile'), 'LD = $(CROSS_COMPILE)ld\n');
  writeFileSync(join(dir, '.config'), 'CONFIG_ARM64=y\n');
  writeFileSync(
    join(dir, 'scripts', 'Makefile.lib'),
    'ld_flags       = $(KBUILD_LDFLAGS) $(ldflags-y) $(LDFLAGS_$(@F))\n      cmd_ld = $(LD) $(ld_flags) $(real-prereqs) -o $@\n',
  );
  mkdirSync(join(dir, DIR), { recursive: true });
  writeFileSync(
    join(dir, DIR, 'Makefile'),
    [
      'CFLAGS_a.o += -fbasic-block-sections=labels',
      `ldflags-y := --orphan-handling=${level} -T`,
      '$(obj)/v.so.dbg: $(obj)/v.lds $(obj)/a.o $(obj)/b.o FORCE',
      '\t$(call if_changed,ld)',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, DIR, 'v.lds'), SCRIPT);
  const source = 'int g = 1;\nint foo(int x) { if (x > 3) return x * g; return x + 1; }\n';
  writeFileSync(join(dir, DIR, 'a.c'), source);
  writeFileSync(join(dir, DIR, 'b.c'), source.replace('foo', 'bar').replaceAll('g', 'h'));
  for (const [o, flags] of [
    ['a', ['-fbasic-block-sections=labels']],
    ['b', []],
  ] as const)
    run(
      clang as string,
      ['--target=aarch64-linux-gnu', '-O2', '-fno-PIC', '-c', ...flags, `${DIR}/${o}.c`, '-o', `${DIR}/${o}.o`],
      dir,
    );
  return dir;
}

/** ld.lld-19's orphan lines for the objects of the directory's link, run as Kbuild's cmd_ld runs it. */
function lldOrphans(dir: string, level: 'error' | 'warn'): string[] {
  const r = spawnSync(
    lld as string,
    [`--orphan-handling=${level}`, '-T', `${DIR}/v.lds`, `${DIR}/a.o`, `${DIR}/b.o`, '-o', join(dir, 'oracle.so')],
    { cwd: dir, encoding: 'utf8' },
  );
  // The sections the linker makes itself (`<internal>:(.symtab)`) are no object's: not the rule's.
  return [
    ...r.stderr.matchAll(
      new RegExp(`^ld\\.lld(?:-\\d+)?: ${level === 'warn' ? 'warning' : 'error'}: (.*is being placed in '.*')$`, 'gm'),
    ),
  ]
    .map((m) => m[1])
    .filter((l) => !l.startsWith('<internal>:'));
}

function sectionsCli(args: string[], cwd: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'sections', ...args], { cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test(
  'sections --json marks each orphan with the link that refuses it, as ld.lld-19 prints it (real clang-19 objects)',
  { skip: missing ?? false },
  () => {
    const dir = buildTree('error');
    try {
      const real = lldOrphans(dir, 'error');
      assert.ok(real.length > 0, 'ld.lld-19 refuses something');
      assert.ok(
        real.includes(`${DIR}/a.o:(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'`),
        real.join('\n'),
      );
      const r = sectionsCli(['--json', `${DIR}/a.o`, `${DIR}/b.o`], dir);
      assert.equal(r.status, 0, r.stderr);
      const files = JSON.parse(r.stdout) as JsonFile[];
      const mine: string[] = [];
      for (const f of files) {
        assert.equal(f.buildDirectory, dir);
        assert.deepEqual(f.links, [{ output: `${DIR}/v.so.dbg`, script: `${DIR}/v.lds`, orphanHandling: 'error' }]);
        const names = readelfSections(f.file, dir);
        for (const s of f.sections.slice(1)) {
          assert.equal(s.name, names.get(s.index), `${f.file}: section [${s.index}] as llvm-readelf-19 names it`);
          if (!s.offending) continue;
          assert.match(s.offending, /the link of lib\/v\/v\.so\.dbg refuses it \(--orphan-handling=error\)/);
          assert.deepEqual(
            s.destinations?.map((d) => `${d.link}:${d.kind}:${d.output}`),
            [`${DIR}/v.so.dbg:orphan:${s.name}`],
          );
          const line = /ld\.lld: error: (.*)$/.exec(s.offending)?.[1];
          assert.ok(line, s.offending);
          mine.push(line);
        }
        const text = f.sections.find((s) => s.name === '.text');
        assert.equal(text?.offending, undefined, 'the script places .text');
        assert.deepEqual(
          text?.destinations?.map((d) => `${d.kind}:${d.output}`),
          ['output:.text'],
        );
      }
      assert.deepEqual(mine.sort(), [...real].sort(), "one mark per line of ld.lld-19's, and no other");

      // The text form: stdout is llvm-readelf-19's, byte for byte; the marks go to stderr.
      const t = sectionsCli([`${DIR}/a.o`], dir);
      assert.equal(t.status, 0, t.stderr);
      assert.equal(t.stdout, run(readelf as string, ['-S', `${DIR}/a.o`], dir));
      const noted = [...t.stderr.matchAll(/^kbuild-diagnostics: lib\/v\/a\.o: section \[(\d+)\] (\S+): error: /gm)];
      const names = readelfSections(`${DIR}/a.o`, dir);
      assert.deepEqual(
        noted.map((m) => `${m[2]}`).sort(),
        real
          .filter((l) => l.startsWith(`${DIR}/a.o:`))
          .map((l) => /:\(([^)]*)\)/.exec(l)?.[1])
          .sort(),
      );
      for (const m of noted) assert.equal(names.get(Number(m[1])), m[2]);

      // The same object outside any kernel build: a plain table, nothing marked by a link.
      const away = mkdtempSync(join(tmpdir(), 'kbd-orphan-away-'));
      try {
        copyFileSync(join(dir, DIR, 'a.o'), join(away, 'a.o'));
        const o = sectionsCli(['--json', 'a.o'], away);
        assert.equal(o.status, 0, o.stderr);
        const [f] = JSON.parse(o.stdout) as JsonFile[];
        assert.equal(f.buildDirectory, undefined);
        assert.ok(f.sections.every((s) => !s.offending && !s.destinations));
        assert.equal(sectionsCli(['a.o'], away).stderr, '');
      } finally {
        rmSync(away, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'sections --json: at --orphan-handling=warn the orphan is a warning, not offending',
  { skip: missing ?? false },
  () => {
    const dir = buildTree('warn');
    try {
      const real = lldOrphans(dir, 'warn');
      assert.ok(real.length > 0);
      const r = sectionsCli(['--json', `${DIR}/a.o`, `${DIR}/b.o`], dir);
      assert.equal(r.status, 0, r.stderr);
      const files = JSON.parse(r.stdout) as JsonFile[];
      const warned: string[] = [];
      for (const f of files) {
        assert.equal(f.links?.[0].orphanHandling, 'warn');
        for (const s of f.sections) {
          assert.equal(s.offending, undefined);
          if (!s.warning) continue;
          assert.match(s.warning, /--orphan-handling=warn/);
          warned.push(/ld\.lld: warning: (.*)$/.exec(s.warning)?.[1] ?? s.warning);
        }
      }
      assert.deepEqual(warned.sort(), [...real].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
