// Kbuild's probe functions evaluated by meaning (server/src/kbuild/probes.ts), with the real
// definitions of Linux 6.1's and 6.12's scripts/Makefile.compiler (test/fixtures/kbuild-probes,
// copied from Debian's linux-source trees) in front of the Makefile text, as Kbuild reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makefileContexts } from '../../server/src/analysis';
import { evaluateMakefile } from '../../server/src/make/evaluator';
import { parseMakefile } from '../../server/src/make/parser';
import { probeHooks, probeSession } from '../../server/src/kbuild/probes';
import {
  archOfCommand,
  compilerOfCommand,
  toolchainFromConfig,
  withRecordedCompiler,
  type Toolchain,
} from '../../server/src/kbuild/toolchain';
import { parseConfig } from '../../server/src/kbuild/kbuildTree';
import { root } from '../helpers/kernelTree';

const compilerScript = (v: string) =>
  readFileSync(join(root, 'test', 'fixtures', 'kbuild-probes', `Makefile.compiler-${v}`), 'utf8');
const clang19arm64: Toolchain = toolchainFromConfig(
  parseConfig(
    'CONFIG_CC_IS_CLANG=y\nCONFIG_CLANG_VERSION=190107\nCONFIG_LD_IS_LLD=y\nCONFIG_LLD_VERSION=190107\nCONFIG_ARM64=y\n',
  ),
  'auto.conf',
);

function value(
  text: string,
  name: string,
  toolchain: Toolchain,
  assumptions = new Map<string, boolean>(),
  fallback = true,
) {
  const session = probeSession(toolchain, assumptions, fallback);
  const ev = evaluateMakefile(parseMakefile(text), { callHooks: probeHooks(session), undefinedIsEmpty: true });
  return { value: ev.expand(`$(${name})`).trim(), asked: [...session.asked.values()] };
}

test('the toolchain from the configuration and from a recorded command', () => {
  assert.deepEqual(
    {
      c: clang19arm64.compiler,
      v: clang19arm64.compilerVersion,
      m: clang19arm64.compilerMajor,
      l: clang19arm64.linker,
      lv: clang19arm64.linkerVersion,
      a: clang19arm64.arch,
    },
    { c: 'clang', v: 190107, m: 19, l: 'lld', lv: 190107, a: 'arm64' },
  );
  assert.deepEqual(compilerOfCommand(['clang-19', '-Wp,-MMD,x.d', '-c']), { compiler: 'clang', major: 19 });
  assert.deepEqual(compilerOfCommand(['ccache', '/usr/bin/aarch64-linux-gnu-gcc-12', '-c']), {
    compiler: 'gcc',
    major: 12,
  });
  assert.deepEqual(compilerOfCommand(['clang', '-c']), { compiler: 'clang', major: undefined });
  assert.equal(compilerOfCommand(['cc', '-c']), undefined);
  const noConfig = toolchainFromConfig({}, '');
  assert.equal(noConfig.compiler, undefined);
  assert.equal(withRecordedCompiler(noConfig, ['clang-19', '-c'], 'x/.a.o.cmd').compilerMajor, 19);
  // The configuration wins over a command.
  assert.equal(withRecordedCompiler(clang19arm64, ['gcc', '-c'], 'x').compiler, 'clang');
});

for (const v of ['6.1', '6.12']) {
  test(`Linux ${v} Makefile.compiler: cc-option and friends answered from the table, nothing run`, () => {
    const pre = compilerScript(v);
    // The v1 negation: clang 19 accepts -fno-profile-sample-use.
    assert.equal(
      value(pre + 'X := $(call cc-option,-fno-profile-sample-use,-fno-profile-use)\n', 'X', clang19arm64).value,
      '-fno-profile-sample-use',
    );
    // An x86-only option on arm64: the fallback.
    assert.equal(value(pre + 'X := $(call cc-option,-mfentry,-pg)\n', 'X', clang19arm64).value, '-pg');
    assert.equal(value(pre + 'X := $(call cc-option,-mfentry)\n', 'X', clang19arm64).value, '');
    assert.equal(value(pre + 'X := $(call cc-option-yn,-fsanitize=kernel-address)\n', 'X', clang19arm64).value, 'y');
    assert.equal(value(pre + 'X := $(call cc-option-yn,-mrecord-mcount)\n', 'X', clang19arm64).value, 'n');
    assert.equal(value(pre + 'X := $(call clang-min-version, 190000)\n', 'X', clang19arm64).value, 'y');
    assert.equal(value(pre + 'X := $(call clang-min-version, 200000)\n', 'X', clang19arm64).value, '');
    assert.equal(value(pre + 'X := $(call gcc-min-version, 70100)\n', 'X', clang19arm64).value, '');
    // A warning the table does not hold: a question with both outcomes, answered by the assumption.
    const w = value(pre + 'X := $(call cc-disable-warning, unused-but-set-variable)\n', 'X', clang19arm64);
    assert.equal(w.value, '-Wno-unused-but-set-variable');
    assert.equal(w.asked.length, 1);
    assert.equal(
      value(pre + 'X := $(call cc-disable-warning, unused-but-set-variable)\n', 'X', clang19arm64, new Map(), false)
        .value,
      '',
    );
    // The linker and assembler probes are always questions.
    const ld = value(pre + 'X := $(call ld-option,--no-warn-rwx-segments)\n', 'X', clang19arm64, new Map(), false);
    assert.deepEqual(
      [ld.value, ld.asked.map((q) => `${q.probe}:${q.subject}:${q.ifYes}:${q.ifNo}`)],
      ['', ['ld-option:--no-warn-rwx-segments:--no-warn-rwx-segments:']],
    );
  });
}

test('an unanswered cc-option is a question; each answer is evaluated when asked for', () => {
  const gcc = toolchainFromConfig(
    parseConfig('CONFIG_CC_IS_GCC=y\nCONFIG_GCC_VERSION=120200\nCONFIG_ARM64=y\n'),
    'auto.conf',
  );
  const text = compilerScript('6.1') + 'X := $(call cc-option,-fno-profile-sample-use,-fno-profile-use)\n';
  const yes = value(text, 'X', gcc);
  assert.equal(yes.value, '-fno-profile-sample-use');
  assert.equal(yes.asked.length, 1);
  const q = yes.asked[0];
  assert.deepEqual(
    [q.probe, q.subject, q.ifYes, q.ifNo],
    ['cc-option', '-fno-profile-sample-use', '-fno-profile-sample-use', '-fno-profile-use'],
  );
  assert.equal(value(text, 'X', gcc, new Map([[q.key, false]])).value, '-fno-profile-use');
  // cc-ifversion (older Kbuild) compares GCC's version.
  assert.equal(value('X := $(call cc-ifversion, -ge, 1100, new, old)\n', 'X', gcc).value, 'new');
  assert.equal(value('X := $(call cc-ifversion, -lt, 1100, new, old)\n', 'X', gcc).value, 'old');
});

test('a Makefile that defines its own cc-option gets its own definition', () => {
  assert.equal(
    value('cc-option = mine-$(1)\nX := $(call cc-option,-fno-profile-sample-use)\n', 'X', clang19arm64).value,
    'mine--fno-profile-sample-use',
  );
  // Without any definition (a Makefile read without its tree), Kbuild's meaning by name.
  assert.equal(value('X := $(call cc-option,-mfentry,-pg)\n', 'X', clang19arm64).value, '-pg');
});

test('without a configuration, the compiler and arch a .cmd file of the directory records', () => {
  assert.equal(archOfCommand(['clang-19', '--target=aarch64-linux-gnu', '-c']), 'arm64');
  assert.equal(archOfCommand(['clang', '--target=x86_64-linux-gnu']), 'x86');
  assert.equal(archOfCommand(['gcc', '-c']), undefined);
  const tree = mkdtempSync(join(tmpdir(), 'kbd-probes-'));
  try {
    mkdirSync(join(tree, 'scripts'));
    writeFileSync(join(tree, 'scripts', 'Kbuild.include'), '');
    writeFileSync(join(tree, 'scripts', 'Makefile.lib'), '');
    mkdirSync(join(tree, 'd'));
    writeFileSync(join(tree, 'd', 'Makefile'), 'obj-y := a.o\n');
    const [before] = makefileContexts(join(tree, 'd', 'Makefile'), 'obj-y := a.o\n', tree, undefined, tree);
    assert.equal(before.tree?.toolchain.compiler, undefined, 'nothing recorded yet');
    writeFileSync(
      join(tree, 'd', '.a.o.cmd'),
      'savedcmd_d/a.o := clang-19 -Wp,-MMD,d/.a.o.d --target=aarch64-linux-gnu -O2 -c -o d/a.o d/a.c\n',
    );
    const [after] = makefileContexts(join(tree, 'd', 'Makefile'), 'obj-y := a.o\n', tree, undefined, tree);
    assert.deepEqual(
      [after.tree?.toolchain.compiler, after.tree?.toolchain.compilerMajor, after.tree?.toolchain.arch],
      ['clang', 19, 'arm64'],
    );
    assert.equal(after.tree?.toolchain.source, join(tree, 'd', '.a.o.cmd'));
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
});
