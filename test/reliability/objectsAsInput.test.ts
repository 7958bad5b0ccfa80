// Objects are input too (issue 19): a FIFO or a character device where a build's object should be —
// kvm_nvhe.tmp.o (what gen-hyprel reads) or switch.nvhe.o (a hyp object linked into it) — answers
// within its bound from every entry point and says what it could not read: `check` (exit 3 when
// nothing is found, the object named), `sections` (exit 1 with a message), `link-map` (an object or
// the script, .lds or .lds.S, as a FIFO or device: exit 1 naming what it is), the server's diagnostics
// (the analysis-incomplete diagnostic names it; the server keeps answering), the explorer's listing
// (the object's status is "error" with the reason) and its section table (a request error saying
// what the file is). The device is made with mknod (root only: a real character device node, 1:5 as
// /dev/zero, in the temp tree; no link) so it is a device, not a link to one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspClient } from '../helpers/lspClient';
import { root } from '../helpers/kernelTree';
import type { ObjectInfo } from '../../server/src/lspExt';

const NVHE_SRC = 'arch/arm64/kvm/hyp/nvhe';
const NVHE = `build/${NVHE_SRC}`;
const CLI = join(root, 'server', 'out', 'cli.js');
/** Each entry point's bound: a hang is a failure here, not a test-runner timeout. */
const BOUND_MS = 20_000;
const isRoot = process.getuid?.() === 0;

type Kind = 'fifo' | 'device';
const KINDS: { kind: Kind; what: RegExp; skip: string | false }[] = [
  { kind: 'fifo', what: /FIFO/, skip: false },
  { kind: 'device', what: /character device/, skip: isRoot ? false : 'mknod of a character device needs root' },
];
const OBJECTS = ['kvm_nvhe.tmp.o', 'switch.nvhe.o'];

let tmp: string;
before(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'kbd-objects-input-')));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A copy of the sample tree with `object` replaced by a FIFO or a device. `shape` 'leaks' keeps the
 * sample Makefile (the rule's error); '6.12' adds the filter of Linux 6.1–6.12 (the usual spellings
 * only: a hint, and the objects are still read, so nothing counts as found).
 */
function treeWith(name: string, kind: Kind | 'none', object: string, shape: 'leaks' | '6.12'): string {
  const tree = join(tmp, name);
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  if (shape === '6.12') {
    const mk = join(tree, NVHE_SRC, 'Makefile');
    const text = readFileSync(mk, 'utf8');
    const marker = '# KVM nVHE code is run at';
    assert.ok(text.includes(marker));
    writeFileSync(
      mk,
      text.replace(
        marker,
        'KBUILD_CFLAGS := $(filter-out -fprofile-sample-use=% -fprofile-use=%, $(KBUILD_CFLAGS))\n\n' + marker,
      ),
    );
  }
  const p = join(tree, NVHE, object);
  if (kind !== 'none') {
    rmSync(p);
    if (kind === 'fifo') execFileSync('mkfifo', [p]);
    else execFileSync('mknod', [p, 'c', '1', '5']);
  }
  return tree;
}

/** Runs the command line as a child process, killed at BOUND_MS (a hang fails the assertion). */
function cli(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, ms: Date.now() - t0 });
    });
  });
}

test(
  'check: the 6.1–6.12 shape with a regular build reads its objects and is clean (the baseline)',
  { timeout: 60_000 },
  async () => {
    const tree = treeWith('baseline', 'none', OBJECTS[0], '6.12');
    const r = await cli(['check', NVHE_SRC, '--build-dir', 'build'], tree);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /still reach the nVHE hyp compiles/, 'the hint (the objects are read for it)');
  },
);

for (const { kind, what, skip } of KINDS) {
  for (const object of OBJECTS) {
    test(
      `check with a ${kind} as ${object}: exit 3 within its bound, naming what it could not read`,
      { skip, timeout: 60_000 },
      async () => {
        const tree = treeWith(`check-${kind}-${object}`, kind, object, '6.12');
        const r = await cli(['check', NVHE_SRC, '--build-dir', 'build'], tree);
        assert.equal(r.code, 3, `exit ${r.code} after ${r.ms} ms: ${r.err}`);
        assert.ok(r.err.includes(`incomplete: ${join(tree, NVHE, object)}: cannot open: `), r.err);
        assert.match(r.err, what);
      },
    );

    test(
      `check with a ${kind} as ${object} and a Makefile that leaks: exit 1, the object named as not read`,
      { skip, timeout: 60_000 },
      async () => {
        const tree = treeWith(`leak-${kind}-${object}`, kind, object, 'leaks');
        const r = await cli(['check', NVHE_SRC, '--build-dir', 'build'], tree);
        assert.equal(r.code, 1, `exit ${r.code} after ${r.ms} ms: ${r.err}`);
        assert.match(r.out, /error: Profile metadata reaches gen-hyprel/);
        assert.ok(r.err.includes(`incomplete: ${join(tree, NVHE, object)}`), r.err);
        assert.match(r.err, what);
      },
    );

    test(
      `sections on a ${kind} as ${object}: exit 1 with a message, other files still printed`,
      { skip, timeout: 60_000 },
      async () => {
        const tree = treeWith(`sections-${kind}-${object}`, kind, object, 'leaks');
        const other = OBJECTS.find((o) => o !== object) as string;
        const r = await cli(['sections', join(NVHE, object), join(NVHE, other)], tree);
        assert.equal(r.code, 1, `exit ${r.code} after ${r.ms} ms: ${r.err}`);
        assert.match(
          r.err,
          new RegExp(`error: '${join(NVHE, object).replace(/\./g, '\\.')}': .*cannot open: is .*${what.source}`),
        );
        assert.ok(r.out.includes(`File: ${join(NVHE, other)}`), r.out);
      },
    );
  }

  for (const object of OBJECTS) {
    test(
      `link-map with a ${kind} as ${object}: exit 1 within its bound naming what it is, the other object still placed`,
      { skip, timeout: 60_000 },
      async () => {
        const tree = treeWith(`linkmap-${kind}-${object}`, kind, object, 'leaks');
        const other = OBJECTS.find((o) => o !== object) as string;
        const script = join(NVHE, 'hyp.lds');
        const r = await cli(
          ['link-map', '--script', script, '-r', join(NVHE, object), join(NVHE, other), '--json'],
          tree,
        );
        assert.equal(r.code, 1, `exit ${r.code} after ${r.ms} ms: ${r.err}`);
        assert.match(
          r.err,
          new RegExp(`link-map: ${join(NVHE, object).replace(/\./g, '\\.')}: is .*${what.source}.*not a regular file`),
        );
        const entries = JSON.parse(r.out) as { object: string; section: string; output: string | null }[];
        assert.ok(entries.length > 0, 'the readable object is placed');
        assert.ok(
          entries.every((e) => e.object === join(NVHE, other)),
          'only the readable object is listed',
        );
        // A hyp object's .text goes to hyp.lds's .hyp.text (kvm_nvhe.tmp.o, already linked, has no .text).
        if (other === 'switch.nvhe.o')
          assert.ok(
            entries.some((e) => e.section === '.text' && e.output === '.hyp.text'),
            JSON.stringify(entries),
          );
        else
          assert.ok(
            entries.some((e) => e.section === '.hyp.text'),
            JSON.stringify(entries),
          );
      },
    );
  }

  for (const script of ['hyp.lds', 'hyp.lds.S']) {
    test(
      `link-map with a ${kind} as the script ${script}: exit 1 within its bound, nothing placed`,
      { skip, timeout: 60_000 },
      async () => {
        const tree = treeWith(`linkmap-script-${kind}-${script}`, 'none', OBJECTS[0], 'leaks');
        const dir = script.endsWith('.S') ? NVHE_SRC : NVHE;
        const p = join(tree, dir, script);
        rmSync(p);
        if (kind === 'fifo') execFileSync('mkfifo', [p]);
        else execFileSync('mknod', [p, 'c', '1', '5']);
        const r = await cli(
          ['link-map', '--script', join(dir, script), '--build-dir', 'build', '-r', join(NVHE, OBJECTS[1])],
          tree,
        );
        assert.equal(r.code, 1, `exit ${r.code} after ${r.ms} ms: ${r.err}`);
        assert.match(r.err, new RegExp(`link-map: ${join(dir, script).replace(/\./g, '\\.')}: is .*${what.source}`));
        assert.equal(r.out, '');
      },
    );
  }

  test(
    `server with a ${kind} as kvm_nvhe.tmp.o: diagnostics within the bound naming it, the explorer lists it as unreadable, its section table is refused with the reason`,
    { skip, timeout: 90_000 },
    async () => {
      const tree = treeWith(`lsp-${kind}`, kind, 'kvm_nvhe.tmp.o', 'leaks');
      const bad = join(tree, NVHE, 'kvm_nvhe.tmp.o');
      const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
      try {
        await lsp.initialize(tree);
        const mk = join(tree, NVHE_SRC, 'Makefile');
        const uri = lsp.open(mk, readFileSync(mk, 'utf8'), 'kbuild');
        const pub = await lsp.diagnostics(
          uri,
          (p) => p.diagnostics.some((d) => d.code === 'analysis-incomplete'),
          BOUND_MS,
        );
        const inc = pub.diagnostics.find((d) => d.code === 'analysis-incomplete');
        assert.ok(inc?.message.includes(bad), inc?.message);
        assert.match(inc?.message ?? '', what);
        assert.ok(
          pub.diagnostics.some((d) => d.code === 'nvhe-profile-metadata'),
          'the rule still answers from what it could read',
        );

        const listing = await lsp.request<{ objects: ObjectInfo[] }>(
          'kbuild/listObjects',
          { buildUri: pathToFileURL(join(tree, 'build')).toString() },
          BOUND_MS,
        );
        const o = listing.objects.find((x) => x.uri === pathToFileURL(bad).toString());
        assert.ok(o, JSON.stringify(listing.objects.map((x) => x.relativePath)));
        assert.equal(o.status, 'error');
        assert.match(o.problem ?? '', what);
        assert.ok(
          listing.objects.some((x) => x.relativePath.endsWith('switch.nvhe.o') && x.status === 'offending'),
          'the other objects are still read',
        );

        const objectUri = pathToFileURL(bad).toString();
        const sections = await lsp
          .request<{ error?: string }>('kbuild/listSections', { objectUri }, BOUND_MS)
          .catch((e: Error) => ({ error: e.message }));
        assert.match(sections.error ?? '', what);
        await assert.rejects(
          lsp.request('kbuild/sectionTable', { objectUri, relocations: true }, BOUND_MS),
          (e: Error) => what.test(e.message) && e.message.includes(bad),
        );
        // And the server still answers other requests.
        const hover = await lsp.request(
          'textDocument/hover',
          { textDocument: { uri }, position: { line: 0, character: 0 } },
          BOUND_MS,
        );
        assert.ok(hover === null || typeof hover === 'object');
      } finally {
        await lsp.stop();
      }
    },
  );
}
