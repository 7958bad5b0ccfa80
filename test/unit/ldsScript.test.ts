// The linker-script model (server/src/lds/script.ts, placement.ts): what the parser reads from a
// script (output sections, input-section descriptions with wildcards, EXCLUDE_FILE, KEEP, SORT*,
// INPUT_SECTION_FLAGS, /DISCARD/, expressions skipped), and where each input section goes, checked
// against the real linker: two objects assembled by llvm-mc-19 are linked by ld.lld-19 with each
// script (-Map, --orphan-handling=warn; test/helpers/linkOracle.ts), and every input section's
// outcome must equal the model's. The scripts are built so that the first matching description
// decides across the whole script (a later, more specific one never wins). Then bad input: junk,
// unterminated blocks, deep nesting and a huge script give errors, never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readObjectFile } from '../../server/src/elf/reader';
import { placeObject } from '../../server/src/cli/linkMap';
import { MAX_SCRIPT_TOKENS, parseLinkerScript } from '../../server/src/lds/script';
import { oraclePlacements, type Outcome } from '../helpers/linkOracle';

const TOOLS = ['llvm-mc-19', 'ld.lld-19'];
const missing = TOOLS.find((t) => spawnSync(t, ['--version']).status !== 0);
if (missing && process.env.CI) throw new Error(`CI installs ${missing}`);

/** Sections of both objects: names chosen so that several descriptions of each script match them. */
const SECTIONS: [string, string][] = [
  ['.text', 'ax'],
  ['.text.hot.foo', 'ax'],
  ['.text.unlikely.bar', 'ax'],
  ['.text.x', 'ax'],
  ['.data', 'aw'],
  ['.data.1', 'aw'],
  ['.data.42', 'aw'],
  ['.data.a', 'aw'],
  ['.data..percpu', 'aw'],
  ['.rodata', 'a'],
  ['.rodata.cst', 'a'],
  ['.init_array.5', 'aw'],
  ['.init_array.10', 'aw'],
  ['.init_array', 'aw'],
  ['.discard.note', 'a'],
  ['.mixed.w', 'aw'],
  ['.mixed.r', 'a'],
  ['.bss.k', 'aw'],
  ['.odd_one', 'a'],
];

function assemble(dir: string, name: string): string {
  const src = join(dir, `${name}.s`);
  const lines = SECTIONS.map(([s, f]) => `.section ${s},"${f}",@progbits\n.byte 1\n`);
  // A section clang makes with a profile: SHF_EXCLUDE, kept by ld -r, dropped by a final link.
  lines.push('.section .llvm.call-graph-profile,"e",@progbits\n.byte 0\n');
  writeFileSync(src, lines.join(''));
  const obj = join(dir, `${name}.o`);
  const r = spawnSync('llvm-mc-19', ['-triple=aarch64-linux-gnu', '-filetype=obj', src, '-o', obj], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return `${name}.o`;
}

interface ScriptCase {
  name: string;
  script: string;
}

const SCRIPTS: ScriptCase[] = [
  {
    name: 'first match wins: a specific description before a general one, and one after it that never matches',
    script: `SECTIONS {
  .hot : { *(.text.hot .text.hot.*) }
  .text : { *(.text .text.*) }
  .late : { *(.text.hot.foo) *(.text.x) }
  .data : { *(.data .data.*) }
}`,
  },
  {
    name: 'the general description first takes everything, even with /DISCARD/ after it',
    script: `SECTIONS {
  .text : { *(.text*) }
  /DISCARD/ : { *(.text.unlikely.*) *(.discard.*) }
  .rest : { *(.data*) *(.rodata*) }
}`,
  },
  {
    name: '/DISCARD/ first; .llvm.call-graph-profile discarded by name',
    script: `SECTIONS {
  /DISCARD/ : { *(.discard.*) *(.llvm.call-graph-profile) *(.text.unlikely.*) }
  .text : { *(.text*) }
}`,
  },
  {
    name: 'EXCLUDE_FILE before the file pattern and inside the section list',
    script: `SECTIONS {
  .a_data : { EXCLUDE_FILE(*b.o) *(.data) }
  .b_data : { *(.data) }
  .ro : { *(EXCLUDE_FILE(*a.o) .rodata .rodata.*) }
  .ro_a : { *(.rodata*) }
  .mixed : { *(EXCLUDE_FILE(*b.o) .mixed.w EXCLUDE_FILE(*a.o) .mixed.r) }
}`,
  },
  {
    name: 'file patterns: a name, a glob, and * for the rest',
    script: `SECTIONS {
  .bss_a : { a.o(.bss.k) }
  .bss_b : { *b.o(.bss.*) }
  .text_b : { b.?(.text) }
  .text : { *(.text) }
}`,
  },
  {
    name: 'KEEP and SORT* (they change order, not what matches)',
    script: `SECTIONS {
  .init_array : {
    KEEP(*(SORT_BY_INIT_PRIORITY(.init_array.*)))
    KEEP(*(.init_array))
  }
  .data : { *(SORT_BY_NAME(SORT_BY_ALIGNMENT(.data.*))) KEEP(*(SORT(.data))) }
  .text : { *(SORT_NONE(.text.*)) *(.text) }
}`,
  },
  {
    name: 'wildcards: ?, [0-9], [!...] and an escaped character',
    script: `SECTIONS {
  .digits : { *(.data.[0-9]*) }
  .one : { *(.data.?) }
  .notdigit : { *(.text.[!0-9]*) }
  .dotdot : { *(.data\\.\\.percpu) }
}`,
  },
  {
    name: 'INPUT_SECTION_FLAGS: only writable sections',
    script: `SECTIONS {
  .w : { INPUT_SECTION_FLAGS(SHF_WRITE) *(.mixed.*) }
  .r : { *(.mixed.*) }
}`,
  },
  {
    name: 'expressions, assignments, PROVIDE, ASSERT, data commands, types and memory tails are skipped',
    script: `ENTRY(_start)
OUTPUT_ARCH(aarch64)
SECTIONS {
  . = 0x1000;
  PROVIDE(__start = .);
  __x = ALIGN(8) + (2 * 4);
  .text 0x2000 : AT(0x3000) ALIGN(16) SUBALIGN(4) {
    . = ALIGN(8); __text_start = .; *(.text .text.*) LONG(0) BYTE(1) QUAD(2)
    ASSERT(. >= __text_start, "text shrank")
  } =0x90
  .bss (NOLOAD) : { *(.bss.*) }
  ASSERT(__x > 0, "x")
}`,
  },
];

/** Outcomes from the model, keyed as the oracle keys them. */
function modelPlacements(
  script: string,
  objects: { name: string; sections: Awaited<ReturnType<typeof readObjectFile>> }[],
  relocatable: boolean,
) {
  const model = parseLinkerScript(script);
  assert.deepEqual(
    model.errors.filter((e) => !/GNU ld's form/.test(e)),
    [],
    'the script parses without errors',
  );
  const placed = new Map<string, Outcome[]>();
  for (const o of objects) {
    if (o.sections.kind !== 'elf') throw new Error(`${o.name} is not ELF`);
    for (const e of placeObject(model, o.name, o.sections.elf.sections, relocatable)) {
      if (e.dropped) continue;
      const key = `${e.object}\0${e.section}`;
      const out = e.discarded ? 'discard' : e.orphan ? `orphan:${e.output}` : `output:${e.output}`;
      placed.set(key, [...(placed.get(key) ?? []), out]);
    }
  }
  return placed;
}

test(
  'placement matches ld.lld-19 -Map, script by script, final and relocatable links',
  { skip: missing ? `${missing} is not installed` : false },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kbd-lds-script-'));
    try {
      const names = [assemble(dir, 'a'), assemble(dir, 'b')];
      const objects = await Promise.all(
        names.map(async (name) => ({ name, sections: await readObjectFile(join(dir, name)) })),
      );
      for (const c of SCRIPTS) {
        for (const relocatable of [false, true]) {
          await t.test(`${c.name}${relocatable ? ' (ld -r)' : ''}`, () => {
            writeFileSync(join(dir, 'script.lds'), c.script);
            const args = [...(relocatable ? ['-r'] : []), '-T', 'script.lds', ...names];
            const oracle = oraclePlacements(dir, args, args.indexOf('script.lds'));
            const mine = modelPlacements(c.script, objects, relocatable);
            const show = (k: string): string => k.replace('\0', ':(') + ')';
            const wrong: string[] = [];
            for (const [k, v] of mine)
              if (JSON.stringify(oracle.placed.get(k) ?? []) !== JSON.stringify(v.sort()))
                wrong.push(
                  `${show(k)}: model ${v.join(',')}, ld.lld ${(oracle.placed.get(k) ?? ['(not placed)']).join(',')}`,
                );
            for (const [k, v] of oracle.placed)
              if (!mine.has(k)) wrong.push(`${show(k)}: ld.lld ${v.join(',')}, model dropped it`);
            assert.deepEqual(wrong, [], c.name);
            assert.ok(oracle.placed.size >= SECTIONS.length, `the oracle placed ${oracle.placed.size} sections`);
          });
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('the parser reads output sections and descriptions as written', () => {
  const s = parseLinkerScript(`SECTIONS {
  .text : { KEEP(*(.head.text)) EXCLUDE_FILE(*crt*.o) *(.text .text.[0-9]*) }
  .ctors : { KEEP (*(EXCLUDE_FILE (*crtend.o ) .ctors)) }
  .data (NOLOAD) : { *(SORT_BY_NAME(.data.*)) lib.a:obj.o(.data) }
  .mixed : { *(EXCLUDE_FILE(a.o) .m1 .m2 EXCLUDE_FILE(b.o) .m3) }
  /DISCARD/ : { *(.exit.text) }
}`);
  // GNU ld's outer EXCLUDE_FILE: ld.lld reads a file pattern `EXCLUDE_FILE` (matching nothing), and says so.
  assert.equal(s.errors.length, 1);
  assert.match(s.errors[0], /line 2: EXCLUDE_FILE\(\.\.\.\) before a file pattern is GNU ld's form/);
  assert.equal(s.hasSections, true);
  assert.deepEqual(
    s.outputs.map((o) => [o.name, o.discard, o.type ?? '']),
    [
      ['.text', false, ''],
      ['.ctors', false, ''],
      ['.data', false, 'NOLOAD'],
      ['.mixed', false, ''],
      ['/DISCARD/', true, ''],
    ],
  );
  const [keep, exclName, excl, ctors, sorted, member, mixed, discard] = s.order;
  assert.equal(keep.keep, true);
  assert.deepEqual(keep.sectionPatterns, ['.head.text']);
  assert.deepEqual([exclName.filePattern, exclName.sectionPatterns], ['EXCLUDE_FILE', ['*crt*.o']]);
  assert.deepEqual([excl.filePattern, excl.excludeFiles], ['*', []]);
  assert.deepEqual(excl.sectionPatterns, ['.text', '.text.[0-9]*']);
  assert.equal(ctors.keep, true, 'KEEP with a space before its parenthesis (arch/um/kernel/dyn.lds.S)');
  assert.deepEqual(
    ctors.groups.map((g) => [g.excludeFiles, g.patterns]),
    [[['*crtend.o'], ['.ctors']]],
  );
  assert.equal(sorted.sort, 'SORT_BY_NAME');
  assert.deepEqual(sorted.sectionPatterns, ['.data.*']);
  assert.equal(member.filePattern, 'lib.a:obj.o');
  assert.deepEqual(
    mixed.groups.map((g) => [g.excludeFiles, g.patterns]),
    [
      [['a.o'], ['.m1', '.m2']],
      [['b.o'], ['.m3']],
    ],
  );
  assert.equal(discard.output, '/DISCARD/');
  assert.deepEqual(
    s.order.map((d) => d.output),
    ['.text', '.text', '.text', '.ctors', '.data', '.data', '.mixed', '/DISCARD/'],
    'script order, across output sections',
  );
});

test('bad scripts give errors and a model of what could be read, never a throw', () => {
  const cases: [string, string, RegExp][] = [
    ['an unterminated section list', 'SECTIONS { .text : { *(.text } .data : { *(.data) } }', /unexpected '}'/],
    ['an unterminated SECTIONS', 'SECTIONS { .text : { *(.text) }', /./],
    ['an unterminated comment', 'SECTIONS { .text : { *(.text) } /* never closed', /unterminated comment/],
    ['an unterminated string', 'SECTIONS { .text : { *(.text) } ASSERT(1, "x) }', /unterminated string/],
    ['junk at the top', '}}} ) ( ;; SECTIONS { .t : { *(.t) } }', /unexpected/],
    ['an unexpanded macro', 'SECTIONS { TEXT_TEXT(8) .t : { *(.t) } }', /unexpanded macro/],
    ['an unknown flag', 'SECTIONS { .t : { INPUT_SECTION_FLAGS(SHF_NOPE) *(.t) } }', /unknown section flag/],
  ];
  for (const [what, text, err] of cases) {
    const s = parseLinkerScript(text);
    assert.ok(
      s.errors.some((e) => err.test(e)),
      `${what}: ${JSON.stringify(s.errors)}`,
    );
  }
  // What is readable is still read.
  const partial = parseLinkerScript('SECTIONS { .text : { *(.text) } .x : { *(.x }');
  assert.equal(partial.outputs[0]?.name, '.text');
  assert.deepEqual(partial.order[0]?.sectionPatterns, ['.text']);
});

test('deep nesting and a huge script are bounded: errors, no stack overflow', () => {
  const n = 200_000;
  const parens = parseLinkerScript(`SECTIONS { . = ${'('.repeat(n)}1${')'.repeat(n)}; .text : { *(.text) } }`);
  assert.deepEqual(parens.errors, []);
  assert.deepEqual(
    parens.outputs.map((o) => o.name),
    ['.text'],
  );
  const braces = parseLinkerScript(`SECTIONS { .t : ${'{'.repeat(n)}`);
  assert.ok(braces.errors.length > 0 && braces.errors.length <= 100, 'errors, bounded in number');
  // Over the token bound (8 tokens per output section here): refused as a whole, tokenizing stops there.
  const bound = 10_000;
  const huge = parseLinkerScript('SECTIONS {' + ' .a : { *(.a) }'.repeat(bound / 8 + 1) + ' }', bound);
  assert.deepEqual(huge.errors, [`the script has more than ${bound} tokens; not parsed`]);
  assert.deepEqual(huge.outputs, []);
  const under = parseLinkerScript('SECTIONS {' + ' .a : { *(.a) }'.repeat(bound / 8 - 1) + ' }', bound);
  assert.deepEqual(under.errors, []);
  assert.equal(under.outputs.length, bound / 8 - 1);
  // The default bound is far above a real script (the 6.12 arm64 vmlinux.lds is about 16 KB).
  assert.ok(MAX_SCRIPT_TOKENS >= 1_000_000);
});
