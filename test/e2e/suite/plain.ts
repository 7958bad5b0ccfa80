// Suite on an ordinary Makefile project (a folder with just a plain Makefile, no Kbuild markers):
// the extension must stay inactive and silent.
import * as vscode from 'vscode';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Suite, assert, EXT_ID, SOURCE, openDoc, waitFor, describeDiagnostics } from './lib';

/** The text of the extension host logs under dir (the harness's server data: KBD_E2E_LOGS). */
function extensionHostLogs(dir: string): string {
  const texts: string[] = [];
  const walk = (d: string, depth: number) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && depth < 4) walk(p, depth + 1);
      else if (e.isFile() && /^(remote)?exthost\.log$/i.test(e.name)) texts.push(readFileSync(p, 'utf8'));
    }
  };
  walk(dir, 0);
  return texts.join('\n');
}

export async function run(): Promise<void> {
  const s = new Suite('plain');

  s.test('the extension is installed in this window', () => {
    assert.ok(
      vscode.extensions.getExtension(EXT_ID),
      `${EXT_ID} is not known to this window, so "not active" would prove nothing`,
    );
  });

  s.test('opening the Makefile leaves it a makefile document', async () => {
    const doc = await openDoc('Makefile');
    assert.equal(doc.languageId, 'makefile');
  });

  s.test('after the extension host has run the startup activations the extension is not active', async () => {
    // An absence is not a state; what is: the extension host reports "Eager extensions activated"
    // once every `*` and `workspaceContains` activation event of the window has been searched for and
    // the extensions it matched have been activated (VS Code awaits those activations before it logs
    // the line and before it runs this suite). So after the line, the extension could only activate
    // by an event this window never gives it (a kbuild document, a command, its view).
    const logs = process.env.KBD_E2E_LOGS;
    assert.ok(logs, 'KBD_E2E_LOGS (the harness names the server logs folder)');
    const text = await waitFor(
      () => {
        const t = extensionHostLogs(logs);
        return t.includes('Eager extensions activated') ? t : undefined;
      },
      'the extension host to report "Eager extensions activated"',
      60_000,
      () => `extension host log:\n${extensionHostLogs(logs).split('\n').slice(-15).join('\n')}`,
    );
    // A search that timed out would not have activated it either: then the check proves nothing.
    assert.ok(
      !new RegExp(`Not activating extension '${EXT_ID}': Timed out`, 'i').test(text),
      `the workspaceContains search for ${EXT_ID} timed out, so "not active" proves nothing`,
    );
    assert.equal(
      vscode.extensions.getExtension(EXT_ID)!.isActive,
      false,
      `${EXT_ID} activated in a plain Makefile project`,
    );
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.path.endsWith('/Makefile'));
    assert.equal(doc?.languageId, 'makefile', 'the plain Makefile was not switched to kbuild');
  });

  s.test('no diagnostics from kbuild-diagnostics', () => {
    const ours = vscode.languages
      .getDiagnostics()
      .flatMap(([, ds]) => ds)
      .filter((d) => d.source === SOURCE);
    assert.equal(ours.length, 0, describeDiagnostics());
  });

  await s.run();
}
