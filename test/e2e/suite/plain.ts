// Suite on an ordinary Makefile project (a folder with just a plain Makefile, no Kbuild markers):
// the extension must stay inactive and silent.
import * as vscode from 'vscode';
import { Suite, assert, EXT_ID, SOURCE, openDoc, sleep, describeDiagnostics } from './lib';

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

  s.test('after the workbench settles the extension is not active', async () => {
    await sleep(8000);
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
