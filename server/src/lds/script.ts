// A linker script's SECTIONS as ld.lld reads them: output sections and, in script order, the
// input-section descriptions that place input sections. Expressions (addresses, assignments,
// ASSERT, PROVIDE) are recognised and skipped, not evaluated. Pure: text in, model out.
import { tokenize, type Token } from './tokens';

/** `EXCLUDE_FILE(files) pattern...` inside a section list: the files apply to these patterns. */
export interface SectionPatternGroup {
  excludeFiles: string[];
  patterns: string[];
}

export interface InputSectionDesc {
  /** 0-based line in the text that was parsed (the preprocessed text). */
  line: number;
  /** '*' or a file glob; archive:member forms kept as written. */
  filePattern: string;
  /** Files excluded from the whole description. Empty: ld.lld has no EXCLUDE_FILE before the file pattern (see parseInputDesc). */
  excludeFiles: string[];
  /** Every section glob of the description (flattened from `groups`). */
  sectionPatterns: string[];
  /** The section list as ld.lld groups it, with EXCLUDE_FILE inside the list. */
  groups: SectionPatternGroup[];
  keep: boolean;
  /** SORT, SORT_BY_NAME, ... when the list is sorted (does not change what matches). */
  sort?: string;
  /** INPUT_SECTION_FLAGS: flags a section must have / must not have. */
  withFlags: number;
  withoutFlags: number;
  /** The output section this description belongs to. */
  output: string;
}

export interface OutputSection {
  name: string;
  line: number;
  inputs: InputSectionDesc[];
  discard: boolean;
  /** `(NOLOAD)`, `(COPY)`, ... when given. */
  type?: string;
}

export interface LinkerScript {
  outputs: OutputSection[];
  /** Every input-section description in script order (the order ld.lld matches them in). */
  order: InputSectionDesc[];
  errors: string[];
  /** The script has a SECTIONS command (without one, the linker's default layout applies). */
  hasSections: boolean;
  /** `INSERT AFTER|BEFORE x` was given: the script amends the default layout. */
  insert?: { where: 'AFTER' | 'BEFORE'; section: string };
}

const SORT_KINDS = new Set([
  'SORT',
  'SORT_BY_NAME',
  'SORT_BY_ALIGNMENT',
  'SORT_BY_INIT_PRIORITY',
  'SORT_NONE',
  'REVERSE',
]);
/** Commands inside an output section that are not input-section descriptions: `KEYWORD(...)`. */
const DATA_COMMANDS = new Set([
  'BYTE',
  'SHORT',
  'LONG',
  'QUAD',
  'SQUAD',
  'FILL',
  'ASSERT',
  'PROVIDE',
  'PROVIDE_HIDDEN',
  'HIDDEN',
]);
/** Top-level or SECTIONS-level commands that take a parenthesised argument and are skipped. */
const PAREN_COMMANDS = new Set([
  'ENTRY',
  'OUTPUT_ARCH',
  'OUTPUT_FORMAT',
  'TARGET',
  'SEARCH_DIR',
  'INPUT',
  'GROUP',
  'OUTPUT',
  'STARTUP',
  'ASSERT',
  'PROVIDE',
  'PROVIDE_HIDDEN',
  'HIDDEN',
  'EXTERN',
  'NOCROSSREFS',
  'NOCROSSREFS_TO',
  'REGION_ALIAS',
  'AS_NEEDED',
  'FORCE_COMMON_ALLOCATION',
  'INHIBIT_COMMON_ALLOCATION',
  'OUTPUT_SECTION_FLAGS',
]);
const BLOCK_COMMANDS = new Set(['MEMORY', 'PHDRS', 'VERSION']);
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '<<=', '>>=', '&=', '|=', '^=']);
const SECTION_FLAGS: Record<string, number> = {
  SHF_WRITE: 0x1,
  SHF_ALLOC: 0x2,
  SHF_EXECINSTR: 0x4,
  SHF_MERGE: 0x10,
  SHF_STRINGS: 0x20,
  SHF_INFO_LINK: 0x40,
  SHF_LINK_ORDER: 0x80,
  SHF_OS_NONCONFORMING: 0x100,
  SHF_GROUP: 0x200,
  SHF_TLS: 0x400,
  SHF_COMPRESSED: 0x800,
  SHF_EXCLUDE: 0x80000000,
  SHF_ARM_PURECODE: 0x20000000,
  SHF_AARCH64_PURECODE: 0x20000000,
};
/** A script with more tokens than this is refused (bounded work on hostile input). */
export const MAX_SCRIPT_TOKENS = 4_000_000;

class Parser {
  pos = 0;
  readonly outputs: OutputSection[] = [];
  readonly order: InputSectionDesc[] = [];
  hasSections = false;
  insert?: LinkerScript['insert'];
  constructor(
    readonly toks: Token[],
    readonly errors: string[],
  ) {}

  peek(k = 0): Token | undefined {
    return this.toks[this.pos + k];
  }
  next(): Token | undefined {
    return this.toks[this.pos++];
  }
  is(text: string, k = 0): boolean {
    const t = this.toks[this.pos + k];
    return t !== undefined && !t.quoted && t.text === text;
  }
  consume(text: string): boolean {
    if (!this.is(text)) return false;
    this.pos++;
    return true;
  }
  error(msg: string): void {
    const t = this.peek() ?? this.toks[this.toks.length - 1];
    if (this.errors.length < 100) this.errors.push(`line ${(t?.line ?? 0) + 1}: ${msg}`);
  }
  expect(text: string): boolean {
    if (this.consume(text)) return true;
    this.error(`expected '${text}'${this.peek() ? ` but found '${this.peek()?.text}'` : ' at the end of the script'}`);
    return false;
  }

  /** Skips a balanced `( ... )` starting at the current `(`. */
  skipParens(): void {
    this.skipBalanced('(', ')');
  }
  /** Skips a balanced `{ ... }` starting at the current `{`. */
  skipBraces(): void {
    this.skipBalanced('{', '}');
  }
  private skipBalanced(open: string, close: string): void {
    if (!this.consume(open)) return;
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (!t) return this.error(`unterminated '${open}'`);
      if (t.quoted) continue;
      if (t.text === open) depth++;
      else if (t.text === close) depth--;
    }
  }
  /** Skips an expression up to (and including) `;`, or up to a `}` that closes the enclosing block. */
  skipStatement(): void {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (!t) return;
      if (!t.quoted) {
        if (t.text === '(') depth++;
        else if (t.text === ')') depth--;
        else if (t.text === ';' && depth <= 0) {
          this.pos++;
          return;
        } else if (t.text === '}' && depth <= 0) return;
        else if (t.text === '{' && depth <= 0) return this.skipBraces();
      }
      this.pos++;
    }
  }

  /** `sym = expr;`, `sym += expr;`, `. = expr;` at the current token. */
  atAssignment(): boolean {
    const t = this.peek();
    if (!t || t.quoted) return false;
    const op = this.peek(1);
    if (op && ASSIGN_OPS.has(op.text)) return true;
    // `a + = 1` split by the tokenizer: word, operator, '='.
    const op2 = this.peek(2);
    return !!op && !!op2 && /^(<<|>>|[+\-*/&|^])$/.test(op.text) && op2.text === '=' && !op2.spaced;
  }

  parseTop(): void {
    while (this.pos < this.toks.length) {
      const t = this.peek() as Token;
      const before = this.pos;
      if (this.consume('SECTIONS')) this.parseSections();
      else if (this.is('OVERWRITE_SECTIONS')) {
        this.pos++;
        this.parseSections();
      } else if (BLOCK_COMMANDS.has(t.text) && this.is('{', 1)) {
        this.pos++;
        this.skipBraces();
      } else if (t.text === 'INSERT') this.parseInsert();
      else if (t.text === 'INCLUDE') {
        this.error(`INCLUDE ${this.peek(1)?.text ?? ''} is not followed (the included script is not read)`);
        this.pos += 2;
      } else if (PAREN_COMMANDS.has(t.text) && this.is('(', 1)) {
        this.pos++;
        this.skipParens();
        this.consume(';');
      } else if (this.atAssignment()) this.skipStatement();
      else if (t.text === ';') this.pos++;
      else {
        this.error(`unexpected '${t.text}'`);
        this.skipStatement();
      }
      if (this.pos === before) this.pos++;
    }
  }

  parseInsert(): void {
    this.pos++;
    const where = this.next()?.text;
    const section = this.next()?.text ?? '';
    if (where === 'AFTER' || where === 'BEFORE') this.insert = { where, section };
    else this.error('INSERT needs AFTER or BEFORE');
  }

  parseSections(): void {
    this.hasSections = true;
    if (!this.expect('{')) return;
    while (!this.consume('}')) {
      if (this.pos >= this.toks.length) return this.error("SECTIONS has no closing '}'");
      const before = this.pos;
      this.parseSectionsEntry();
      if (this.pos === before) this.pos++;
    }
  }

  parseSectionsEntry(): void {
    const t = this.peek() as Token;
    if (t.text === ';') this.pos++;
    else if (t.text === 'OVERLAY') this.parseOverlay();
    else if (t.text === 'INCLUDE') {
      this.error(`INCLUDE ${this.peek(1)?.text ?? ''} is not followed (the included script is not read)`);
      this.pos += 2;
    } else if (PAREN_COMMANDS.has(t.text) && this.is('(', 1)) {
      this.pos++;
      this.skipParens();
      this.consume(';');
    } else if (this.atAssignment()) this.skipStatement();
    else if (t.quoted || !'{}();,:='.includes(t.text)) this.parseOutputSection();
    else {
      this.error(`unexpected '${t.text}' in SECTIONS`);
      this.skipStatement();
    }
  }

  /** `OVERLAY [addr] : [NOCROSSREFS] [AT(lma)] { secname { ... } ... } [>region] ...` */
  parseOverlay(): void {
    this.pos++;
    this.skipUntil(':');
    this.consume(':');
    this.skipUntil('{');
    if (!this.expect('{')) return;
    while (this.pos < this.toks.length && !this.consume('}')) {
      const name = this.next() as Token;
      const out: OutputSection = { name: name.text, line: name.line, inputs: [], discard: name.text === '/DISCARD/' };
      this.outputs.push(out);
      this.skipUntil('{');
      this.parseContents(out);
      this.skipOutputTail();
    }
    this.skipOutputTail();
  }

  /** Skips tokens at parenthesis depth 0 until `text` (not consumed) or `{`/`}`/`;`. */
  skipUntil(text: string): void {
    while (this.pos < this.toks.length && !this.is(text)) {
      if (this.is('(')) this.skipParens();
      else if (this.is('{') || this.is('}') || this.is(';')) return;
      else this.pos++;
    }
  }

  parseOutputSection(): void {
    const nameTok = this.next() as Token;
    if (this.is('(') && !(this.peek() as Token).spaced && !nameTok.quoted && this.unexpandedCall(nameTok)) return;
    const out: OutputSection = {
      name: nameTok.text,
      line: nameTok.line,
      inputs: [],
      discard: nameTok.text === '/DISCARD/',
    };
    // `name [address] [(type)] : [AT(lma)] [ALIGN(a)] [SUBALIGN(a)] [ONLY_IF_RO|RW] {`
    while (this.pos < this.toks.length && !this.is(':')) {
      if (this.is('(')) {
        const inner = this.peek(1);
        if (inner && this.is(')', 2) && /^(NOLOAD|COPY|INFO|OVERLAY|DSECT|READONLY)$/.test(inner.text))
          out.type = inner.text;
        this.skipParens();
      } else if (this.is('{') || this.is('}') || this.is(';')) break;
      else this.pos++;
    }
    if (!this.expect(':')) return this.skipStatement();
    this.skipUntil('{');
    this.outputs.push(out);
    this.parseContents(out);
    this.skipOutputTail();
  }

  /** `NAME(...)` not followed by `:`: a macro the preprocessor did not expand (a header it could not read). */
  unexpandedCall(nameTok: Token): boolean {
    const start = this.pos;
    this.skipParens();
    if (this.is(':')) {
      this.pos = start;
      return false;
    }
    this.error(`'${nameTok.text}(...)' is not a linker-script command (an unexpanded macro?); skipped`);
    return true;
  }

  /** After `}`: `>region`, `AT>region`, `:phdr`..., `=fill`, `,`. */
  skipOutputTail(): void {
    for (;;) {
      if (this.is('>')) this.pos += 2;
      else if (this.is('AT') && this.is('>', 1)) this.pos += 3;
      else if (this.is(':') && this.peek(1) && !this.is('{', 1)) this.pos += 2;
      else if (this.is('=')) {
        this.pos++;
        if (this.is('(')) this.skipParens();
        else this.pos++;
      } else if (this.is(',')) this.pos++;
      else return;
    }
  }

  parseContents(out: OutputSection): void {
    if (!this.expect('{')) return;
    while (!this.consume('}')) {
      if (this.pos >= this.toks.length) return this.error(`output section ${out.name} has no closing '}'`);
      const before = this.pos;
      this.parseContentsEntry(out);
      if (this.pos === before) this.pos++;
    }
  }

  parseContentsEntry(out: OutputSection): void {
    const t = this.peek() as Token;
    if (t.text === ';' || t.text === ',') this.pos++;
    else if (t.text === 'CONSTRUCTORS' || t.text === 'CREATE_OBJECT_SYMBOLS') this.pos++;
    else if (t.text === 'INCLUDE') {
      this.error(`INCLUDE ${this.peek(1)?.text ?? ''} is not followed (the included script is not read)`);
      this.pos += 2;
    } else if (DATA_COMMANDS.has(t.text) && this.is('(', 1)) {
      this.pos++;
      this.skipParens();
    } else if (this.atAssignment()) this.skipStatement();
    else if (t.quoted || !'{}();,:='.includes(t.text)) {
      const d = this.parseInputDesc(out.name);
      if (d) {
        out.inputs.push(d);
        this.order.push(d);
      }
    } else {
      this.error(`unexpected '${t.text}' in output section ${out.name}`);
      this.skipStatement();
    }
  }

  /** `[KEEP(] [INPUT_SECTION_FLAGS(...)] [EXCLUDE_FILE(...)] filepat [(section list)] [)]` */
  parseInputDesc(output: string): InputSectionDesc | undefined {
    const first = this.peek() as Token;
    const keep = this.is('KEEP') && this.is('(', 1);
    if (keep) this.pos += 2;
    let withFlags = 0;
    let withoutFlags = 0;
    if (this.is('INPUT_SECTION_FLAGS') && this.is('(', 1)) {
      this.pos += 2;
      while (this.pos < this.toks.length && !this.consume(')')) {
        const f = this.next() as Token;
        if (f.text === '&') continue;
        const neg = f.text.startsWith('!');
        const name = neg ? f.text.slice(1) : f.text;
        const bit = SECTION_FLAGS[name] ?? (/^(0x[0-9a-f]+|\d+)$/i.test(name) ? Number(name) : undefined);
        if (bit === undefined) this.error(`unknown section flag '${name}'`);
        else if (neg) withoutFlags |= bit;
        else withFlags |= bit;
      }
    }
    // GNU ld's `EXCLUDE_FILE(files) *(sections)` form: ld.lld (what LLVM=1 builds link with) reads
    // EXCLUDE_FILE there as a file pattern with `(files)` as its section list, so it matches nothing
    // and the next description takes every file. Modelled as ld.lld does it, with a warning.
    if (this.is('EXCLUDE_FILE') && this.is('(', 1))
      this.error(
        "EXCLUDE_FILE(...) before a file pattern is GNU ld's form: ld.lld reads EXCLUDE_FILE as a file name there, " +
          'so it excludes nothing (write *(EXCLUDE_FILE(files) sections) for both linkers)',
      );
    const excludeFiles: string[] = [];
    const fileTok = this.readFilePattern();
    if (!fileTok) return undefined;
    let groups: SectionPatternGroup[] = [{ excludeFiles: [], patterns: ['*'] }];
    let sort: string | undefined;
    if (this.is('(')) {
      const list = this.readSectionList();
      groups = list.groups;
      sort = list.sort;
    }
    if (keep) this.expect(')');
    return {
      line: first.line,
      filePattern: fileTok,
      excludeFiles,
      groups,
      keep,
      sort,
      withFlags,
      withoutFlags,
      output,
      sectionPatterns: groups.flatMap((g) => g.patterns),
    };
  }

  /** A file pattern; `archive:member` written without spaces is one pattern. */
  readFilePattern(): string | undefined {
    const t = this.next();
    if (!t) return undefined;
    let text = t.text;
    while (
      this.is(':') &&
      !(this.peek() as Token).spaced &&
      this.peek(1) &&
      !(this.peek(1) as Token).spaced &&
      !this.is('(', 1)
    ) {
      text += ':' + (this.peek(1) as Token).text;
      this.pos += 2;
    }
    if (this.is(':') && !(this.peek() as Token).spaced && this.is('(', 1)) {
      text += ':'; // `archive:(...)`: every member
      this.pos++;
    }
    return text;
  }

  readExcludeFiles(): string[] {
    this.pos += 2; // EXCLUDE_FILE (
    const files: string[] = [];
    while (this.pos < this.toks.length && !this.consume(')')) {
      const t = this.next() as Token;
      if (!t.quoted && (t.text === '(' || t.text === '{' || t.text === '}')) {
        this.error(`unexpected '${t.text}' in EXCLUDE_FILE`);
        break;
      }
      files.push(t.text);
    }
    return files;
  }

  /** `( [SORT(] [EXCLUDE_FILE(...)] pat... [)] ... )` */
  readSectionList(): { groups: SectionPatternGroup[]; sort?: string } {
    this.pos++; // (
    const groups: SectionPatternGroup[] = [];
    let sort: string | undefined;
    let depth = 0; // open SORT(...) wrappers
    while (this.pos < this.toks.length) {
      const t = this.peek() as Token;
      if (!t.quoted && SORT_KINDS.has(t.text) && this.is('(', 1)) {
        sort ??= t.text;
        depth++;
        this.pos += 2;
      } else if (!t.quoted && t.text === ')') {
        this.pos++;
        if (depth === 0) break;
        depth--;
      } else if (!t.quoted && t.text === 'EXCLUDE_FILE' && this.is('(', 1)) {
        groups.push({ excludeFiles: this.readExcludeFiles(), patterns: [] });
      } else if (!t.quoted && (t.text === '{' || t.text === '}' || t.text === ';' || t.text === '(')) {
        this.error(`unexpected '${t.text}' in a section list`);
        break;
      } else {
        this.pos++;
        if (t.text === ',') continue;
        // Patterns after EXCLUDE_FILE(...) belong to its group, up to the next EXCLUDE_FILE.
        if (groups.length === 0) groups.push({ excludeFiles: [], patterns: [] });
        groups[groups.length - 1].patterns.push(t.text);
      }
    }
    return { groups: groups.filter((g) => g.patterns.length > 0), sort };
  }
}

/** Parses a (preprocessed) linker script. Never throws; problems go to `errors`. */
export function parseLinkerScript(text: string, maxTokens = MAX_SCRIPT_TOKENS): LinkerScript {
  const errors: string[] = [];
  const toks = tokenize(text, errors, maxTokens);
  if (toks.length > maxTokens) {
    return {
      outputs: [],
      order: [],
      errors: [`the script has more than ${maxTokens} tokens; not parsed`],
      hasSections: false,
    };
  }
  const p = new Parser(toks, errors);
  p.parseTop();
  return { outputs: p.outputs, order: p.order, errors, hasSections: p.hasSections, insert: p.insert };
}
