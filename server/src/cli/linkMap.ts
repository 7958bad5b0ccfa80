// `kbuild-diagnostics link-map --script SCRIPT [--build-dir DIR] [-r] OBJ... [--json]`: where each
// input section of each object goes in a link with SCRIPT (lds/placement.ts). SCRIPT is a `.lds`,
// or a `.lds.S` inside a kernel tree, preprocessed as Kbuild would with that build's configuration.
// Exit 0 done, 1 an object or the script could not be read, 2 usage error.
import * as path from 'node:path';
import { readObjectFile } from '../elf/reader';
import type { ElfSection } from '../elf/types';
import { readRegularTextSync, statSafeSync, typeName } from '../fs/safeRead';
import { kernelRootOf } from '../kbuild/buildModel';
import { preprocessLdsSource } from '../kbuild/ldsSource';
import { placeElfSections } from '../kbuild/linkPlacement';
import type { Placement } from '../lds/placement';
import { parseLinkerScript, type LinkerScript } from '../lds/script';
import { parseCommandArgs, usageError } from './args';
import type { CliIo } from './io';

const linkMapUsage = 'usage: kbuild-diagnostics link-map --script SCRIPT [--build-dir DIR] [-r] OBJ... [--json]';

export interface LinkMapEntry {
  object: string;
  section: string;
  output: string | null;
  discarded: boolean;
  orphan: boolean;
  /** Not placed at all: the linker consumes it (symbol tables, relocations in a final link, ...). */
  dropped?: string;
}

const linkMapOptions = {
  script: { type: 'string', short: 'T' },
  'build-dir': { type: 'string', short: 'O' },
  relocatable: { type: 'boolean', short: 'r' },
  json: { type: 'boolean' },
} as const;

/** A regular file, or why not (a FIFO or device is refused before it is opened). */
function regularFile(file: string): string | undefined {
  const st = statSafeSync(file);
  if (!st.ok) return st.message;
  if (!st.stat.isFile()) return `is ${typeName(st.stat)}, not a regular file; not read`;
  return undefined;
}

async function loadScript(
  script: string,
  buildDir: string | undefined,
): Promise<{ script: LinkerScript; incomplete: string[] } | string> {
  const bad = regularFile(script);
  if (bad) return `${script}: ${bad}`;
  if (script.endsWith('.lds.S')) {
    const root = await kernelRootOf(path.resolve(script));
    if (!root) return `${script}: not inside a kernel tree (needed to preprocess a .lds.S)`;
    const rel = path.relative(root, path.resolve(script)).replace(/\.S$/, '');
    const pre = preprocessLdsSource(root, buildDir ? path.resolve(buildDir) : root, rel);
    if (!pre) return `${script}: cannot be read`;
    return { script: parseLinkerScript(pre.text), incomplete: pre.incomplete };
  }
  const r = readRegularTextSync(script, { maxBytes: 64 << 20 });
  if (!r.ok) return `${script}: ${r.message}`;
  return { script: parseLinkerScript(r.text), incomplete: [] };
}

function entryOf(object: string, section: string, p: Placement): LinkMapEntry {
  switch (p.kind) {
    case 'output':
      return { object, section, output: p.output, discarded: false, orphan: false };
    case 'discard':
      return { object, section, output: null, discarded: true, orphan: false };
    case 'orphan':
      return { object, section, output: p.output, discarded: false, orphan: true };
    case 'dropped':
      return { object, section, output: null, discarded: false, orphan: false, dropped: p.why };
  }
}

/** The placements of every section of one ELF object. */
export function placeObject(
  script: LinkerScript,
  object: string,
  sections: ElfSection[],
  relocatable: boolean,
): LinkMapEntry[] {
  const placed = placeElfSections(script, object, sections, relocatable);
  return sections.flatMap((s) => {
    const p = placed.get(s.index);
    return p ? [entryOf(object, s.name, p)] : [];
  });
}

function formatText(e: LinkMapEntry): string {
  const where = e.discarded
    ? '/DISCARD/'
    : e.orphan
      ? `(orphan) ${e.output}`
      : e.dropped
        ? `(dropped: ${e.dropped})`
        : (e.output as string);
  return `${e.object}:(${e.section}) -> ${where}\n`;
}

export async function linkMapCommand(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs('link-map', linkMapUsage, linkMapOptions, argv, io);
  if (typeof parsed === 'number') return parsed;
  const { script, json = false, relocatable = false } = parsed.values;
  const objects = parsed.positionals;
  if (script === undefined) return usageError('link-map', linkMapUsage, 'missing --script SCRIPT', io);
  if (objects.length === 0) return usageError('link-map', linkMapUsage, 'no object given', io);
  const loaded = await loadScript(script, parsed.values['build-dir']);
  if (typeof loaded === 'string') {
    io.err(`kbuild-diagnostics link-map: ${loaded}\n`);
    return 1;
  }
  for (const m of [...loaded.script.errors, ...loaded.incomplete])
    io.err(`kbuild-diagnostics link-map: ${script}: ${m}\n`);
  let status = 0;
  const all: LinkMapEntry[] = [];
  for (const obj of objects) {
    const bad = regularFile(obj);
    const read = bad ? undefined : await readObjectFile(obj).catch((e: Error) => e);
    if (!read || read instanceof Error || read.kind !== 'elf') {
      io.err(
        `kbuild-diagnostics link-map: ${obj}: ${bad ?? (read instanceof Error ? read.message : 'is not an ELF object')}\n`,
      );
      status = 1;
      continue;
    }
    const entries = placeObject(loaded.script, obj, read.elf.sections, relocatable);
    if (json) all.push(...entries);
    else io.out(entries.map(formatText).join(''));
  }
  if (json) io.out(JSON.stringify(all) + '\n');
  return status;
}
