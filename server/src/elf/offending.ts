// Which sections break the arm64 nVHE pipeline (gen-hyprel on kvm_nvhe.tmp.o).
import { ElfFile, ElfSection, EM_AARCH64, SHT_LLVM_CALL_GRAPH_PROFILE, SHT_LLVM_CALL_GRAPH_PROFILE_LEGACY, SHT_REL } from './types';

/** Why this section breaks the nvhe pipeline, or undefined when it does not. */
export function offendingReason(s: ElfSection, elf: ElfFile): string | undefined {
  if (s.type === SHT_LLVM_CALL_GRAPH_PROFILE) {
    return `section "${s.name}" is SHT_LLVM_CALL_GRAPH_PROFILE (0x6fff4c09): clang emits it when a sample/instrumentation profile is used; it survives ld -r into kvm_nvhe.tmp.o and brings a SHT_REL relocation section that gen-hyprel rejects`;
  }
  if (s.type === SHT_LLVM_CALL_GRAPH_PROFILE_LEGACY) {
    return `section "${s.name}" has the pre-LLVM-13 call-graph-profile type 0x6fff4c02: profile metadata that should not reach the hyp object`;
  }
  if (s.type === SHT_REL) {
    const target = elf.sections[s.info];
    const what = target && target.index !== 0 ? ` (relocations for "${target.name}")` : '';
    return `section "${s.name}" is SHT_REL${what}: gen-hyprel accepts only SHT_RELA and stops with: Unexpected SHT_REL section "${s.name}"`;
  }
  if (s.name === '.llvm.call-graph-profile' && elf.machine === EM_AARCH64) {
    return `section "${s.name}" is call-graph profile metadata (type ${s.typeName})`;
  }
  return undefined;
}
