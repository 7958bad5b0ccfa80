// The linear `.cmd` reader: same flags as flagsOfCmdFile on real files and seeded mutations, spans
// that point at the word itself, and bounds: 40,000 commands (40 s before), a 62 MB file (killed the
// server's heap before), a word cap that says it cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMakefile } from '../../server/src/make/parser';
import { effectiveProfileUse } from '../../server/src/kbuild/profileFlags';
import { splitCommands } from '../../server/src/kbuild/shellCommands';

/** The reader this one replaced, kept here as the oracle: the make parser plus the shell splitter. */
function flagsOfCmdFile(file: string, text: string): { target: string; flag: string }[] {
  const out: { target: string; flag: string }[] = [];
  for (const s of parseMakefile(text).statements) {
    if (s.kind !== 'assignment') continue;
    const m = /^(?:saved)?cmd_(.+)$/.exec(s.nameText.trim());
    if (!m) continue;
    for (const c of splitCommands(s.valueText))
      for (const eff of effectiveProfileUse(c.words)) out.push({ target: m[1], flag: eff.flag });
  }
  void file;
  return out;
}
import { profileFlagsOfCmdFile, readCmdFile } from '../../server/src/kbuild/cmdFile';
import { root } from '../helpers/kernelTree';
import { mulberry32 } from '../helpers/prng';
import { cpuMsSince, cpuTimed } from '../helpers/cpuTime';

function cmdFixtures(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    // Dirents, not stat: the sample tree's `source` link points back up (a loop).
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.cmd')) out.push(p);
    }
  };
  walk(join(root, 'test', 'fixtures'));
  return out;
}

const lineOf = (text: string, l: number): string => text.split('\n')[l].replace(/\r$/, '');

test("the fixtures' .cmd files: the same flags and targets as flagsOfCmdFile; spans hold the flag", () => {
  const files = cmdFixtures();
  assert.ok(files.length >= 3);
  let flags = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const old = flagsOfCmdFile(f, text);
    const now = profileFlagsOfCmdFile(f, text);
    assert.equal(now.incomplete, undefined);
    assert.deepEqual(
      now.flags.map((x) => [x.target, x.flag]),
      old.map((x) => [x.target, x.flag]),
      f,
    );
    for (const x of now.flags) {
      assert.equal(lineOf(text, x.span.start.line).slice(x.span.start.character, x.span.end.character), x.flag);
      flags++;
    }
  }
  assert.ok(flags > 0);
});

test('words: quotes and escapes removed, spans include the quotes, commands split, comments and redirections', () => {
  const text = [
    'deps_x.o := \\',
    '  cmd_fake.o := not a record \\',
    '  include/linux/kconfig.h',
    'savedcmd_x.o := clang -D\'KBUILD_MODNAME="x"\' "-DA=b c" -DH=\\#x -c x.c >/dev/null && echo done; ld -r -o y.o x.o # make comment',
    'cmd_z.o := gcc \\',
    '\t-O2 -fprofile-sample-use=/p \\\r',
    '\t-c z.c\r',
    'source_x.o := x.c',
  ].join('\n');
  const r = readCmdFile(text);
  assert.ok(r.ok);
  assert.deepEqual(
    r.records.map((x) => [x.variable, x.target, x.line]),
    [
      ['savedcmd', 'x.o', 3],
      ['cmd', 'z.o', 4],
    ],
  );
  const [x, z] = r.records;
  assert.deepEqual(
    x.commands.map((c) => c.words.map((w) => w.text)),
    [
      ['clang', '-DKBUILD_MODNAME="x"', '-DA=b c', '-DH=#x', '-c', 'x.c'],
      ['echo', 'done'],
      ['ld', '-r', '-o', 'y.o', 'x.o'],
    ],
  );
  const q = x.commands[0].words[1];
  assert.equal(lineOf(text, 3).slice(q.span.start.character, q.span.end.character), '-D\'KBUILD_MODNAME="x"\'');
  assert.deepEqual(
    z.commands.map((c) => c.words.map((w) => w.text)),
    [['gcc', '-O2', '-fprofile-sample-use=/p', '-c', 'z.c']],
  );
  const p = z.commands[0].words[2];
  assert.deepEqual(p.span, { start: { line: 5, character: 5 }, end: { line: 5, character: 28 } });
  const last = z.commands[0].words[4];
  assert.deepEqual(
    last.span,
    { start: { line: 6, character: 4 }, end: { line: 6, character: 7 } },
    'the CR is not part of the word',
  );
  const fl = profileFlagsOfCmdFile('/b/.z.o.cmd', text);
  assert.deepEqual(
    fl.flags.map((f) => [f.target, f.flag, f.span.start.line]),
    [['z.o', '-fprofile-sample-use=/p', 5]],
  );
  // The span is the effective (last) spelling, not the first text match.
  const twice = 'cmd_a.o := clang -fprofile-sample-use=/p -O2 -fprofile-sample-use=/p -c a.c\n';
  const t2 = profileFlagsOfCmdFile('/b/.a.o.cmd', twice).flags;
  assert.equal(t2.length, 1);
  assert.equal(t2[0].span.start.character, twice.lastIndexOf('-fprofile-sample-use=/p'));
});

test('seeded mutations of the fixtures: never throws; flags agree with flagsOfCmdFile on intact lines', () => {
  const rnd = mulberry32(13);
  const bases = cmdFixtures().map((f) => readFileSync(f, 'utf8'));
  // Real Kbuild .cmd files quote (KBUILD_BASENAME='"x"'): half the cases start from the fixtures without
  // quotes, escapes or comments, so that enough mutations stay comparable with the simple reader.
  const plain = bases.filter((b) => !/['"\\#]/.test(b));
  assert.ok(plain.length > 0, 'fixtures without quotes exist');
  const pieces = [
    '\\\n',
    "'",
    '"',
    '#',
    '\\',
    ';',
    '&&',
    '|',
    '>',
    ' ',
    '\r\n',
    'cmd_q.o := ',
    '-fprofile-sample-use=/x ',
    '-fno-profile-sample-use ',
    '\u0001',
    '\0',
  ];
  let agreed = 0;
  for (let k = 0; k < 2000; k++) {
    const from = k % 2 === 0 ? plain : bases;
    let t = from[Math.floor(rnd() * from.length)];
    const m = 1 + Math.floor(rnd() * 4);
    for (let j = 0; j < m; j++) {
      const at = Math.floor(rnd() * (t.length + 1));
      t = t.slice(0, at) + pieces[Math.floor(rnd() * pieces.length)] + t.slice(at + Math.floor(rnd() * 3));
    }
    const r = profileFlagsOfCmdFile('/b/.m.cmd', t);
    for (const f of r.flags) {
      const l = lineOf(t, f.span.start.line);
      assert.ok(
        f.span.end.line > f.span.start.line || f.span.end.character <= l.length,
        `span inside its line (case ${k})`,
      );
    }
    // Without quotes, escapes, comments or continuations, the two readers must agree exactly.
    if (!/['"\\#]/.test(t) && !t.includes(String.fromCharCode(1))) {
      assert.deepEqual(
        r.flags.map((x) => [x.target, x.flag]),
        flagsOfCmdFile('/b/.m.cmd', t).map((x) => [x.target, x.flag]),
        `case ${k}`,
      );
      agreed++;
    }
  }
  assert.ok(agreed > 50, `only ${agreed} comparable cases`);
});

test('40,000 commands in one .cmd file: linear (well under a second when quiet)', { timeout: 60_000 }, () => {
  const lines: string[] = [];
  for (let i = 0; i < 40_000; i++)
    lines.push(
      `savedcmd_dir/f${i}.o := clang -Wp,-MMD,dir/.f${i}.o.d -O2 -fprofile-sample-use=/p/${i}.prof -DKBUILD_BASENAME='"f${i}"' -c -o dir/f${i}.o dir/f${i}.c`,
    );
  const text = lines.join('\n') + '\n';
  const { value: r, ms } = cpuTimed(() => profileFlagsOfCmdFile('/b/.big.cmd', text));
  assert.equal(r.flags.length, 40_000);
  assert.equal(r.flags[39_999].span.start.line, 39_999);
  assert.ok(ms < 10_000, `${ms.toFixed(0)} ms`);
});

test('a 62 MB .cmd text is refused as too-large at once; a word cap cuts and says so', () => {
  const big = 'savedcmd_x.o := clang ' + '-DX '.repeat(16_000_000);
  assert.ok(big.length > 62_000_000);
  const { value: r, ms } = cpuTimed(() => readCmdFile(big));
  assert.ok(!r.ok && r.reason === 'too-large');
  assert.ok(ms < 1_000, `${ms.toFixed(0)} ms of CPU`);
  const p = profileFlagsOfCmdFile('/b/.x.o.cmd', big);
  assert.ok(p.incomplete && /larger than/.test(p.incomplete));
  const many = readCmdFile('savedcmd_x.o := ' + 'w '.repeat(5_000) + '-fprofile-sample-use=/late\n', {
    maxWords: 1_000,
  });
  assert.ok(many.ok && many.incomplete?.reason === 'too-many-words' && many.words === 1_000);
  const pf = profileFlagsOfCmdFile(
    '/b/.x.o.cmd',
    'savedcmd_x.o := ' + 'w '.repeat(5_000) + '-fprofile-sample-use=/late\n',
    { maxWords: 1_000 },
  );
  assert.ok(pf.incomplete, 'a cut scan is not "no flag"');
});

test(
  'a 15 MB .cmd file (just under the cap): bounded time and memory; readCmdFile stops at its word cap and says so',
  { timeout: 120_000 },
  () => {
    const line =
      'savedcmd_a/b.o := clang -nostdinc -I./arch/arm64/include -O2 -fprofile-sample-use=/p -DKBUILD_MODNAME=\'"b"\' -c -o a/b.o a/b.c\n';
    const text = line.repeat(Math.floor((15 * 1024 * 1024) / line.length));
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = process.cpuUsage();
    const r = readCmdFile(text);
    assert.ok(r.ok && r.incomplete?.reason === 'too-many-words' && r.words === 1_000_000);
    // The flag reader keeps one command at a time: no word cap needed under the size cap.
    const f = profileFlagsOfCmdFile('/b/.x.cmd', text, { maxWords: Infinity });
    const ms = cpuMsSince(t0);
    assert.equal(f.incomplete, undefined);
    assert.equal(f.flags.length, Math.floor((15 * 1024 * 1024) / line.length));
    const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
    assert.ok(ms < 60_000, `${ms.toFixed(0)} ms`);
    assert.ok(heapMb < 1_000, `${heapMb.toFixed(0)} MB`);
  },
);
