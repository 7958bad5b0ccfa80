// The real server over stdio under random edit sequences (seeded): didOpen/didChange with random
// splices, codeAction, hover, documentSymbol and every custom request in lspExt.ts, some with garbage
// params. The server never dies, every request gets a result or an LSP error, and diagnostics for
// the last version arrive. Also: expansion blow-ups give a make-evaluation diagnostic and the server
// keeps answering; a code action's edit names the version the request saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LspClient, PublishedDiagnostics } from '../helpers/lspClient';
import { rng } from './makeFuzzCore';
import { assertAlive, diagnosticsOf, NVHE, sampleTree, startServer, uri } from './lspHelpers';

const SEED = Number(process.env.KBD_LSP_FUZZ_SEED ?? 7);
const STEPS = Number(process.env.KBD_LSP_FUZZ_STEPS ?? 1500);
let t: ReturnType<typeof sampleTree>;
let lsp: LspClient;

before(async () => {
  t = sampleTree();
  // The editor's default debounce: a burst of edits is analysed once, as in VS Code.
  lsp = await startServer(t.tree, {
    env: { KBUILD_DIAGNOSTICS_DEBOUNCE_MS: process.env.KBD_LSP_FUZZ_DEBOUNCE ?? '150' },
  });
});
after(async () => {
  await lsp.stop();
  rmSync(t.tree, { recursive: true, force: true });
});

const SPLICES = [
  '$(',
  ')',
  '\\\n',
  'define X\n',
  'endef\n',
  '\0',
  'ifeq (a,b)\n',
  'endif\n',
  'X = $(X)\n',
  '$(shell touch /tmp/kbd-lsp-fuzz-shell)\n',
  'KBUILD_CFLAGS += -fprofile-sample-use=p.prof\n',
  '\r\n',
  '\t',
  '\ud83d\ude00',
  'f = $(call f,$(1)$(1))\nY := $(call f,x)\n',
  '#',
  '',
  'x'.repeat(5000),
];

function posOf(text: string, off: number): { line: number; character: number } {
  const before = text.slice(0, off);
  const line = before.split('\n').length - 1;
  return { line, character: off - (before.lastIndexOf('\n') + 1) };
}

test(
  `${STEPS} random edits and requests: no death, every request answered, last version diagnosed`,
  { timeout: 120_000 },
  async (tc) => {
    const r = rng(SEED);
    const docUri = lsp.open(t.makefile, t.text, 'kbuild', 1);
    let text = t.text;
    let version = 1;
    let answered = 0;
    let errors = 0;
    const inflight: Promise<void>[] = [];
    const ask = (method: string, params: unknown): void => {
      inflight.push(
        lsp.request(method, params, 20_000).then(
          () => void answered++,
          (e: Error & { code?: number }) => {
            // An LSP error response is fine; a timeout or a dead server is not.
            if (typeof e.code !== 'number') throw e;
            errors++;
          },
        ),
      );
    };
    const objUri = uri(join(t.buildNvhe, 'kvm_nvhe.tmp.o'));
    for (let step = 0; step < STEPS; step++) {
      const k = r();
      if (k < 0.55) {
        // A random splice as an incremental change (ranges computed on our copy of the text).
        const a = Math.floor(r() * (text.length + 1));
        const b = Math.min(text.length, a + Math.floor(r() * 40));
        const ins = SPLICES[Math.floor(r() * SPLICES.length)];
        const range = { start: posOf(text, a), end: posOf(text, b) };
        text = text.slice(0, a) + ins + text.slice(b);
        lsp.notify('textDocument/didChange', {
          textDocument: { uri: docUri, version: ++version },
          contentChanges: [{ range, text: ins }],
        });
      } else if (k < 0.6) {
        text = r() < 0.5 ? t.text : text;
        lsp.change(docUri, ++version, text);
      } else {
        const line = Math.floor(r() * 120);
        const pos = { line, character: Math.floor(r() * 80) };
        const which = Math.floor(r() * 12);
        const garbage = r() < 0.15;
        switch (which) {
          case 0:
            ask('textDocument/hover', { textDocument: { uri: docUri }, position: pos });
            break;
          case 1:
            ask('textDocument/documentSymbol', { textDocument: { uri: docUri } });
            break;
          case 2:
            ask('textDocument/codeAction', {
              textDocument: { uri: docUri },
              range: { start: pos, end: pos },
              context: {
                diagnostics: [{ range: { start: pos, end: pos }, message: 'x', code: 'nvhe-profile-metadata' }],
                only: r() < 0.3 ? ['source.fixAll'] : undefined,
              },
            });
            break;
          case 3:
            ask(
              'kbuild/fixEdit',
              garbage ? { fix: 'Z', makefileUri: 'http://x' } : { makefileUri: docUri, fix: r() < 0.5 ? 'A' : 'B' },
            );
            break;
          case 4:
            ask('kbuild/makePatch', garbage ? { makefileUri: 42 } : { makefileUri: docUri, fix: 'A' });
            break;
          case 5:
            ask('kbuild/fixLocation', {});
            break;
          case 6:
            ask('kbuild/listBuildDirectories', {});
            break;
          case 7:
            ask('kbuild/listObjects', garbage ? { buildUri: null } : { buildUri: uri(join(t.tree, 'build')) });
            break;
          case 8:
            ask('kbuild/listSections', garbage ? {} : { objectUri: objUri });
            break;
          case 9:
            ask('kbuild/sectionTable', { objectUri: garbage ? uri(t.makefile) : objUri, relocations: r() < 0.5 });
            break;
          case 10:
            ask('kbuild/compareObjects', {
              leftUri: objUri,
              rightUri: uri(join(t.buildNvhe, garbage ? 'nope.o' : 'switch.nvhe.o')),
            });
            break;
          default:
            ask('kbuild/addObject', { objectUri: garbage ? 'file:///dev/null' : uri(join(t.buildNvhe, 'tlb.nvhe.o')) });
            break;
        }
      }
      if (step % 25 === 0) await new Promise((res) => setTimeout(res, 5));
      // Like an editor: a bounded number of requests in flight, and a file that stays editor-sized.
      if (inflight.length >= 64) await Promise.all(inflight.splice(0));
      if (text.length > 200_000) lsp.change(docUri, ++version, (text = t.text));
    }
    await Promise.all(inflight);
    if (process.env.KBD_LSP_FUZZ_DUMP) writeFileSync(process.env.KBD_LSP_FUZZ_DUMP, text);
    // past = true: with no debounce the last diagnostics may arrive while the last requests finish.
    const last = await lsp.waitFor<PublishedDiagnostics>(
      'textDocument/publishDiagnostics',
      (p) => p.uri === docUri && p.version === version,
      20_000,
      true,
    );
    assert.ok(Array.isArray(last.diagnostics));
    await assertAlive(lsp, docUri);
    tc.diagnostic(
      `seed ${SEED}: ${STEPS} steps, edits to version ${version}, ${answered} results, ${errors} LSP errors`,
    );
    assert.ok(answered + errors > STEPS / 4, `answered ${answered}, errors ${errors}`);
    lsp.notify('textDocument/didClose', { textDocument: { uri: docUri } });
  },
);

test(
  'expansion blow-ups end at the evaluator limit with a make-evaluation diagnostic; the server keeps answering',
  { timeout: 30_000 },
  async () => {
    const file = join(t.tree, NVHE, 'blowup.mk');
    const blow = [
      'X = $(X)',
      'A := $(X)',
      'f = $(call f,$(1)$(1))',
      'B := $(call f,x)',
      'L0 := x x x x x x x x x x',
      'L1 := $(foreach a,$(L0),$(foreach b,$(L0),$(foreach c,$(L0),$(foreach d,$(L0),$(foreach e,$(L0),$(foreach f,$(L0),$(L0))))))))',
      '',
    ].join('\n');
    const u = lsp.open(file, blow, 'kbuild', 1);
    const t0 = Date.now();
    const pub = await diagnosticsOf(lsp, u, (p) => p.version === 1);
    const evalDiags = pub.diagnostics.filter((d) => d.code === 'make-evaluation');
    assert.ok(evalDiags.length >= 2, JSON.stringify(pub.diagnostics.map((d) => [d.code, d.message])));
    for (const line of [1, 3])
      assert.ok(
        evalDiags.some((d) => d.range.start.line === line),
        `a diagnostic on line ${line + 1}: ${JSON.stringify(evalDiags.map((d) => [d.range.start.line, d.message]))}`,
      );
    const hoverT0 = Date.now();
    await lsp.request('textDocument/hover', { textDocument: { uri: u }, position: { line: 5, character: 2 } }, 10_000);
    await assertAlive(lsp, u);
    assert.ok(Date.now() - hoverT0 < 5_000);
    assert.ok(Date.now() - t0 < 20_000);
    lsp.notify('textDocument/didClose', { textDocument: { uri: u } });
  },
);

test(
  'a code action edit carries the version its request saw; a newer version gets no stale edit',
  { timeout: 30_000 },
  async () => {
    const u = lsp.open(t.makefile, t.text, 'kbuild', 100);
    const pub = await diagnosticsOf(
      lsp,
      u,
      (p) => p.version === 100 && p.diagnostics.some((d) => d.code === 'nvhe-profile-metadata'),
    );
    const diag = pub.diagnostics.filter((d) => d.code === 'nvhe-profile-metadata');
    const range = diag[0].range;
    interface Action {
      edit: { documentChanges: { textDocument: { version: number } }[] };
    }
    const a1 = await lsp.request<Action[]>('textDocument/codeAction', {
      textDocument: { uri: u },
      range,
      context: { diagnostics: diag },
    });
    assert.ok(a1.length >= 1);
    for (const a of a1) assert.equal(a.edit.documentChanges[0].textDocument.version, 100);
    // Edit and ask in the same breath: every edit returned names the version current when it was computed.
    const seen: number[] = [];
    for (let v = 101; v <= 140; v++) {
      lsp.change(u, v, `${t.text}\n# edit ${v}\n`);
      const acts = await lsp.request<Action[]>('textDocument/codeAction', {
        textDocument: { uri: u },
        range,
        context: { diagnostics: diag },
      });
      for (const a of acts) seen.push(a.edit.documentChanges[0].textDocument.version);
      for (const a of acts)
        assert.equal(a.edit.documentChanges[0].textDocument.version, v, 'an edit for an older version');
    }
    assert.ok(seen.length > 0);
    const fe = await lsp.request<{ edit: { version: number | null } | null }>('kbuild/fixEdit', {
      makefileUri: u,
      fix: 'A',
    });
    assert.equal(fe.edit?.version, 140);
    lsp.notify('textDocument/didClose', { textDocument: { uri: u } });
  },
);
