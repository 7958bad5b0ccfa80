// A minimal LSP client for tests: starts the built server (server/out/server.js --stdio) as a real
// child process and speaks JSON-RPC with Content-Length framing over its stdin/stdout.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { root } from './kernelTree';
import type { RequestDef } from '../../server/src/lspExt';

export const serverPath = join(root, 'server', 'out', 'server.js');

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export interface PublishedDiagnostics {
  uri: string;
  version?: number;
  diagnostics: LspDiagnostic[];
}
export interface LspDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity?: number;
  code?: string | number;
  source?: string;
  message: string;
  codeDescription?: { href: string };
  relatedInformation?: { location: { uri: string; range: unknown }; message: string }[];
}

export class LspClient {
  readonly proc: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private listeners: ((method: string, params: unknown) => void)[] = [];
  readonly notifications: { method: string; params: unknown }[] = [];
  stderr = '';

  /** `server`: another build of the server (benchmarks compare one with the code before a change). */
  constructor(env: Record<string, string> = {}, server = serverPath) {
    this.proc = spawn(process.execPath, [server, '--stdio'], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (d: Buffer) => this.onData(d));
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.proc.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error(`server exited; stderr: ${this.stderr}`));
      this.pending.clear();
    });
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const m = /Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString());
      if (!m) throw new Error('bad LSP header');
      const len = Number(m[1]);
      if (this.buffer.length < headerEnd + 4 + len) return;
      const msg = JSON.parse(this.buffer.subarray(headerEnd + 4, headerEnd + 4 + len).toString()) as {
        id?: number;
        method?: string;
        params?: unknown;
        result?: unknown;
        error?: { message: string; code: number };
      };
      this.buffer = this.buffer.subarray(headerEnd + 4 + len);
      if (msg.method !== undefined && msg.id !== undefined) {
        // A request from the server (registerCapability, workspace/configuration...): answer null.
        this.write({ jsonrpc: '2.0', id: msg.id, result: null });
      } else if (msg.method !== undefined) {
        this.notifications.push({ method: msg.method, params: msg.params });
        for (const l of this.listeners) l(msg.method, msg.params);
      } else if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (!p) continue;
        if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
        else p.resolve(msg.result);
      }
    }
  }

  private write(msg: unknown): void {
    const body = Buffer.from(JSON.stringify(msg), 'utf8');
    this.proc.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.proc.stdin.write(body);
  }

  request<R = unknown>(method: string, params: unknown, timeoutMs = 30_000): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as R);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.write({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** A request of the shared protocol (server/src/lspExt.ts): its method, params and result types in one place. */
  send<P, R>(def: RequestDef<P, R>, params: P, timeoutMs = 30_000): Promise<R> {
    return this.request<R>(def.method, params, timeoutMs);
  }

  notify(method: string, params: unknown): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  /** Resolves with the first notification that satisfies `match` (including ones already received when `past`). */
  waitFor<P>(method: string, match: (p: P) => boolean = () => true, timeoutMs = 30_000, past = false): Promise<P> {
    if (past) {
      const hit = this.notifications.find((n) => n.method === method && match(n.params as P));
      if (hit) return Promise.resolve(hit.params as P);
    }
    return new Promise<P>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
      const l = (m: string, p: unknown) => {
        if (m === method && match(p as P)) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((x) => x !== l);
          resolve(p as P);
        }
      };
      this.listeners.push(l);
    });
  }

  /** Waits for diagnostics on `uri` that satisfy `match`. */
  diagnostics(
    uri: string,
    match: (d: PublishedDiagnostics) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<PublishedDiagnostics> {
    return this.waitFor<PublishedDiagnostics>(
      'textDocument/publishDiagnostics',
      (p) => p.uri === uri && match(p),
      timeoutMs,
    );
  }

  async initialize(
    rootPath: string,
    initializationOptions: Record<string, unknown> = {},
    capabilities: Record<string, unknown> = {},
  ): Promise<unknown> {
    const result = await this.request('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(rootPath).toString(),
      workspaceFolders: [{ uri: pathToFileURL(rootPath).toString(), name: 'root' }],
      capabilities,
      initializationOptions,
    });
    this.notify('initialized', {});
    return result;
  }

  open(path: string, text: string, languageId = 'kbuild', version = 1): string {
    const uri = pathToFileURL(path).toString();
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
    return uri;
  }

  change(uri: string, version: number, text: string): void {
    this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    try {
      await this.request('shutdown', null, 5000);
      this.notify('exit', null);
    } catch {
      // already gone
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, 3000);
      this.proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/**
 * What a fresh real server publishes first for `makefile` (as on disk) in `tree`, with no debounce;
 * the server is stopped afterwards.
 */
export async function firstVerdict(tree: string, makefile: string, timeoutMs = 120_000): Promise<PublishedDiagnostics> {
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  try {
    await lsp.initialize(tree, {}, { workspace: { didChangeWatchedFiles: { dynamicRegistration: false } } });
    const uri = lsp.open(makefile, readFileSync(makefile, 'utf8'));
    return await lsp.diagnostics(uri, (p) => p.version === 1, timeoutMs);
  } finally {
    await lsp.stop();
  }
}

/** A workspace edit as the server sends it: versioned text edits per document. */
export interface LspWorkspaceEdit {
  documentChanges: { textDocument: { uri: string; version: number }; edits: LspTextEdit[] }[];
}

/** A code action as the server sends it (what the tests read of it). */
export interface LspCodeAction {
  title: string;
  kind?: string;
  isPreferred?: boolean;
  diagnostics?: LspDiagnostic[];
  command?: { command: string; arguments?: unknown[] };
  edit?: LspWorkspaceEdit;
}

/** A quick-fix: a code action that carries its edit. */
export type LspEditAction = LspCodeAction & { edit: LspWorkspaceEdit };

export interface LspTextEdit {
  range: LspDiagnostic['range'];
  newText: string;
}

/** Applies LSP text edits to a text the way an editor does (independent of the server's own code). */
export function applyLspEdits(text: string, edits: readonly LspTextEdit[]): string {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const offset = (p: { line: number; character: number }) =>
    Math.min(text.length, (lineStarts[p.line] ?? text.length) + p.character);
  let out = text;
  for (const e of [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start))) {
    out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  }
  return out;
}

/**
 * The files a code action's edit leaves, as an editor applies it: every file of the edit, the open
 * document (`openUri`) from its text in the editor (`open`), any other from disk. Path -> new text.
 */
export function applyCodeAction(action: LspEditAction, openUri: string, open: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const change of action.edit.documentChanges) {
    const file = fileURLToPath(change.textDocument.uri);
    const before = change.textDocument.uri === openUri ? open : readFileSync(file, 'utf8');
    out.set(file, applyLspEdits(before, change.edits));
  }
  return out;
}
