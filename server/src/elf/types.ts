// Shared types of the ELF object reader (server/src/elf). No editor dependencies.

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  /** Section type as `llvm-readelf -S` prints it (PROGBITS, REL, LLVM_CALL_GRAPH_PROFILE, LOOS+0xFFF4C02, ...). */
  typeName: string;
  flags: bigint;
  /** Flag letters as `llvm-readelf -S` prints them in the Flg column (e.g. "AX", "E", "I"). */
  flagLetters: string;
  addr: bigint;
  offset: bigint;
  size: bigint;
  link: number;
  info: number;
  addralign: bigint;
  entsize: bigint;
}

export interface ElfFile {
  class: 32 | 64;
  endian: 'little' | 'big';
  type: number;
  /** e.g. "REL (Relocatable file)" as `llvm-readelf -h` prints it. */
  typeName: string;
  machine: number;
  /** e.g. "AArch64", "Advanced Micro Devices X86-64". */
  machineName: string;
  osabi: number;
  /** Resolved section name table index (SHN_XINDEX already replaced by section 0's sh_link). */
  shstrndx: number;
  sections: ElfSection[];
  /** e_shoff as stored in the header (printed in the `llvm-readelf -S` preamble). */
  shoff?: bigint;
}

export type ObjectKind =
  | { kind: 'elf'; elf: ElfFile }
  | { kind: 'bitcode'; wrapper: boolean }
  | { kind: 'archive'; thin: boolean; members: { name: string; size: number }[] }
  | { kind: 'empty' }
  | { kind: 'unknown'; description: string };

export type ObjectReadErrorCode = 'truncated' | 'malformed' | 'io';

/** The only error the reader throws for bad input: one line, naming the structure and the offset. */
export class ObjectReadError extends Error {
  readonly code: ObjectReadErrorCode;
  constructor(code: ObjectReadErrorCode, message: string) {
    super(message);
    this.name = 'ObjectReadError';
    this.code = code;
  }
}

// Constants used across the module.
export const SHT_SYMTAB = 2;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_ANDROID_REL = 0x60000001;
export const SHT_ANDROID_RELA = 0x60000002;
export const SHT_LLVM_CALL_GRAPH_PROFILE = 0x6fff4c09;
export const SHT_LLVM_CALL_GRAPH_PROFILE_LEGACY = 0x6fff4c02;
export const SHN_UNDEF = 0;
export const SHN_XINDEX = 0xffff;
export const SHF_EXCLUDE = 0x80000000n;
export const EM_MIPS = 8;
export const EM_ARM = 40;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
