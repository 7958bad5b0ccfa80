// A small test runner for suites that run inside the real VS Code extension host
// (the `extensionTestsPath` contract: the bundle exports `run(): Promise<void>`, rejecting fails the run).
// Every test and every wait is bounded. Results go to the console and, when the harness sets
// KBD_E2E_RESULTS, to that JSON file (the harness prints it). The last console line of a suite is
// `N passed, N failed` (skips are listed and counted apart, never as passes).
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';

export { assert };
export const EXT_ID = 'kbuild-diagnostics.kbuild-diagnostics';
export const SOURCE = 'kbuild-diagnostics';
export const CODE = 'nvhe-profile-metadata';
export const NVHE_MAKEFILE = 'arch/arm64/kvm/hyp/nvhe/Makefile';

type Body = () => Promise<void> | void;
interface Case {
  name: string;
  body?: Body;
  skip?: string;
  timeoutMs: number;
}
interface Result {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  ms: number;
  error?: string;
}

export class Suite {
  private readonly cases: Case[] = [];
  constructor(readonly name: string) {}

  test(name: string, body: Body, timeoutMs = 60_000): void {
    this.cases.push({ name, body, timeoutMs });
  }

  /** A test that cannot run here: reported as skipped with its reason (CI turns it into a failure). */
  skip(name: string, reason: string): void {
    this.cases.push({ name, skip: reason, timeoutMs: 0 });
  }

  async run(): Promise<void> {
    const results: Result[] = [];
    const log = (s: string) => console.log(`[e2e:${this.name}] ${s}`);
    log(`VS Code ${vscode.version}, workspace ${vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '(none)'}`);
    // KBD_E2E_FILTER=regex runs only matching tests (for working on one test; never set on CI).
    const filter = process.env.KBD_E2E_FILTER ? new RegExp(process.env.KBD_E2E_FILTER, 'i') : undefined;
    for (const c of this.cases) {
      const t0 = Date.now();
      if (filter && !filter.test(c.name)) continue;
      if (c.skip !== undefined) {
        const onCi = process.env.CI === 'true';
        results.push({
          name: c.name,
          status: onCi ? 'failed' : 'skipped',
          ms: 0,
          error: onCi ? `skipped on CI: ${c.skip}` : c.skip,
        });
        log(`${onCi ? 'FAIL' : 'SKIP'} ${c.name}: ${c.skip}`);
        continue;
      }
      try {
        await withTimeout(Promise.resolve().then(c.body), c.timeoutMs, `test "${c.name}"`);
        results.push({ name: c.name, status: 'passed', ms: Date.now() - t0 });
        log(`ok   ${c.name} (${Date.now() - t0} ms)`);
      } catch (e) {
        const msg = e instanceof Error ? `${e.message}` : String(e);
        results.push({ name: c.name, status: 'failed', ms: Date.now() - t0, error: msg });
        log(`FAIL ${c.name} (${Date.now() - t0} ms)\n${indent(msg)}`);
      }
    }
    const passed = results.filter((r) => r.status === 'passed').length;
    const failed = results.filter((r) => r.status === 'failed').length;
    const skipped = results.filter((r) => r.status === 'skipped').length;
    const summary = `${passed} passed, ${failed} failed${skipped ? ` (${skipped} skipped)` : ''}`;
    await uiHandshake(log);
    const file = process.env.KBD_E2E_RESULTS;
    if (file)
      writeFileSync(file, JSON.stringify({ suite: this.name, results, passed, failed, skipped, summary }, null, 2));
    log(summary);
    if (failed > 0 || (passed === 0 && skipped === 0)) throw new Error(`${this.name}: ${summary}`);
  }
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `       ${l}`)
    .join('\n');
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value that is not undefined/false; throws `describe()` on timeout. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
  describe?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}${describe ? `\n${describe()}` : ''}`,
      );
    }
    await sleep(200);
  }
}

export function workspaceRoot(): vscode.Uri {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f) throw new Error('no workspace folder is open');
  return f.uri;
}

export function wsUri(rel: string): vscode.Uri {
  return vscode.Uri.joinPath(workspaceRoot(), rel);
}

export function codeValue(code: vscode.Diagnostic['code']): string | number | undefined {
  return typeof code === 'object' && code !== null ? code.value : code;
}

export function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === SOURCE);
}

export function describeDiagnostics(uri?: vscode.Uri): string {
  const all = uri ? [[uri, vscode.languages.getDiagnostics(uri)] as const] : vscode.languages.getDiagnostics();
  const lines: string[] = [];
  for (const [u, ds] of all) {
    for (const d of ds)
      lines.push(
        `  ${vscode.workspace.asRelativePath(u)}:${d.range.start.line + 1} [${d.source}/${String(codeValue(d.code))}] ${vscode.DiagnosticSeverity[d.severity]}: ${d.message.split('\n')[0]}`,
      );
  }
  return lines.length ? `diagnostics now:\n${lines.join('\n')}` : 'diagnostics now: none';
}

/** Waits for the extension to be active (activation events must fire on their own). */
export async function activeExtension(timeoutMs = 30_000): Promise<vscode.Extension<unknown>> {
  const ext = vscode.extensions.getExtension(EXT_ID);
  assert.ok(ext, `extension ${EXT_ID} is not installed in this window`);
  await waitFor(() => ext.isActive, `${EXT_ID} to activate`, timeoutMs);
  return ext;
}

export async function openDoc(rel: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(wsUri(rel));
  await vscode.window.showTextDocument(doc, { preview: false });
  return doc;
}

/** The one nvhe-profile-metadata diagnostic on uri, waited for. */
export async function nvheDiagnostic(uri: vscode.Uri, timeoutMs = 30_000): Promise<vscode.Diagnostic> {
  return waitFor(
    () => ours(uri).find((d) => codeValue(d.code) === CODE),
    `a ${SOURCE} diagnostic with code ${CODE} on ${vscode.workspace.asRelativePath(uri)}`,
    timeoutMs,
    () => describeDiagnostics(uri),
  );
}

export function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

export function flattenSymbols(symbols: (vscode.DocumentSymbol | vscode.SymbolInformation)[]): string[] {
  const names: string[] = [];
  const walk = (s: vscode.DocumentSymbol | vscode.SymbolInformation) => {
    names.push(s.name);
    if ('children' in s) s.children.forEach(walk);
  };
  symbols.forEach(walk);
  return names;
}

/** Index of the first line matching re, or -1. */
export function findLine(text: string, re: RegExp): number {
  return text.split('\n').findIndex((l) => re.test(l));
}

/** make's logical lines: a line ending in a backslash continues on the next (joined with one space). */
export function logicalLines(lines: string[]): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  for (const l of lines) {
    const piece = cur === undefined ? l : `${cur} ${l.trim()}`;
    if (/\\$/.test(l) && !/^\s*#/.test(piece)) cur = piece.replace(/\s*\\$/, '');
    else {
      out.push(piece);
      cur = undefined;
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** `KBUILD_CFLAGS := $(filter-out ..., $(KBUILD_CFLAGS))`: the words it filters, or undefined. */
export function filterOutWords(line: string): string[] | undefined {
  const m = /^\s*KBUILD_CFLAGS\s*:=\s*\$\(filter-out\s+([^,]*),\s*\$\(KBUILD_CFLAGS\)\s*\)\s*$/.exec(line);
  return m ? m[1].trim().split(/\s+/) : undefined;
}

/** Code actions of kind quickfix at a diagnostic. */
export async function quickFixes(uri: vscode.Uri, diag: vscode.Diagnostic): Promise<vscode.CodeAction[]> {
  const actions =
    (await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
      'vscode.executeCodeActionProvider',
      uri,
      diag.range,
      vscode.CodeActionKind.QuickFix.value,
    )) ?? [];
  // A bare Command has a string `command`; a CodeAction has a Command object there, or none.
  return actions.filter((a): a is vscode.CodeAction => typeof (a as { command?: unknown }).command !== 'string');
}

/**
 * The quick-fixes at the nvhe diagnostic of doc, once they include a fix starting with each of
 * `want`, for the document's current version. Under load the list can be asked for before the
 * server has caught up (the client then gets an empty or partial list), or the document can change
 * while it is computed: such a list is not an answer, so it is asked for again until the state holds.
 */
export async function offeredFixes(
  doc: vscode.TextDocument,
  want: string[],
  timeoutMs = 60_000,
): Promise<vscode.CodeAction[]> {
  let last = 'no request made yet';
  return waitFor(
    async () => {
      const version = doc.version;
      const d = ours(doc.uri).find((x) => codeValue(x.code) === CODE);
      if (!d) {
        last = `no ${CODE} diagnostic at version ${version}`;
        return undefined;
      }
      const actions = await quickFixes(doc.uri, d);
      last = `version ${version}${doc.version !== version ? ` (changed to ${doc.version} meanwhile)` : ''}: ${JSON.stringify(actions.map((a) => a.title))}`;
      if (doc.version !== version) return undefined;
      return want.every((w) => actions.some((a) => a.title.startsWith(w))) ? actions : undefined;
    },
    `quick-fixes ${JSON.stringify(want)} on ${vscode.workspace.asRelativePath(doc.uri)}`,
    timeoutMs,
    () => `last answer: ${last}\n${describeDiagnostics(doc.uri)}`,
  );
}

/** Applies a code action; with an edit, waits until the document shows a new version. */
export async function applyAction(action: vscode.CodeAction, doc?: vscode.TextDocument): Promise<void> {
  const version = doc?.version;
  if (action.edit)
    assert.ok(await vscode.workspace.applyEdit(action.edit), `applyEdit of "${action.title}" returned false`);
  if (action.command) await vscode.commands.executeCommand(action.command.command, ...(action.command.arguments ?? []));
  assert.ok(action.edit || action.command, `code action "${action.title}" has neither an edit nor a command`);
  if (doc && version !== undefined)
    await waitFor(
      () => doc.version > version,
      `a new version of ${vscode.workspace.asRelativePath(doc.uri)} after "${action.title}"`,
      20_000,
      () => `version still ${doc.version}`,
    );
}

/**
 * Reverts doc's unsaved changes (the file on disk is not touched) and waits until the document holds
 * `saved` and is clean. `workbench.action.files.revert` acts on the active editor, which another
 * editor can become under load between showTextDocument and the command: so the revert is issued
 * only while doc's editor is active, and again until the document's state says it took.
 */
export async function revertUnsaved(doc: vscode.TextDocument, saved: string, timeoutMs = 30_000): Promise<void> {
  const reverted = () => doc.getText() === saved && !doc.isDirty;
  await waitFor(
    async () => {
      if (reverted()) return true;
      await vscode.window.showTextDocument(doc, { preview: false });
      if (vscode.window.activeTextEditor?.document !== doc) return false;
      await vscode.commands.executeCommand('workbench.action.files.revert');
      return reverted();
    },
    `${vscode.workspace.asRelativePath(doc.uri)} to be reverted`,
    timeoutMs,
    () =>
      `dirty: ${doc.isDirty}, text ${doc.getText() === saved ? 'is' : 'is not'} the saved one, active editor: ${vscode.window.activeTextEditor?.document.uri.toString() ?? 'none'}`,
  );
}

/** Replaces the whole document with text and saves it. */
export async function setText(doc: vscode.TextDocument, text: string): Promise<void> {
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(0, 0, doc.lineCount, 0), text);
  assert.ok(await vscode.workspace.applyEdit(edit), 'applyEdit (restore) returned false');
  assert.ok(await doc.save(), `saving ${doc.uri.fsPath} failed`);
}

/**
 * When the harness asks for it (KBD_E2E_UI_DIR), keep this extension host alive while the harness
 * runs its Playwright UI checks on the same page: write `ready`, wait (bounded) for `done`.
 * The workbench stops the extension host as soon as run() settles, which would empty the
 * Problems panel and the tree views the UI checks look at.
 */
async function uiHandshake(log: (s: string) => void): Promise<void> {
  const dir = process.env.KBD_E2E_UI_DIR;
  if (!dir) return;
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  writeFileSync(join(dir, 'ready'), String(Date.now()));
  log('waiting for the harness UI checks');
  const timeoutMs = Number(process.env.KBD_E2E_UI_TIMEOUT_MS ?? 180_000);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(join(dir, 'done'))) {
    if (Date.now() > deadline) {
      log(`harness UI checks did not finish within ${timeoutMs} ms`);
      return;
    }
    await sleep(250);
  }
  log('harness UI checks finished');
}
