// The build's configuration in every Makefile, through the real server over LSP stdio, on Debian's
// linux-source-6.12 with an O= build directory configured by `make O=out ARCH=arm64 LLVM=-19
// defconfig` and a build of the arm64 vDSO (scripts/build-config-6.12.sh, cached under $KBD_CACHE).
// Every expectation is computed here from the .config and the Makefile text, independently of the
// server's code: faded branches, inlay hint values, the Kconfig entry of CONFIG_KVM, object fates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LspClient, type LspDiagnostic } from '../helpers/lspClient';
import { kernelTree, root } from '../helpers/kernelTree';
import { type Branch, conditionals, expectedFaded, inUndecided, readDotConfig } from '../helpers/configExpect';

const missing = (() => {
  for (const tool of ['clang-19', 'ld.lld-19', 'make']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return existsSync('/usr/src/linux-source-6.12.tar.xz') ? undefined : 'linux-source-6.12 is not installed';
})();
if (missing && process.env.CI) throw new Error(`CI needs the kernel toolchain: ${missing}`);

let tree: string;
let config: Map<string, string>;
let lsp: LspClient;

interface InlayHint {
  position: { line: number; character: number };
  label: string;
}
interface Location {
  uri: string;
  range: LspDiagnostic['range'];
}

before(() => {
  if (missing) return;
  const out = execFileSync('bash', [join(root, 'scripts', 'build-config-6.12.sh')], {
    encoding: 'utf8',
    timeout: 30 * 60_000,
  })
    .trim()
    .split('\n');
  tree = out[out.length - 1];
  config = readDotConfig(join(tree, 'out', '.config'));
});

after(async () => {
  await lsp?.stop();
});

async function openAndSettle(file: string): Promise<{ uri: string; text: string; diagnostics: LspDiagnostic[] }> {
  const text = readFileSync(file, 'utf8');
  const uri = lsp.open(file, text, 'kbuild');
  const pub = await lsp.diagnostics(uri, () => true, 120_000);
  return { uri, text, diagnostics: pub.diagnostics };
}

test(
  '6.12 with an O= defconfig build: faded branches, values, Kconfig, object fates',
  { skip: missing ?? false, timeout: 20 * 60_000 },
  async (t) => {
    lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
    await lsp.initialize(tree);
    const arm64 = await openAndSettle(join(tree, 'arch/arm64/Makefile'));
    const lines = arm64.text.split('\n');

    await t.test('arch/arm64/Makefile: a branch is faded exactly when the configuration does not take it', () => {
      const faded = arm64.diagnostics.filter((d) => d.code === 'inactive-branch');
      for (const d of faded) {
        assert.equal(d.severity, 4, 'Hint');
        assert.deepEqual((d as LspDiagnostic & { tags?: number[] }).tags, [1], 'Unnecessary');
      }
      const expected: string[] = [];
      const undecided: Branch[] = [];
      const chains = conditionals(lines, config);
      expectedFaded(chains, expected, undecided);
      // The test is about the top level's option tests: the file has a dozen, some with else-chains.
      assert.ok(chains.filter((c) => c.branches.every((b) => b.taken !== undefined)).length >= 12);
      assert.ok(expected.length >= 8, `expected faded branches: ${expected.join(', ')}`);
      const got = faded.map((d) => `${d.range.start.line}-${d.range.end.line}`);
      assert.deepEqual(got.filter((r) => !inUndecided(r, undecided)).sort(), [...expected].sort());
      // Conditions the model cannot decide (a probe of rustc, a make command-line variable) are never faded.
      for (const probe of [/rustc-min-version/, /KBUILD_EXTMOD/]) {
        const chain = chains.find((c) => probe.test(c.branches[0].text));
        assert.ok(chain, `the file has a ${probe} test`);
        for (const b of chain.branches)
          assert.ok(
            !got.some((r) => Number(r.split('-')[0]) >= b.first && Number(r.split('-')[0]) <= b.last),
            `${b.text} not faded`,
          );
      }
    });

    await t.test('inlay hints: the .config value (or unset) after every option the file names', async () => {
      const hints = await lsp.request<InlayHint[]>('textDocument/inlayHint', {
        textDocument: { uri: arm64.uri },
        range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } },
      });
      const named = lines.flatMap((l) => [...l.matchAll(/\$\(CONFIG_\w+\)|^\s*ifn?def\s+CONFIG_\w+/g)]).length;
      assert.equal(hints.length, named);
      let unset = 0;
      for (const h of hints) {
        const before = lines[h.position.line].slice(0, h.position.character);
        const name = /(CONFIG_\w+)\)?$/.exec(before)?.[1];
        assert.ok(name, `a hint after an option: ${before}`);
        assert.equal(h.label, config.get(name) ?? 'unset', name);
        if (!config.has(name)) unset++;
      }
      assert.ok(unset > 0 && unset < hints.length, 'both set and unset options are shown');
    });

    const kvm = await openAndSettle(join(tree, 'arch/arm64/kvm/Makefile'));
    const kvmLines = kvm.text.split('\n');
    const at = (re: RegExp, word: string) => {
      const line = kvmLines.findIndex((l) => re.test(l));
      assert.ok(line >= 0, String(re));
      return { line, character: kvmLines[line].indexOf(word) + 2 };
    };

    await t.test('definition of CONFIG_KVM: its menuconfig entry in arch/arm64/kvm/Kconfig', async () => {
      const locs = await lsp.request<Location[]>(
        'textDocument/definition',
        { textDocument: { uri: kvm.uri }, position: at(/^obj-\$\(CONFIG_KVM\)\s*\+=\s*kvm\.o/, 'CONFIG_KVM') },
        120_000,
      );
      assert.equal(locs.length, 1);
      const file = fileURLToPath(locs[0].uri);
      assert.equal(file, join(tree, 'arch/arm64/kvm/Kconfig'));
      const line = readFileSync(file, 'utf8').split('\n')[locs[0].range.start.line];
      assert.match(line, /^menuconfig KVM\s*$/);
      assert.equal(line.slice(locs[0].range.start.character, locs[0].range.end.character), 'KVM');
    });

    await t.test('hover on CONFIG_KVM: prompt, type, value, help', async () => {
      const h = await lsp.request<{ contents: { value: string } }>('textDocument/hover', {
        textDocument: { uri: kvm.uri },
        position: at(/^obj-\$\(CONFIG_KVM\)/, 'CONFIG_KVM'),
      });
      assert.match(h.contents.value, /menuconfig KVM/);
      assert.match(h.contents.value, /\(bool\)/);
      assert.match(h.contents.value, /Kernel-based Virtual Machine \(KVM\) support/);
      assert.ok(h.contents.value.includes(`Value in this build: \`${config.get('CONFIG_KVM') ?? 'unset'}\``));
    });

    await t.test('hover on kvm-$(CONFIG_PTDUMP_STAGE2_DEBUGFS) += ptdump.o: not built', async () => {
      assert.equal(config.has('CONFIG_PTDUMP_STAGE2_DEBUGFS'), false, 'defconfig leaves it unset');
      const h = await lsp.request<{ contents: { value: string } }>('textDocument/hover', {
        textDocument: { uri: kvm.uri },
        position: at(/^kvm-\$\(CONFIG_PTDUMP_STAGE2_DEBUGFS\)\s*\+=\s*ptdump\.o/, 'kvm-'),
      });
      assert.match(h.contents.value, /`ptdump\.o`: not built/);
      assert.match(h.contents.value, /`CONFIG_PTDUMP_STAGE2_DEBUGFS` = `unset`/);
    });

    await t.test(
      'hover on obj-$(CONFIG_KVM) += kvm.o: built in, not in the build directory (only the vDSO was built)',
      async () => {
        assert.equal(config.get('CONFIG_KVM'), 'y');
        assert.equal(existsSync(join(tree, 'out/arch/arm64/kvm/kvm.o')), false);
        const h = await lsp.request<{ contents: { value: string } }>('textDocument/hover', {
          textDocument: { uri: kvm.uri },
          position: { line: at(/^obj-\$\(CONFIG_KVM\)/, 'obj').line, character: 1 },
        });
        assert.match(h.contents.value, /`kvm\.o`: built in; not in the build directory/);
      },
    );

    await t.test('find all references of CONFIG_KVM: the make files that name it', async () => {
      const locs = await lsp.request<Location[]>(
        'textDocument/references',
        {
          textDocument: { uri: kvm.uri },
          position: at(/^obj-\$\(CONFIG_KVM\)/, 'CONFIG_KVM'),
          context: { includeDeclaration: false },
        },
        120_000,
      );
      const expected = execFileSync(
        'grep',
        [
          '-rlw',
          '--include=Makefile*',
          '--include=Kbuild*',
          '--exclude-dir=Documentation',
          '--exclude-dir=include',
          '--exclude-dir=out',
          'CONFIG_KVM',
          tree,
        ],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n')
        .sort();
      assert.deepEqual([...new Set(locs.map((l) => fileURLToPath(l.uri)))].sort(), expected);
      for (const l of locs) {
        const text = readFileSync(fileURLToPath(l.uri), 'utf8').split('\n')[l.range.start.line];
        assert.equal(text.slice(l.range.start.character, l.range.end.character), 'CONFIG_KVM');
      }
    });

    await t.test('the setting turns the hints off', async () => {
      lsp.notify('workspace/didChangeConfiguration', { settings: { kbuildDiagnostics: { configInlayHints: false } } });
      const hints = await lsp.request<InlayHint[]>('textDocument/inlayHint', {
        textDocument: { uri: arm64.uri },
        range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } },
      });
      assert.deepEqual(hints, []);
    });
  },
);

test(
  '6.12 without any configuration: no hints and nothing faded (no guess)',
  { skip: missing ?? false, timeout: 5 * 60_000 },
  async () => {
    const pristine = kernelTree('6.12');
    assert.ok('path' in pristine);
    assert.equal(existsSync(join(pristine.path, '.config')), false, 'the extracted tree is not configured');
    const bare = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
    try {
      await bare.initialize(pristine.path);
      const file = join(pristine.path, 'arch/arm64/Makefile');
      const text = readFileSync(file, 'utf8');
      const uri = bare.open(file, text, 'kbuild');
      const pub = await bare.diagnostics(uri, () => true, 60_000);
      assert.deepEqual(
        pub.diagnostics.filter((d) => d.code === 'inactive-branch'),
        [],
      );
      const hints = await bare.request<InlayHint[]>('textDocument/inlayHint', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 400, character: 0 } },
      });
      assert.deepEqual(hints, []);
    } finally {
      await bare.stop();
    }
  },
);
