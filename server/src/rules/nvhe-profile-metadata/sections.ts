// Which sections of an object break the nVHE pipeline (gen-hyprel on the ld -r output), and the
// pipeline stages the section explorer shows. gen-hyprel is an arm64 tool that reads arm64
// relocatable objects: nothing in another architecture's objects can reach it, so nothing there is marked.
import * as path from 'node:path';
import type { BuildReader, ObjectReport } from '../../kbuild/buildModel';
import {
  EM_AARCH64,
  SHT_LLVM_CALL_GRAPH_PROFILE,
  SHT_LLVM_CALL_GRAPH_PROFILE_LEGACY,
  SHT_REL,
  type ElfFile,
  type ElfSection,
} from '../../elf/types';
import type { ExplorerSupport, SectionMarks, StageDef } from '../rule';
import { genHyprelVerdict } from './genHyprel';

/** The section LLVM emits for the call-graph profile (its relocation section is `.rel` + this). */
export const CALL_GRAPH_SECTION = '.llvm.call-graph-profile';
const ET_REL = 1;

const STAGES: readonly StageDef[] = [
  { id: 'hyp-object', label: 'hyp object', short: 'hyp', next: 'tmp' },
  { id: 'tmp', label: 'gen-hyprel input (the ld -r of the hyp objects)', short: 'tmp → gen-hyprel', next: 'rel' },
  { id: 'rel', label: 'object linked with the gen-hyprel output', short: 'rel', next: 'final' },
  { id: 'final', label: 'final object (HYPCOPY)', short: 'final' },
];

/** Why this section breaks the nvhe pipeline, or undefined when it does not. */
export function offendingReason(s: ElfSection, elf: ElfFile): string | undefined {
  if (elf.machine !== EM_AARCH64 || elf.type !== ET_REL) return undefined;
  if (s.type === SHT_LLVM_CALL_GRAPH_PROFILE) {
    return `section "${s.name}" is SHT_LLVM_CALL_GRAPH_PROFILE (0x6fff4c09): clang emits it when a sample/instrumentation profile is used; it survives ld -r into the gen-hyprel input and brings a SHT_REL relocation section that gen-hyprel rejects`;
  }
  if (s.type === SHT_LLVM_CALL_GRAPH_PROFILE_LEGACY) {
    return `section "${s.name}" has the pre-LLVM-13 call-graph-profile type 0x6fff4c02: profile metadata that should not reach the hyp object`;
  }
  if (s.type === SHT_REL) {
    const target = elf.sections[s.info];
    const what = target && target.index !== 0 ? ` (relocations for "${target.name}")` : '';
    return `section "${s.name}" is SHT_REL${what}: gen-hyprel accepts only SHT_RELA and stops with: Unexpected SHT_REL section "${s.name}"`;
  }
  if (s.name === CALL_GRAPH_SECTION) return `section "${s.name}" is call-graph profile metadata (type ${s.typeName})`;
  return undefined;
}

/** The sections of an ELF report that break the pipeline, with why. */
export function offendingSections(report: ObjectReport): { section: ElfSection; reason: string }[] {
  if (report.object?.kind !== 'elf') return [];
  const elf = report.object.elf;
  const out: { section: ElfSection; reason: string }[] = [];
  for (const s of elf.sections) {
    const reason = offendingReason(s, elf);
    if (reason) out.push({ section: s, reason });
  }
  return out;
}

/** gen-hyprel's message for the object read under `buildPath`, when it would reject it. */
export async function genHyprelMessage(
  reader: BuildReader,
  file: string,
  buildPath: string,
): Promise<string | undefined> {
  const verdict = await reader.derive(file, `gen-hyprel:${buildPath}`, (src, object) =>
    genHyprelVerdict(src, object, buildPath),
  );
  return verdict && !verdict.accepted ? verdict.message : undefined;
}

function stageByName(file: string): string | undefined {
  const b = path.basename(file);
  if (b === 'kvm_nvhe.tmp.o') return 'tmp';
  if (b === 'kvm_nvhe.rel.o') return 'rel';
  if (b === 'kvm_nvhe.o') return 'final';
  if (b.endsWith('.nvhe.o')) return 'hyp-object';
  return undefined;
}

export const explorer: ExplorerSupport = {
  stages: STAGES,
  conventionalDirs: [path.join('arch', 'arm64', 'kvm', 'hyp', 'nvhe')],
  stageByName,
  sectionReason: offendingReason,
  async classify(report, reader, stage, buildPath): Promise<SectionMarks> {
    const sections = new Map<number, string>();
    for (const o of offendingSections(report)) sections.set(o.section.index, o.reason);
    // gen-hyprel reads the tmp stage: model what it would print for this very object.
    const objectProblem =
      stage === 'tmp' && buildPath && report.object?.kind === 'elf'
        ? await genHyprelMessage(reader, report.path, buildPath)
        : undefined;
    if (objectProblem && report.object?.kind === 'elf') {
      const named = /section "([^"]*)"/.exec(objectProblem)?.[1];
      const s = named !== undefined ? report.object.elf.sections.find((x) => x.name === named) : undefined;
      if (s)
        sections.set(
          s.index,
          sections.has(s.index)
            ? `${sections.get(s.index)}. gen-hyprel: ${objectProblem}`
            : `gen-hyprel would stop here: ${objectProblem}`,
        );
    }
    return { sections, objectProblem };
  },
};
