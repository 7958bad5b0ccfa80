// The Kconfig index of a kernel tree: every `config`/`menuconfig` entry of the Kconfig files the top
// Kconfig sources (following source/rsource/osource/orsource with the preprocessor's variables, as
// Kconfig does: $(SRCARCH) from the build, others from the files' own assignments). Built once per
// tree and architecture, in the background, bounded (files, bytes, depth, source cycles); what could
// not be read or resolved is listed, and the index says it is partial.
import * as path from 'node:path';
import { readdirSafe, readRegularText } from '../fs/safeRead';
import { expandKconfig, parseKconfig, type KconfigEntry } from './kconfig';

export interface KconfigLimits {
  /** Kconfig files read (6.12 has about 1,700). */
  maxFiles: number;
  /** Bytes per file (the largest real Kconfig is about 100 KB). */
  maxBytes: number;
  /** Nesting of source lines (real trees nest about 6 deep). */
  maxDepth: number;
}
const DEFAULT_KCONFIG_LIMITS: KconfigLimits = { maxFiles: 10_000, maxBytes: 2 * 1024 * 1024, maxDepth: 40 };

export interface KconfigEntryAt extends KconfigEntry {
  file: string;
}

export interface KconfigIndex {
  root: string;
  /** The architecture whose arch/<SRCARCH>/Kconfig was followed; undefined: every arch/*\/Kconfig. */
  srcArch?: string;
  /** Symbol name (without CONFIG_) -> its entries, in the order Kconfig reads them. */
  entries: Map<string, KconfigEntryAt[]>;
  files: number;
  /** What could not be read or resolved; non-empty means the index is partial. */
  partial: string[];
  /** Time to build, in ms. */
  ms: number;
}

interface Walk {
  root: string;
  limits: KconfigLimits;
  index: KconfigIndex;
  visited: Set<string>;
  chain: string[];
}

const MAX_NOTES = 50;

function note(w: Walk, message: string): void {
  if (w.index.partial.length < MAX_NOTES) w.index.partial.push(message);
}

async function visit(w: Walk, file: string, vars: Map<string, string>, optional: boolean): Promise<void> {
  const rel = path.relative(w.root, file);
  if (w.chain.includes(file))
    return note(
      w,
      `${rel}: sources itself (a source cycle: ${[...w.chain, file].map((f) => path.relative(w.root, f)).join(' -> ')}); not read again`,
    );
  if (w.visited.has(file)) return;
  if (w.chain.length >= w.limits.maxDepth)
    return note(w, `${rel}: sourced more than ${w.limits.maxDepth} levels deep; not read`);
  if (w.index.files >= w.limits.maxFiles)
    return note(w, `more than ${w.limits.maxFiles} Kconfig files; ${rel} and later ones not read`);
  w.visited.add(file);
  const read = await readRegularText(file, { maxBytes: w.limits.maxBytes });
  if (!read.ok) {
    if (!(optional && read.reason === 'missing')) note(w, read.message);
    return;
  }
  w.index.files++;
  // Yield now and then: the server answers other requests while the index is built.
  if (w.index.files % 32 === 0) await new Promise((r) => setImmediate(r));
  const parsed = parseKconfig(read.text);
  for (const e of parsed.entries) {
    const list = w.index.entries.get(e.name);
    if (list) list.push({ ...e, file });
    else w.index.entries.set(e.name, [{ ...e, file }]);
  }
  w.chain.push(file);
  for (const item of parsed.items) {
    if (item.kind === 'assign') {
      const value = item.op === '=' ? item.value : expandKconfig(item.value, vars).value;
      vars.set(item.name, item.op === '+=' && vars.has(item.name) ? `${vars.get(item.name)} ${value}` : value);
      continue;
    }
    const expanded = expandKconfig(item.path, vars);
    if (expanded.unresolved.length > 0) {
      note(
        w,
        `${rel}:${item.line + 1}: source "${item.path}": ${expanded.unresolved.join(', ')} cannot be resolved; not followed`,
      );
      continue;
    }
    const target = path.resolve(item.relative ? path.dirname(file) : w.root, expanded.value);
    await visit(w, target, vars, item.optional);
  }
  w.chain.pop();
}

/** Builds the index from `<root>/Kconfig`; without `srcArch`, every arch/<a>/Kconfig is followed. */
export async function buildKconfigIndex(
  root: string,
  srcArch: string | undefined,
  limits: KconfigLimits = DEFAULT_KCONFIG_LIMITS,
): Promise<KconfigIndex> {
  const started = performance.now();
  const index: KconfigIndex = { root, srcArch, entries: new Map(), files: 0, partial: [], ms: 0 };
  const w: Walk = { root, limits, index, visited: new Set(), chain: [] };
  const archs = srcArch ? [srcArch] : await allArchs(root, w);
  for (const arch of archs) {
    const vars = new Map<string, string>([
      ['SRCARCH', arch],
      ['ARCH', arch],
    ]);
    await visit(w, path.join(root, 'Kconfig'), vars, false);
    // With every architecture, each one's files are followed with its own SRCARCH.
    if (!srcArch) await visit(w, path.join(root, 'arch', arch, 'Kconfig'), vars, true);
  }
  index.ms = performance.now() - started;
  return index;
}

async function allArchs(root: string, w: Walk): Promise<string[]> {
  const listing = await readdirSafe(path.join(root, 'arch'));
  if (!listing.ok) {
    note(w, listing.message);
    return ['(none)'];
  }
  const out = listing.entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return out.length > 0 ? out : ['(none)'];
}

/** SRCARCH for the ARCH a configuration was made for (as the top Makefile maps it). */
export function srcArchOf(arch: string): string {
  if (arch === 'i386' || arch === 'x86_64') return 'x86';
  if (arch === 'sparc32' || arch === 'sparc64') return 'sparc';
  if (arch === 'parisc64') return 'parisc';
  if (arch === 'sh64') return 'sh';
  return arch;
}

const indexes = new Map<string, Promise<KconfigIndex>>();

/** The tree's index for an architecture, built on first use and kept until invalidated. */
export function kconfigIndex(root: string, srcArch: string | undefined): Promise<KconfigIndex> {
  const key = `${root}\0${srcArch ?? ''}`;
  let hit = indexes.get(key);
  if (!hit) indexes.set(key, (hit = buildKconfigIndex(root, srcArch)));
  return hit;
}

/** A Kconfig file changed: indexes of trees holding it are built again on next use. */
export function invalidateKconfigIndexes(changedFile: string): void {
  for (const key of [...indexes.keys()]) {
    const root = key.slice(0, key.indexOf('\0'));
    if (changedFile.startsWith(root + path.sep)) indexes.delete(key);
  }
}
