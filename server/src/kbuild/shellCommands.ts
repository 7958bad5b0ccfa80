// Reads the shell commands of a make recipe (after make expansion) without running them:
// splits them into simple commands in execution order and says what the tools we know do.
import { isUnknownWord, UNKNOWN_CLOSE, UNKNOWN_OPEN } from '../make/values';

export interface SimpleCommand {
  /** Words after shell quote removal; unknown make values stay as unknown words. */
  words: string[];
  /** The program word (after `VAR=value` prefixes), or '' for an empty command. */
  program: string;
  args: string[];
}

/** Splits a shell command string at `;`, `&&`, `||`, `|`, `&` and newlines (outside quotes). */
export function splitCommands(text: string): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(toCommand(words));
    words = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === UNKNOWN_OPEN) {
      // An unknown make value is one opaque piece of a word.
      const end = text.indexOf(UNKNOWN_CLOSE, i);
      const stop = end < 0 ? text.length - 1 : end;
      word += text.slice(i, stop + 1);
      inWord = true;
      i = stop;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      const stop = end < 0 ? text.length : end;
      word += text.slice(i + 1, stop);
      inWord = true;
      i = stop;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        word += text[j];
        j++;
      }
      inWord = true;
      i = j;
    } else if (c === '\\' && i + 1 < text.length) {
      if (text[i + 1] !== '\n') {
        word += text[i + 1];
        inWord = true;
      }
      i++;
    } else if (c === ';' || c === '\n' || c === '|' || c === '&') {
      if ((c === '|' || c === '&') && text[i + 1] === c) i++;
      endCommand();
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === '#' && !inWord) {
      // A shell comment runs to the end of the line.
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl - 1;
    } else if ((c === '>' || c === '<') && !inWord) {
      // Redirections: skip the operator and its target word.
      endWord();
      let j = i + 1;
      if (text[j] === '>' || text[j] === '&') j++;
      while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
      while (j < text.length && !/[\s;|&]/.test(text[j])) j++;
      i = j - 1;
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}

function toCommand(words: string[]): SimpleCommand {
  let i = 0;
  // Make's recipe prefixes and environment assignments in front of the program.
  while (i < words.length && /^[@+-]+$/.test(words[i])) i++;
  if (i < words.length && /^[@+-]+/.test(words[i]))
    words = [...words.slice(0, i), words[i].replace(/^[@+-]+/, ''), ...words.slice(i + 1)];
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i])) i++;
  return { words, program: words[i] ?? '', args: words.slice(i + 1) };
}

/** The name of an unknown make value, e.g. `OBJCOPY` for the value of an undefined $(OBJCOPY). */
function unknownLabel(word: string): string | undefined {
  if (!isUnknownWord(word)) return undefined;
  const start = word.indexOf(UNKNOWN_OPEN);
  const end = word.indexOf(UNKNOWN_CLOSE, start);
  return word.slice(start + 1, end < 0 ? undefined : end);
}

function baseName(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

/** The program is objcopy (GNU, LLVM, cross-prefixed, versioned) or Kbuild's $(OBJCOPY). */
export function isObjcopy(program: string): boolean {
  const label = unknownLabel(program);
  if (label !== undefined) return label === 'OBJCOPY';
  return /(^|-)objcopy(-\d+)?$/.test(baseName(program));
}

/** The program is a linker (ld, ld.lld, ld.bfd, cross-prefixed, versioned) or Kbuild's $(LD). */
export function isLinker(program: string): boolean {
  const label = unknownLabel(program);
  if (label !== undefined) return label === 'LD';
  return /(^|-)ld(\.lld|\.bfd|\.gold)?(-\d+)?$/.test(baseName(program));
}

/** The program's file name (the last path component of the program word). */
export function programName(program: string): string {
  return baseName(program);
}

/** Glob match as objcopy and linker scripts do for section names: `*`, `?`, `[...]`, `\` escapes. */
export function globMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += '[' + cls.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  try {
    return new RegExp(re + '$').test(name);
  } catch {
    return pattern === name;
  }
}

export interface ObjcopyEffect {
  /** Section patterns removed (-R/--remove-section), and relocation sections removed (--remove-relocations). */
  removes: string[];
  removesRelocationsOf: string[];
  input?: string;
  /** The file objcopy writes: the second operand, or the input itself (in place). */
  output?: string;
}

/** What an objcopy command does to sections and which files it reads and writes. */
export function objcopyEffect(args: readonly string[]): ObjcopyEffect {
  const removes: string[] = [];
  const removesRelocationsOf: string[] = [];
  const operands: string[] = [];
  // Options that take a separate argument (GNU and LLVM objcopy), so their argument is no operand.
  const takesArg =
    /^(-[IOBjKNLWGF]|--(input-target|output-target|target|binary-architecture|only-section|add-section|rename-section|set-section-flags|prefix-symbols|redefine-sym|strip-symbol|keep-symbol|globalize-symbol|localize-symbol|weaken-symbol|add-symbol|update-section|dump-section))$/;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-R' || a === '--remove-section') {
      if (i + 1 < args.length) removes.push(args[++i]);
    } else if (a.startsWith('--remove-section=')) removes.push(a.slice('--remove-section='.length));
    else if (a.startsWith('-R') && a.length > 2) removes.push(a.slice(2));
    else if (a === '--remove-relocations') {
      if (i + 1 < args.length) removesRelocationsOf.push(args[++i]);
    } else if (a.startsWith('--remove-relocations='))
      removesRelocationsOf.push(a.slice('--remove-relocations='.length));
    else if (takesArg.test(a)) i++;
    else if (a.startsWith('-') && a.length > 1) continue;
    else operands.push(a);
  }
  return { removes, removesRelocationsOf, input: operands[0], output: operands[1] ?? operands[0] };
}

/** True when an objcopy with this effect removes `section` together with its relocation section. */
export function removesSectionAndRelocations(effect: ObjcopyEffect, section: string): boolean {
  return (
    effect.removes.some((p) => globMatch(p, section) || globMatch(p, '.rel' + section)) ||
    effect.removesRelocationsOf.some((p) => globMatch(p, section))
  );
}
