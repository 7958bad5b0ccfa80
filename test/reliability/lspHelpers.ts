// Shared by the reliability tests and scripts/soak.mjs: a copy of the sample kernel tree and the
// real server over stdio, with a liveness check.
import { cpSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from '../helpers/kernelTree';
import { LspClient, type PublishedDiagnostics } from '../helpers/lspClient';

export const NVHE = 'arch/arm64/kvm/hyp/nvhe';
export const uri = (p: string): string => pathToFileURL(p).toString();

export function sampleTree(prefix = 'kbd-rel-'): { tree: string; makefile: string; text: string; buildNvhe: string } {
  const tree = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  const makefile = join(tree, NVHE, 'Makefile');
  return { tree, makefile, text: readFileSync(makefile, 'utf8'), buildNvhe: join(tree, 'build', NVHE) };
}

/** The objects and .cmd files of the sample build, by name (for "rebuilds"). */
export function buildFiles(buildNvhe: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const n of readdirSync(buildNvhe)) out.set(n, readFileSync(join(buildNvhe, n)));
  return out;
}

export async function startServer(
  tree: string,
  opts: { watch?: boolean; env?: Record<string, string> } = {},
): Promise<LspClient> {
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0', ...opts.env });
  const caps = opts.watch ? { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } } : {};
  await lsp.initialize(tree, {}, caps);
  return lsp;
}

/** The server process is alive and answers a request. */
export async function assertAlive(lsp: LspClient, probeUri: string): Promise<void> {
  if (lsp.proc.exitCode !== null || lsp.proc.signalCode !== null)
    throw new Error(`server died (exit ${lsp.proc.exitCode}, signal ${lsp.proc.signalCode}); stderr: ${lsp.stderr}`);
  await lsp.request('textDocument/documentSymbol', { textDocument: { uri: probeUri } }, 10_000);
}

/** VmRSS of a process in kB (Linux), or -1. */
export function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

/** Diagnostics for `u` that match, including ones that arrived before the call (no lost race). */
export function diagnosticsOf(
  lsp: LspClient,
  u: string,
  match: (p: PublishedDiagnostics) => boolean,
  timeoutMs = 30_000,
): Promise<PublishedDiagnostics> {
  return lsp.waitFor<PublishedDiagnostics>(
    'textDocument/publishDiagnostics',
    (p) => p.uri === u && match(p),
    timeoutMs,
    true,
  );
}
