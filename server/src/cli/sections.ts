// `kbuild-diagnostics sections FILE... [--json] [--relocs]`: section tables exactly as `llvm-readelf -S`
// prints them (and `-r` with --relocs), or JSON. Exit 0 on success, 1 when a file is unreadable or not
// an ELF object (the other files are still printed), 2 on a usage error.
// The rules' marks: in JSON, each section a rule says breaks a build is `offending` (a build the
// section passes with a tool's warning: `warning`). For an object of a kernel build (sectionMarks.ts)
// the marks are the section explorer's: the links of its directory that consume it place its sections
// (`destinations`, the file's `links`), and an orphan is marked with the link that refuses it. The text
// form keeps stdout byte for byte llvm-readelf's and notes the marks of such objects on stderr.
import * as path from 'node:path';
import { formatAllRelocations, formatSectionTableBytes, SymbolResolver, sectionToJson } from '../elf/format';
import { ObjectReadError, readObjectTable, sectionsOf } from '../elf/reader';
import { isRelocationSection, readRelocations, relocationExtent } from '../elf/relocations';
import { openFileSource, ByteSource } from '../elf/source';
import { ElfFile, ElfSection, ObjectKind } from '../elf/types';
import type { Rule } from '../rules/rule';
import { buildOfFile } from '../kbuild/buildOfFile';
import type { BuildSectionMarks, ObjectMarks } from './sectionMarks';
import { parseCommandArgs, usageError } from './args';
import { processIo } from './io';

/** Where the command writes (structurally the same as cli/io.ts's CliIo). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const sectionsUsage = 'usage: kbuild-diagnostics sections [--json] [--relocs] FILE...';
const sectionsOptions = { json: { type: 'boolean' }, relocs: { type: 'boolean', short: 'r' } } as const;

const describe = (obj: ObjectKind): string => {
  switch (obj.kind) {
    case 'bitcode':
      return `is LLVM bitcode${obj.wrapper ? ' (wrapper)' : ''}, not an ELF object (an LTO build: the sections exist only after code generation)`;
    case 'archive':
      return `is a${obj.thin ? ' thin' : 'n'} archive (${obj.members.length} members: ${obj.members
        .slice(0, 5)
        .map((m) => m.name)
        .join(', ')}${obj.members.length > 5 ? ', ...' : ''}), not an ELF object`;
    case 'empty':
      return 'is empty';
    case 'unknown':
      return obj.description;
    default:
      return 'is not an ELF object';
  }
};

/** Where a command writes; `outBytes`, when given, takes output as bytes (UTF-8) instead of text. */
export interface ByteCliIo extends CliIo {
  outBytes?(bytes: Uint8Array): void;
}

const jsonInt = (v: bigint): number | string =>
  v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();

/** JSON output for one file is held back up to this many characters; past it, it is streamed. */
export const JSON_HOLD_CHARS = 8 << 20;

/**
 * Where output goes, with back-pressure: for the process's stdout, a write that fills the pipe is
 * awaited ('drain') before more is produced, so memory stays bounded whatever the output's size.
 */
interface Sink {
  text(s: string): void | Promise<void>;
  bytes(b: Uint8Array): void | Promise<void>;
}

function sinkFor(io: ByteCliIo): Sink {
  if (io === processIo) {
    // A reader that went away (`| head -1`) ends the output quietly, as in cli/io.ts.
    let closed = false;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      closed = true;
      if (e.code !== 'EPIPE') process.stderr.write(`kbuild-diagnostics: cannot write output: ${e.message}\n`);
    });
    const write = (x: string | Uint8Array): void | Promise<void> => {
      if (closed) return;
      try {
        if (!process.stdout.write(x)) {
          return new Promise((resolve) => {
            process.stdout.once('drain', resolve);
            process.stdout.once('error', resolve);
          });
        }
      } catch (e) {
        closed = true;
        if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
      }
    };
    return { text: write, bytes: write };
  }
  return {
    text: (s) => io.out(s),
    bytes: io.outBytes
      ? (b) => io.outBytes?.(b)
      : (b) => io.out(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')),
  };
}

/**
 * Writes the JSON document `JSON.stringify(results, null, 2)` would give, one piece at a time, so that
 * a file with millions of relocations never sits in memory as one value. A file's text is held back
 * until JSON_HOLD_CHARS: a file that fails before then is left out (as it always was); one that fails
 * after its text began to stream is closed with an "error" member.
 */
class JsonStream {
  private files = 0;
  private held: string[] = [];
  private heldChars = 0;
  private streaming = false;
  constructor(private readonly sink: Sink) {}
  put(s: string): void {
    this.held.push(s);
    this.heldChars += s.length;
  }
  /** Lets held text out once there is enough of it (then the file streams). */
  async pump(): Promise<void> {
    if (this.heldChars >= JSON_HOLD_CHARS) await this.release();
  }
  private async release(): Promise<void> {
    const text = this.held.join('');
    this.held = [];
    this.heldChars = 0;
    this.streaming = true;
    if (text !== '') await this.sink.text(text);
  }
  beginFile(): void {
    this.held = [];
    this.heldChars = 0;
    this.streaming = false;
    this.put(this.files === 0 ? '[\n  {' : ',\n  {');
  }
  /** Ends the file's object and lets it out. */
  async endFile(): Promise<void> {
    this.put('\n  }');
    await this.release();
    this.files++;
  }
  /** Drops the file when nothing of it went out yet; answers whether some of it did. */
  abandon(): boolean {
    if (!this.streaming) {
      this.held = [];
      this.heldChars = 0;
      return false;
    }
    return true;
  }
  async end(): Promise<void> {
    await this.sink.text(this.files === 0 ? '[]\n' : '\n]\n');
  }
}

const indentJson = (v: unknown, indent: string): string =>
  indent + JSON.stringify(v, null, 2).replace(/\n/g, '\n' + indent);

const I4 = '\n    ';
const I6 = '\n      ';
const I8 = '\n        ';
const I12 = '\n            ';

/** Streams one file's relocations as the "relocations" member (same layout as JSON.stringify(..., null, 2)). */
async function relocJson(
  src: ByteSource,
  elf: ElfFile,
  js: JsonStream,
  state: { inEntries: number; inSection: boolean },
): Promise<void> {
  const secs = elf.sections.filter(isRelocationSection);
  // Check every relocation section's shape before any of it is written.
  for (const s of secs) relocationExtent(src, elf, s);
  js.put(',\n    "relocations": [');
  if (secs.length === 0) {
    js.put(']');
    return;
  }
  let firstSection = true;
  const typeJson = new Map<number, string>();
  for (const s of secs) {
    js.put(
      `${firstSection ? '' : ','}${I6}{${I8}"section": ${JSON.stringify(s.name)},${I8}"index": ${s.index},${I8}"entries": [`,
    );
    firstSection = false;
    state.inSection = true;
    state.inEntries = 0;
    const symtab = s.link !== 0 ? elf.sections[s.link] : undefined;
    const res = new SymbolResolver(src, elf, symtab);
    const nameJson = new Map<number, string>();
    for await (const chunk of readRelocations(src, elf, s)) {
      const parts: string[] = [];
      for (const r of chunk) {
        let nj = nameJson.get(r.symbol);
        if (nj === undefined) {
          const known = res.peek(r.symbol);
          const sym = known !== undefined ? known : await res.get(r.symbol);
          nj = sym ? JSON.stringify(sym.name) : 'null';
          if (nameJson.size >= SymbolResolver.MAX_CACHED) nameJson.clear();
          nameJson.set(r.symbol, nj);
        }
        let tj = typeJson.get(r.type);
        if (tj === undefined) {
          tj = JSON.stringify(r.typeName);
          typeJson.set(r.type, tj);
        }
        let e = `${state.inEntries === 0 ? '' : ','}\n          {${I12}"offset": ${jsonInt(r.offset)},${I12}"type": ${r.type},${I12}"typeName": ${tj},${I12}"symbol": ${r.symbol},${I12}"symbolName": ${nj}`;
        if (r.addend !== undefined) e += `,${I12}"addend": ${JSON.stringify(jsonInt(r.addend))}`;
        parts.push(e + '\n          }');
        state.inEntries++;
      }
      js.put(parts.join(''));
      await js.pump();
    }
    js.put(state.inEntries === 0 ? ']' : '\n        ]');
    js.put('\n      }');
    state.inSection = false;
  }
  js.put('\n    ]');
}

/** Why each section of an ELF object breaks a build a rule follows (section index -> reason). */
function sectionMarker(rules: readonly Rule[]): (elf: ElfFile) => Map<number, string> {
  return (elf) => {
    const marks = new Map<number, string>();
    for (const r of rules) {
      const reason = r.explorer?.sectionReason;
      if (!reason) continue;
      for (const s of elf.sections) {
        const why = reason(s, elf);
        if (why && !marks.has(s.index)) marks.set(s.index, why);
      }
    }
    return marks;
  };
}

/**
 * The marks of an object of a kernel build (undefined for any other file). The rules and the
 * analysis are loaded on the first such object only: a table of any other file costs nothing more.
 */
function buildMarker(
  rules: readonly Rule[] | undefined,
  docsDir: string | undefined,
): (file: string) => Promise<ObjectMarks | undefined> {
  let marker: Promise<BuildSectionMarks> | undefined;
  return async (file) => {
    const build = await buildOfFile(file);
    if (!build) return undefined;
    marker ??= (async () => {
      const { BuildSectionMarks: Marks } = await import('./sectionMarks.js');
      const list = rules ?? (await import('../rules/registry.js')).RULES;
      return new Marks(list, docsDir ?? path.join(__dirname, 'rules'));
    })();
    return (await marker).of(file, build);
  };
}

/** The text form's notes (stderr): each section of the object that a rule marks. */
function noteMarks(io: CliIo, file: string, elf: ElfFile, m: ObjectMarks): void {
  for (const s of elf.sections) {
    const error = m.marks.sections.get(s.index);
    const warning = error === undefined ? m.marks.warnings?.get(s.index) : undefined;
    const why = error ?? warning;
    if (why !== undefined)
      io.err(`kbuild-diagnostics: ${file}: section [${s.index}] ${s.name}: ${error ? 'error' : 'warning'}: ${why}\n`);
  }
}

/** The JSON members of one section beyond its table entry: the rules' marks and its destinations. */
function sectionExtras(s: ElfSection, reason: string | undefined, m: ObjectMarks | undefined): Record<string, unknown> {
  const offending = m?.marks.sections.get(s.index) ?? reason;
  const warning = offending === undefined ? m?.marks.warnings?.get(s.index) : undefined;
  const destinations = m?.destinations(s.index) ?? [];
  return {
    ...(offending ? { offending } : {}),
    ...(warning ? { warning } : {}),
    ...(destinations.length > 0 ? { destinations } : {}),
  };
}

/** The JSON members of one file about the build it belongs to: the links that consume it, its problem. */
function buildJson(m: ObjectMarks | undefined): string {
  if (!m) return '';
  const links = m.links.map((l) => ({
    output: l.output,
    ...(l.script ? { script: l.script } : {}),
    ...(l.orphanHandling ? { orphanHandling: l.orphanHandling } : {}),
  }));
  let out = `,${I4}"buildDirectory": ${JSON.stringify(m.buildDir)},${I4}"buildPath": ${JSON.stringify(m.buildPath)}`;
  if (links.length > 0) out += `,${I4}"links": ${indentJson(links, '    ').trimStart()}`;
  if (m.marks.objectProblem) out += `,${I4}"objectProblem": ${JSON.stringify(m.marks.objectProblem)}`;
  if (m.incomplete.length > 0) out += `,${I4}"incomplete": ${indentJson(m.incomplete, '    ').trimStart()}`;
  return out;
}

/** Streams one file's "sections" array, each section with its marks and destination. */
async function sectionsJson(
  js: JsonStream,
  elf: ElfFile,
  marks: Map<number, string>,
  m: ObjectMarks | undefined,
): Promise<void> {
  if (elf.sections.length === 0) return js.put('[]');
  js.put('[');
  let parts: string[] = [];
  elf.sections.forEach((s, i) => {
    parts.push(
      (i === 0 ? '\n' : ',\n') +
        indentJson({ ...sectionToJson(s), ...sectionExtras(s, marks.get(s.index), m) }, '      '),
    );
    if (parts.length >= 4096) {
      js.put(parts.join(''));
      parts = [];
    }
  });
  await js.pump();
  js.put(parts.join('') + '\n    ]');
}

export async function sectionsCommand(
  args: string[],
  io: ByteCliIo,
  rules?: readonly Rule[],
  docsDir?: string,
): Promise<number> {
  const parsed = parseCommandArgs('sections', sectionsUsage, sectionsOptions, args, io);
  if (typeof parsed === 'number') return parsed;
  const { json = false, relocs = false } = parsed.values;
  const files = parsed.positionals;
  if (files.length === 0) return usageError('sections', sectionsUsage, 'no input files', io);
  const sink = sinkFor(io);
  let status = 0;
  const js = json ? new JsonStream(sink) : undefined;
  let markSections: ((elf: ElfFile) => Map<number, string>) | undefined;
  const marksOf = buildMarker(rules, docsDir);
  for (const file of files) {
    let src: ByteSource | undefined;
    const state = { inEntries: 0, inSection: false };
    let begun = false;
    try {
      src = await openFileSource(file);
      const obj = await readObjectTable(src);
      if (obj.kind !== 'elf-table') {
        io.err(`kbuild-diagnostics: error: '${file}' ${describe(obj)}\n`);
        status = 1;
        continue;
      }
      if (!js) {
        const chunks: Buffer[] = [];
        formatSectionTableBytes(obj.table, file, { fileHeader: files.length > 1 }, (b) => chunks.push(b));
        for (const b of chunks) await sink.bytes(b);
        const elf = obj.table.elf;
        elf.sections = sectionsOf(obj.table);
        if (relocs) await formatAllRelocations(src, elf, (t) => sink.text(t));
        const m = await marksOf(file);
        if (m) noteMarks(io, file, elf, m);
        continue;
      }
      const elf = obj.table.elf;
      elf.sections = sectionsOf(obj.table);
      const m = await marksOf(file);
      js.beginFile();
      begun = true;
      js.put(
        `${I4}"file": ${JSON.stringify(file)},${I4}"class": ${elf.class},${I4}"endian": ${JSON.stringify(elf.endian)},${I4}"type": ${JSON.stringify(elf.typeName)},${I4}"machine": ${JSON.stringify(elf.machineName)}${buildJson(m)},${I4}"sections": `,
      );
      // The rules are loaded only for --json (their own file in the CLI build).
      markSections ??= sectionMarker(rules ?? (await import('../rules/registry.js')).RULES);
      await sectionsJson(js, elf, markSections(elf), m);
      if (relocs) await relocJson(src, elf, js, state);
      await js.endFile();
    } catch (e) {
      if (!(e instanceof ObjectReadError)) throw e;
      io.err(`kbuild-diagnostics: error: '${file}': ${e.message}\n`);
      status = 1;
      if (js && begun && js.abandon()) {
        // Part of this file's object is already out: close what is open and say what went wrong.
        if (state.inSection) js.put((state.inEntries === 0 ? ']' : '\n        ]') + '\n      }\n    ]');
        js.put(`,${I4}"error": ${JSON.stringify(e.message)}`);
        await js.endFile();
      }
    } finally {
      await src?.close();
    }
  }
  await js?.end();
  return status;
}
