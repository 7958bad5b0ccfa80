// Suite on a copy of the sample tree WITHOUT its build directory: the same Makefile problem is
// only a Warning, since no build output proves that the profile reached the compiler.
import * as vscode from 'vscode';
import {
  Suite,
  assert,
  NVHE_MAKEFILE,
  activeExtension,
  openDoc,
  wsUri,
  nvheDiagnostic,
  offeredFixes,
  findLine,
} from './lib';

export async function run(): Promise<void> {
  const s = new Suite('nobuild');
  const makefile = wsUri(NVHE_MAKEFILE);

  s.test('the extension activates', async () => {
    await activeExtension();
  });

  s.test('without a build directory the nvhe diagnostic is a Warning on the filter-out line', async () => {
    const doc = await openDoc(NVHE_MAKEFILE);
    const d = await nvheDiagnostic(makefile);
    assert.equal(
      d.severity,
      vscode.DiagnosticSeverity.Warning,
      `severity is ${vscode.DiagnosticSeverity[d.severity]}, expected Warning`,
    );
    assert.equal(d.range.start.line, findLine(doc.getText(), /^KBUILD_CFLAGS\s*:=\s*\$\(filter-out/));
  });

  s.test('both quick fixes are still offered', async () => {
    const doc = await openDoc(NVHE_MAKEFILE);
    await nvheDiagnostic(makefile);
    const titles = (
      await offeredFixes(doc, [
        'Filter profile-use flags out of KBUILD_CFLAGS',
        'Remove .llvm.call-graph-profile before gen-hyprel',
      ])
    ).map((a) => a.title);
    assert.ok(
      titles.some((t) => t.startsWith('Filter profile-use flags out of KBUILD_CFLAGS')),
      JSON.stringify(titles),
    );
    assert.ok(
      titles.some((t) => t.startsWith('Remove .llvm.call-graph-profile before gen-hyprel')),
      JSON.stringify(titles),
    );
  });

  await s.run();
}
