// Rule nvhe-profile-metadata: does an nVHE Makefile let clang's profile metadata
// (.llvm.call-graph-profile and its SHT_REL section) reach gen-hyprel / HYPCOPY?
// Explanation: explanation.md beside this file. Pure: the caller passes the parsed Makefile and a
// reader for files beside it (the linker script source).
//
// The Makefile lets the metadata through when BOTH
//  1. a profile-use flag that reaches the directory's KBUILD_CFLAGS (the user's KCFLAGS) survives
//     into the hyp compile command (Kbuild's c_flags formula, clang's last-flag-wins rule), and
//  2. nothing removes the section from the object gen-hyprel reads before gen-hyprel runs
//     (objcopy -R in the hyprel command or after the ld -r, or /DISCARD/ in the ld -r script).
import type { AssignmentStmt, DefineStmt, Makefile, Span, Statement } from '../../make/ast';
import type { Evaluation } from '../../make/evaluator';
import { isUnknownWord, splitWords } from '../../make/values';
import { compileFlags, defaultProbeSession, evaluateInKbuild, flagShape, objectStems } from '../../kbuild/compileFlags';
import { scriptForNextBuild } from '../../kbuild/ldsSource';
import { placeSection, SHF_EXCLUDE, SHT } from '../../lds/placement';
import { preprocess } from '../../lds/preprocess';
import { parseLinkerScript } from '../../lds/script';
import {
  effectiveProfileUse,
  enablingSpellings,
  isCanonicalSpelling,
  isProfileUseOption,
  survivingSpellings,
} from '../../kbuild/profileFlags';
import { allStatements, linkerOutput, linkerScriptOf, normalizePath, type Command } from '../../kbuild/recipes';
import { isLinker, isObjcopy, objcopyEffect, removesSectionAndRelocations } from '../../kbuild/shellCommands';
import type { Surroundings } from '../../kbuild/includes';
import type { KbuildTree } from '../../kbuild/kbuildTree';
import { probeSession, type ProbeQuestion, type ProbeSession } from '../../kbuild/probes';
import { findPipeline, producerOf, type Pipeline } from './pipeline';
import { CALL_GRAPH_SECTION } from './sections';

export const RULE_CODE = 'nvhe-profile-metadata';
/** Only aliases of the profile flags get through (a hint, not a warning). */
export const ALIAS_CODE = 'nvhe-profile-alias';

export interface RuleInput {
  makefile: Makefile;
  /** `$(obj)` / `$(src)`: the Makefile's directory relative to the kernel tree ('.' when unknown). */
  objDir?: string;
  /** Reads a file beside the Makefile by name (the linker script source); undefined when absent. */
  readSibling?: (name: string) => string | undefined;
  /** The tree's own Kbuild (scripts/Makefile.lib and friends); absent: the built-in flags formula. */
  tree?: KbuildTree;
  /** What make reads around this file when another make file includes it. */
  surroundings?: Surroundings;
  /** The kernel tree and build directory: the linker script is the one the next build links with. */
  kernelRoot?: string;
  buildDir?: string;
}

export interface Located {
  span: Span;
  message: string;
}

export interface SectionRemoval {
  span: Span;
  how: string;
  /** Set for a removal in the linker script beside the Makefile. */
  file?: string;
  /**
   * The build's generated script (e.g. hyp.lds) is not what the next build links with: make remakes
   * it from `file` (why: `reasons`). What the last build left is evidence of that build only.
   */
  staleGenerated?: { file: string; reasons: string[] };
}

export interface NvheVerdict {
  pipeline: Pipeline;
  /** Enabling profile-use spellings that survive into a hyp compile. */
  leakingFlags: string[];
  /** Of those, the ones the tree's Kbuild or the Makefile adds by itself (not from KCFLAGS). */
  addedFlags: string[];
  /** True when the flags were computed with the tree's own scripts/Makefile.lib (else the built-in formula). */
  flagsFromTree: boolean;
  /** The removal that keeps the section from gen-hyprel, if any. */
  sectionRemoval?: SectionRemoval;
  /** Lines that try to stop the metadata and do not, with why. */
  ineffective: Located[];
  /** True when profile metadata reaches gen-hyprel with the spellings kernel builds use. */
  leaks: boolean;
  /** True when only aliases (-fauto-profile=, -fprofile-instr-use=, bare -fprofile-use) get through. */
  aliasLeak: boolean;
  /** The last live `KBUILD_CFLAGS := $(filter-out ...)` line: where form A belongs. */
  filterOutLine?: AssignmentStmt;
  /** Where the diagnostic goes: the filter-out line, else the gen-hyprel command. */
  anchor: Span;
  /** Conditional tests that depend on values this file does not know. */
  assumedConditions: number;
  /** Set when the evaluation hit a bound: the verdict may miss something. */
  incomplete?: string;
  /**
   * Set when the verdict depends on probes the build's records do not answer (cc-option with another
   * compiler, an option not in the table): what each answer leads to. leaks and aliasLeak are false then.
   */
  dependsOn?: string;
  /** Set when the verdict holds for every answer to such probes but the spellings that get through differ. */
  spellingsDependOn?: string;
  /** Probe subjects whose answers were not known; both answers were evaluated. */
  probesAssumed: string[];
}

function firstLine(span: Span, lineLength: (line: number) => number): Span {
  if (span.end.line === span.start.line) return span;
  return { start: span.start, end: { line: span.start.line, character: lineLength(span.start.line) } };
}

function isFilterOutOf(stmt: Statement, variable: string): stmt is AssignmentStmt {
  return (
    stmt.kind === 'assignment' &&
    stmt.nameText.trim() === variable &&
    stmt.value.some((p) => p.kind === 'call' && p.fn === 'filter-out')
  );
}

export function analyzeNvhe(input: RuleInput, lineLength: (line: number) => number = () => 0): NvheVerdict | undefined {
  return analyzeNvheOrCut(input, lineLength).verdict;
}

/** The verdict, or when there is none because the evaluation hit a bound, why (not a verdict of "clean"). */
export function analyzeNvheOrCut(
  input: RuleInput,
  lineLength: (line: number) => number = () => 0,
): { verdict?: NvheVerdict; cut?: string } {
  const objDir = input.objDir ?? '.';
  // Every spelling goes in at once, as separate words in KCFLAGS order; each is judged on its own.
  // The evaluation with them also finds the pipeline (KCFLAGS changes no command or condition there).
  const spellings = enablingSpellings();
  const session = defaultProbeSession(input.tree);
  const base = evaluateInKbuild(
    input.makefile,
    objDir,
    spellings.join(' '),
    'false',
    input.tree,
    input.surroundings,
    session,
  );
  const pipeline = findPipeline(input.makefile, base);
  if (!pipeline) return { cut: base.incomplete?.message };
  // One hyp object linked into gen-hyprel's input, as a Kbuild target stem: the hyp objects are all
  // in the same lists (none is in obj-y), so one stands for the others; objects with variables of
  // their own (CFLAGS_x.o, ...) are judged one by one below.
  const hypStems = (producerOf(pipeline, pipeline.genHyprelInput)?.prerequisites ?? [])
    .filter((p) => p.endsWith('.o') && !isUnknownWord(p))
    .map((p) => (objDir !== '.' && p.startsWith(objDir + '/') ? p.slice(objDir.length + 1) : p).replace(/\.o$/, ''))
    .slice(0, 1);

  // 1. Which profile spellings survive into a hyp compile, under each answer of the probes the
  // build's records do not answer (cc-option for another compiler, an option not in the table).
  const outcomes = probeOutcomes(input, objDir, spellings, hypStems, session, base);
  const certain = outcomes.certain;
  let leaking = certain.leaking;
  const added = certain.added;

  // 2. Is the section removed from the object gen-hyprel reads, before gen-hyprel reads it?
  const removalCheck = checkSectionRemoval(pipeline, input);

  // A verdict only where every outcome of the unanswered probes agrees.
  const judged = outcomes.all.map((o) => judge(o.leaking, !!removalCheck.removal));
  const agreed = judged.every((j) => j === judged[0]) ? judged[0] : undefined;
  const leaks = agreed === 'leaks';
  const aliasLeak = agreed === 'alias';
  const dependsOn = agreed === undefined ? describeDependence(outcomes, judged) : undefined;
  // Every outcome leaks, through different spellings: name them all, and say on what each depends.
  const differ = outcomes.all.some((o) => o.leaking.size !== certain.leaking.size);
  if (agreed && agreed !== 'clean' && judge(certain.leaking, false) !== agreed)
    leaking = new Set(outcomes.all.flatMap((o) => [...o.leaking]));
  const spellingsDependOn = agreed !== undefined && differ ? describeDependence(outcomes, judged) : undefined;
  const ineffective = [...removalCheck.ineffective];
  if (leaking.size > 0 && !removalCheck.removal)
    ineffective.push(...explainFlagAttempts(input.makefile, base, [...leaking].map(flagShape)));

  let filterOutLine: AssignmentStmt | undefined;
  for (const s of allStatements(input.makefile.statements)) {
    if (isFilterOutOf(s, 'KBUILD_CFLAGS') && base.liveness(s) !== 'dead') filterOutLine = s;
  }
  const anchorSpan = filterOutLine?.span ?? pipeline.genHyprel.span;
  const verdict: NvheVerdict = {
    pipeline,
    leakingFlags: [...leaking],
    addedFlags: [...added],
    flagsFromTree: !!input.tree,
    sectionRemoval: removalCheck.removal,
    ineffective,
    leaks,
    aliasLeak,
    filterOutLine,
    anchor: firstLine(anchorSpan, lineLength),
    assumedConditions: base.unknownConditionals.length,
    incomplete: base.incomplete?.message ?? outcomes.cut,
    dependsOn,
    spellingsDependOn,
    probesAssumed: outcomes.questions.map((q) => q.subject),
  };
  return { verdict };
}

/** Profile spellings that survive into a hyp compile under one set of probe answers. */
interface Survivors {
  leaking: Set<string>;
  /** Profile flags the tree's Kbuild or the Makefile adds by itself (not from KCFLAGS). */
  added: Set<string>;
  /** The answers taken (question key -> yes), empty for the build's own answers. */
  answers: Map<string, boolean>;
}

/** Under either reading of conditional tests make cannot decide here, which spellings survive. */
function survivorsUnder(
  input: RuleInput,
  objDir: string,
  spellings: string[],
  hypStems: string[],
  session: ProbeSession,
  base?: Evaluation,
): Survivors {
  const leaking = new Set<string>();
  const added = new Set<string>();
  const first =
    base ??
    evaluateInKbuild(input.makefile, objDir, spellings.join(' '), 'false', input.tree, input.surroundings, session);
  const modes: ('false' | 'true')[] = first.unknownConditionals.length > 0 ? ['false', 'true'] : ['false'];
  for (const mode of modes) {
    const ev =
      mode === 'false'
        ? first
        : evaluateInKbuild(input.makefile, objDir, spellings.join(' '), mode, input.tree, input.surroundings, session);
    const seen = new Set<string>();
    for (const stem of objectStems(ev, hypStems)) {
      const words = compileFlags(ev, stem, objDir);
      // Objects with the same flags need no second look.
      const key = words.join(' ');
      if (seen.has(key)) continue;
      seen.add(key);
      for (const flag of survivingSpellings(words, spellings)) leaking.add(flag);
      // Profile flags added without KCFLAGS (CFLAGS_x.o += -fprofile-sample-use=..., Kbuild's AutoFDO).
      for (const eff of effectiveProfileUse(words.filter((w) => !spellings.includes(w)))) {
        leaking.add(eff.flag);
        added.add(eff.flag);
      }
    }
  }
  return { leaking, added, answers: new Map(session.assumptions) };
}

/** Most unanswered probes whose every combination of answers is evaluated (2^4 evaluations). */
const MAX_PROBES_ENUMERATED = 4;

/** A probe can change the verdict when what it asks about or what it yields is a profile option. */
function aboutProfiles(q: ProbeQuestion): boolean {
  const words = [q.subject, q.ifYes, q.ifNo].flatMap(splitWords);
  return words.some((w) => isProfileUseOption(w) || /^-f(no-)?(profile|auto-profile)/.test(w));
}

interface ProbeOutcomes {
  /** What every outcome shares: spellings that leak whatever the answers (and the flags added in all). */
  certain: Survivors;
  all: Survivors[];
  questions: ProbeQuestion[];
  /** Set when there were too many unanswered probes to try every combination. */
  cut?: string;
}

/** Evaluates every combination of answers to the unanswered probes about profile options. */
function probeOutcomes(
  input: RuleInput,
  objDir: string,
  spellings: string[],
  hypStems: string[],
  session: ProbeSession,
  base: Evaluation,
): ProbeOutcomes {
  const first = survivorsUnder(input, objDir, spellings, hypStems, session, base);
  const questions = [...session.asked.values()].filter(aboutProfiles);
  if (questions.length === 0) return { certain: first, all: [first], questions };
  const shown = questions.slice(0, MAX_PROBES_ENUMERATED);
  const all: Survivors[] = [];
  for (let bits = 0; bits < 1 << shown.length; bits++) {
    const answers = new Map(shown.map((q, i) => [q.key, (bits & (1 << i)) === 0] as const));
    // Beyond the enumerated ones, every other unanswered probe takes the first one's answer.
    const rest = (bits & 1) === 0;
    for (const q of questions.slice(MAX_PROBES_ENUMERATED)) answers.set(q.key, rest);
    const reuse = bits === 0 && questions.length <= MAX_PROBES_ENUMERATED && answersMatch(first, answers);
    all.push(
      reuse
        ? { ...first, answers }
        : survivorsUnder(input, objDir, spellings, hypStems, probeSession(session.toolchain, answers)),
    );
  }
  const inAll = (pick: (s: Survivors) => Set<string>) =>
    new Set([...pick(all[0])].filter((f) => all.every((o) => pick(o).has(f))));
  const certain: Survivors = { leaking: inAll((s) => s.leaking), added: inAll((s) => s.added), answers: new Map() };
  const cut =
    questions.length > MAX_PROBES_ENUMERATED
      ? `${questions.length} probes about profile options could not be answered from the build's records; only ${1 << MAX_PROBES_ENUMERATED} combinations of their answers were evaluated`
      : undefined;
  return { certain, all, questions, cut };
}

function answersMatch(s: Survivors, answers: Map<string, boolean>): boolean {
  return [...answers].every(([k, v]) => (s.answers.get(k) ?? true) === v);
}

type Judgement = 'leaks' | 'alias' | 'clean';

function judge(leaking: Set<string>, removed: boolean): Judgement {
  if (removed || leaking.size === 0) return 'clean';
  return [...leaking].some(isCanonicalSpelling) ? 'leaks' : 'alias';
}

const PROBE_TOOL: Record<string, string> = {
  'cc-option': 'the compiler',
  'as-option': 'the assembler',
  'as-instr': 'the assembler',
  'ld-option': 'the linker',
  'rustc-option': 'rustc',
};

/** What the answers to probes mean, in words: "the compiler accepts `X` and `Y` and does not accept `Z`". */
function answersText(questions: ProbeQuestion[], answers: Map<string, boolean>): string {
  const parts: string[] = [];
  const list = (qs: ProbeQuestion[]) => qs.map((q) => `\`${q.subject}\``).join(' and ');
  for (const tool of new Set(questions.map((q) => PROBE_TOOL[q.probe]).filter((t) => t !== undefined))) {
    const mine = questions.filter((q) => PROBE_TOOL[q.probe] === tool);
    const yes = mine.filter((q) => answers.get(q.key));
    const no = mine.filter((q) => !answers.get(q.key));
    parts.push(
      `${tool} ${[yes.length ? `accepts ${list(yes)}` : '', no.length ? `does not accept ${list(no)}` : ''].filter(Boolean).join(' but ')}`,
    );
  }
  for (const q of questions.filter((x) => PROBE_TOOL[x.probe] === undefined)) {
    const yes = answers.get(q.key) === true;
    parts.push(
      q.probe === 'try-run'
        ? `\`${q.subject}\` ${yes ? 'succeeds' : 'fails'}`
        : `\`$(call ${q.probe},${q.subject})\` is ${yes ? 'true' : 'false'}`,
    );
  }
  return parts.join(', and ');
}

/** "if the compiler accepts `X`, ...; if the compiler does not accept `X`, ..." for the outcomes that differ. */
function describeDependence(o: ProbeOutcomes, judged: Judgement[]): string {
  const said = (j: Judgement, s: Survivors) =>
    j === 'clean'
      ? 'no profile flag reaches gen-hyprel'
      : `${[...new Set([...s.leaking].map(flagShape))].join(', ')} reach${s.leaking.size === 1 ? 'es' : ''} the nVHE hyp compiles`;
  const cases: string[] = [];
  o.all.forEach((s, i) => {
    const text = `if ${answersText(
      o.questions.filter((q) => s.answers.has(q.key)),
      s.answers,
    )}, ${said(judged[i], s)}`;
    if (!cases.includes(text)) cases.push(text);
  });
  return cases.join('; ');
}

interface RemovalCheck {
  removal?: SectionRemoval;
  ineffective: Located[];
}

function removesSection(c: Command): boolean {
  return isObjcopy(c.program) && removesSectionAndRelocations(objcopyEffect(c.args), CALL_GRAPH_SECTION);
}

function checkSectionRemoval(p: Pipeline, input: RuleInput): RemovalCheck {
  const ineffective: Located[] = [];
  const target = p.genHyprelInput;
  // a) In the gen-hyprel rule itself: an objcopy on the input before gen-hyprel runs.
  const hyprelRule = p.rules.find((r) => r.commands.includes(p.genHyprel));
  let removal: SectionRemoval | undefined;
  if (hyprelRule) {
    const at = hyprelRule.commands.indexOf(p.genHyprel);
    hyprelRule.commands.forEach((c, i) => {
      if (!removesSection(c)) return;
      const out = normalizePath(objcopyEffect(c.args).output ?? '');
      if (i < at && out === target)
        removal ??= {
          span: c.span,
          how: `objcopy removes ${CALL_GRAPH_SECTION} from ${target} before gen-hyprel reads it`,
        };
      else if (i > at)
        ineffective.push({
          span: c.span,
          message: `This objcopy removes ${CALL_GRAPH_SECTION} only after gen-hyprel has read ${target}.`,
        });
      else
        ineffective.push({
          span: c.span,
          message: `This objcopy removes ${CALL_GRAPH_SECTION} from ${out || 'another file'}, but gen-hyprel reads ${target}.`,
        });
    });
  }
  // b) In the rules that produce the input: ld -r with a discarding script, objcopy, traced back.
  removal ??= removedWhileProducing(p, target, input, new Set());
  // c) Removals elsewhere (HYPCOPY, other files) come too late or miss the file.
  for (const r of p.rules) {
    if (r === hyprelRule) continue;
    for (const c of r.commands) {
      if (!removesSection(c) || (removal && c.span === removal.span)) continue;
      if (r.targets.includes(target)) continue;
      const when =
        c === p.hypcopy
          ? 'in HYPCOPY, after gen-hyprel has run'
          : `on ${normalizePath(objcopyEffect(c.args).output ?? 'another file')}`;
      ineffective.push({
        span: c.span,
        message: `This objcopy removes ${CALL_GRAPH_SECTION} ${when}; gen-hyprel reads ${target} first.`,
      });
    }
  }
  return { removal, ineffective };
}

function removedWhileProducing(
  p: Pipeline,
  file: string,
  input: RuleInput,
  seen: Set<string>,
): SectionRemoval | undefined {
  if (seen.has(file) || seen.size > 16) return undefined;
  seen.add(file);
  const producer = producerOf(p, file);
  if (!producer) return undefined;
  let removal: SectionRemoval | undefined;
  for (const c of producer.commands) {
    if (isLinker(c.program) && normalizePath(linkerOutput(c) ?? '') === file) {
      removal = undefined; // a fresh link brings the sections of its inputs back
      const script = linkerScriptOf(c);
      if (script) {
        const discard = discardInScript(p, normalizePath(script), input);
        if (discard) removal = discard;
      }
    } else if (isObjcopy(c.program)) {
      const eff = objcopyEffect(c.args);
      if (normalizePath(eff.output ?? '') !== file) continue;
      if (removesSectionAndRelocations(eff, CALL_GRAPH_SECTION))
        removal = { span: c.span, how: `objcopy removes ${CALL_GRAPH_SECTION} from ${file} after it is linked` };
      else if (eff.input && normalizePath(eff.input) !== file)
        removal = removedWhileProducing(p, normalizePath(eff.input), input, seen);
    }
  }
  return removal;
}

/** The script the next build links with: Kbuild's view when the tree is known, else the source beside the Makefile. */
function nextBuildScript(
  p: Pipeline,
  script: string,
  input: RuleInput,
): { text: string; name: string; source?: string; stale?: { file: string; reasons: string[] } } | undefined {
  const base = script.slice(script.lastIndexOf('/') + 1);
  const lds = base.endsWith('.S') ? base.slice(0, -2) : base;
  const sourceName = lds + '.S';
  if (input.kernelRoot && input.objDir) {
    const next = scriptForNextBuild(input.kernelRoot, input.buildDir, `${input.objDir}/${lds}`);
    if (next)
      return {
        text: next.text,
        name: next.from === 'generated' ? lds : sourceName,
        source: next.from === 'generated' ? undefined : input.readSibling?.(sourceName),
        stale: next.stale ? { file: lds, reasons: next.reasons } : undefined,
      };
  }
  if (!input.readSibling) return undefined;
  // The source first: a generated .lds beside it is evidence of the last build, not the next one's input.
  const maker = producerOf(p, script);
  const sources = (maker?.prerequisites ?? [])
    .filter((pre) => /\.(lds\.S|S)$/.test(pre) && !isUnknownWord(pre))
    .map((pre) => pre.slice(pre.lastIndexOf('/') + 1));
  for (const name of [...sources, sourceName]) {
    const text = input.readSibling(name);
    if (text === undefined) continue;
    const readFile = (f: string): string | undefined => (f.includes('/') ? undefined : input.readSibling?.(f));
    return {
      text: preprocess({
        file: name,
        text,
        includeDirs: [],
        forcedIncludes: [],
        defines: new Map([
          ['__ASSEMBLY__', '1'],
          ['LINKER_SCRIPT', '1'],
        ]),
        undefines: [],
        readFile,
      }).text,
      name,
      source: text,
    };
  }
  const text = input.readSibling(lds);
  return text === undefined ? undefined : { text, name: lds };
}

/** The line of the source that holds `pattern` in a /DISCARD/ (the preprocessed text has other lines). */
function sourceLine(source: string, pattern: string): number {
  const lines = source.split('\n');
  const discard = lines.findIndex((l) => l.includes('/DISCARD/'));
  if (discard < 0) return 0;
  for (let i = discard; i < lines.length; i++) if (lines[i].includes(pattern)) return i;
  return discard;
}

/** A /DISCARD/ of the section in the script the next build links with (placement by the script model). */
function discardInScript(p: Pipeline, script: string, input: RuleInput): SectionRemoval | undefined {
  const next = nextBuildScript(p, script, input);
  if (!next) return undefined;
  const model = parseLinkerScript(next.text);
  const objects = (producerOf(p, p.genHyprelInput)?.prerequisites ?? []).filter(
    (o) => o.endsWith('.o') && !isUnknownWord(o),
  );
  const section = { name: CALL_GRAPH_SECTION, type: SHT.LLVM_CALL_GRAPH_PROFILE, flags: SHF_EXCLUDE };
  let line = -1;
  for (const o of objects.length > 0 ? objects : [`${input.objDir ?? '.'}/hyp.nvhe.o`]) {
    const placed = placeSection(model, normalizePath(o), section, { relocatable: true });
    if (placed.kind !== 'discard') return undefined;
    line = placed.line;
  }
  const desc = model.order.find((d) => d.line === line && d.output === '/DISCARD/');
  const pattern = desc?.sectionPatterns.find((x) => x.includes('call-graph') || x.includes('*')) ?? CALL_GRAPH_SECTION;
  const at = next.source !== undefined ? sourceLine(next.source, pattern) : line;
  return {
    span: { start: { line: at, character: 0 }, end: { line: at, character: 0 } },
    how: `/DISCARD/ in ${next.name} drops ${CALL_GRAPH_SECTION} (pattern ${pattern}) in the ld -r of ${p.genHyprelInput}`,
    file: next.name,
    staleGenerated: next.stale,
  };
}

/** Why each line that mentions profile options fails to stop the leaking flags. */
function explainFlagAttempts(mf: Makefile, ev: Evaluation, leaking: string[]): Located[] {
  const out: Located[] = [];
  for (const s of allStatements(mf.statements)) {
    if (s.kind !== 'assignment' && s.kind !== 'define') continue;
    const text = s.kind === 'assignment' ? s.valueText : s.bodyText;
    const words = splitWords(text);
    const profileWords = words.filter(
      (w) => isProfileUseOption(w.replace(/%$/, 'x').replace(/,$/, '')) || /^-f(no-)?(profile|auto-profile)/.test(w),
    );
    if (profileWords.length === 0) continue;
    const live = ev.liveness(s);
    const name = s.nameText.trim();
    const statement = s as AssignmentStmt | DefineStmt;
    if (live === 'dead') {
      out.push({
        span: statement.span,
        message: `This line is inside a conditional branch that is not taken, so it never changes ${name}.`,
      });
      continue;
    }
    const noPercent = profileWords.filter((w) => !w.includes('%') && !w.startsWith('-fno-') && !w.includes('='));
    const negations = profileWords.filter((w) => w.startsWith('-fno-'));
    if (noPercent.length > 0 && text.includes('filter-out')) {
      out.push({
        span: statement.span,
        message: `filter-out matches whole words: ${noPercent.map((w) => `'${w.replace(/,$/, '')}'`).join(', ')} has no '%', so it cannot remove '${leaking[0]}'.`,
      });
    } else if (negations.length > 0) {
      out.push({
        span: statement.span,
        message: `${negations.join(' ')} ends up before ${leaking[0]} on the compiler command line; clang uses the last of them, so the profile stays on.`,
      });
    } else {
      out.push({
        span: statement.span,
        message: `This line does not stop ${leaking.join(', ')} from reaching the hyp compiles.`,
      });
    }
  }
  return out;
}
