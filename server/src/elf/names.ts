// Names as llvm-readelf (LLVM 19, GNU output style) prints them: section types, flags, machines.
import { EM_AARCH64, EM_ARM, EM_MIPS, EM_RISCV, EM_X86_64 } from './types';

const EM_HEXAGON = 164;
const EM_MSP430 = 105;
const EM_MIPS_RS3_LE = 10;
const ELFOSABI_SOLARIS = 6;

const genericTypes: Record<number, string> = {
  0: 'NULL',
  1: 'PROGBITS',
  2: 'SYMTAB',
  3: 'STRTAB',
  4: 'RELA',
  5: 'HASH',
  6: 'DYNAMIC',
  7: 'NOTE',
  8: 'NOBITS',
  9: 'REL',
  10: 'SHLIB',
  11: 'DYNSYM',
  14: 'INIT_ARRAY',
  15: 'FINI_ARRAY',
  16: 'PREINIT_ARRAY',
  17: 'GROUP',
  18: 'SYMTAB SECTION INDICES',
  19: 'RELR',
  0x60000001: 'ANDROID_REL',
  0x60000002: 'ANDROID_RELA',
  0x6fffff00: 'ANDROID_RELR',
  0x6fff4c00: 'LLVM_ODRTAB',
  0x6fff4c01: 'LLVM_LINKER_OPTIONS',
  0x6fff4c03: 'LLVM_ADDRSIG',
  0x6fff4c04: 'LLVM_DEPENDENT_LIBRARIES',
  0x6fff4c05: 'LLVM_SYMPART',
  0x6fff4c06: 'LLVM_PART_EHDR',
  0x6fff4c07: 'LLVM_PART_PHDR',
  0x6fff4c08: 'LLVM_BB_ADDR_MAP_V0',
  0x6fff4c09: 'LLVM_CALL_GRAPH_PROFILE',
  0x6fff4c0a: 'LLVM_BB_ADDR_MAP',
  0x6fff4c0b: 'LLVM_OFFLOADING',
  0x6fff4c0c: 'LLVM_LTO',
  0x6ffffff5: 'ATTRIBUTES',
  0x6ffffff6: 'GNU_HASH',
  0x6ffffffd: 'VERDEF',
  0x6ffffffe: 'VERNEED',
  0x6fffffff: 'VERSYM',
};

const machineTypes: Record<number, Record<number, string>> = {
  [EM_ARM]: {
    0x70000001: 'ARM_EXIDX',
    0x70000002: 'ARM_PREEMPTMAP',
    0x70000003: 'ARM_ATTRIBUTES',
    0x70000004: 'ARM_DEBUGOVERLAY',
    0x70000005: 'ARM_OVERLAYSECTION',
  },
  [EM_HEXAGON]: { 0x70000000: 'HEX_ORDERED', 0x70000003: 'HEXAGON_ATTRIBUTES' },
  [EM_X86_64]: { 0x70000001: 'X86_64_UNWIND' },
  [EM_MIPS]: {
    0x70000006: 'MIPS_REGINFO',
    0x7000000d: 'MIPS_OPTIONS',
    0x7000001e: 'MIPS_DWARF',
    0x7000002a: 'MIPS_ABIFLAGS',
  },
  [EM_MIPS_RS3_LE]: {
    0x70000006: 'MIPS_REGINFO',
    0x7000000d: 'MIPS_OPTIONS',
    0x7000001e: 'MIPS_DWARF',
    0x7000002a: 'MIPS_ABIFLAGS',
  },
  [EM_MSP430]: { 0x70000003: 'MSP430_ATTRIBUTES' },
  [EM_RISCV]: { 0x70000003: 'RISCV_ATTRIBUTES' },
  [EM_AARCH64]: {
    0x70000004: 'AARCH64_AUTH_RELR',
    0x70000007: 'AARCH64_MEMTAG_GLOBALS_STATIC',
    0x70000008: 'AARCH64_MEMTAG_GLOBALS_DYNAMIC',
  },
};

const hexUpper = (n: number): string => n.toString(16).toUpperCase();

/** Section type as the `Type` column of `llvm-readelf -S` shows it. */
export function sectionTypeName(machine: number, type: number): string {
  const m = machineTypes[machine]?.[type];
  if (m !== undefined) return m;
  const g = genericTypes[type];
  if (g !== undefined) return g;
  if (type >= 0x60000000 && type <= 0x6fffffff) return `LOOS+0x${hexUpper(type - 0x60000000)}`;
  if (type >= 0x70000000 && type <= 0x7fffffff) return `LOPROC+0x${hexUpper(type - 0x70000000)}`;
  if (type >= 0x80000000 && type <= 0xffffffff) return `LOUSER+0x${hexUpper(type - 0x80000000)}`;
  return `0x${hexUpper(type)}: <unknown>`;
}

const SHF_MASKOS = 0x0ff00000n;
const SHF_MASKPROC = 0xf0000000n;
const baseFlags: [bigint, string][] = [
  [0x1n, 'W'],
  [0x2n, 'A'],
  [0x4n, 'X'],
  [0x10n, 'M'],
  [0x20n, 'S'],
  [0x40n, 'I'],
  [0x80n, 'L'],
  [0x100n, 'O'],
  [0x200n, 'G'],
  [0x400n, 'T'],
  [0x800n, 'C'],
  [0x80000000n, 'E'],
];

/** The Flg column of `llvm-readelf -S` (getGNUFlags): known letters low bit first, then o, p, x. */
export function flagLetters(osabi: number, machine: number, flags: bigint): string {
  const list = baseFlags.slice();
  list.push(
    osabi === ELFOSABI_SOLARIS ? [0x00100000n, 'R'] /* SHF_SUNW_NODISCARD */ : [0x200000n, 'R'] /* SHF_GNU_RETAIN */,
  );
  if (machine === EM_ARM) list.push([0x20000000n, 'y']);
  else if (machine === EM_X86_64) list.push([0x10000000n, 'l']);
  // Hexagon, MIPS and XCore flags have empty GNU names: they count as processor specific.
  let str = '';
  let os = false;
  let proc = false;
  let unknown = false;
  let f = BigInt.asUintN(64, flags);
  while (f !== 0n) {
    const bit = f & -f;
    f -= bit;
    const hit = list.find(([v]) => v === bit);
    if (hit) {
      str += hit[1];
      continue;
    }
    if (bit & SHF_MASKOS) {
      os = true;
      f &= ~SHF_MASKOS;
    } else if (bit & SHF_MASKPROC) {
      proc = true;
      f &= ~SHF_MASKPROC;
    } else {
      unknown = true;
    }
  }
  return str + (os ? 'o' : '') + (proc ? 'p' : '') + (unknown ? 'x' : '');
}

/** The `Key to Flags` legend that ends `llvm-readelf -S`. */
export function flagsLegend(machine: number): string {
  const extra = machine === EM_X86_64 ? ', l (large)' : machine === EM_ARM ? ', y (purecode)' : '';
  return (
    'Key to Flags:\n' +
    '  W (write), A (alloc), X (execute), M (merge), S (strings), I (info),\n' +
    '  L (link order), O (extra OS processing required), G (group), T (TLS),\n' +
    '  C (compressed), x (unknown), o (OS specific), E (exclude),\n' +
    `  R (retain)${extra}, p (processor specific)\n`
  );
}

export function fileTypeName(type: number): string {
  switch (type) {
    case 0:
      return 'NONE (None)';
    case 1:
      return 'REL (Relocatable file)';
    case 2:
      return 'EXEC (Executable file)';
    case 3:
      return 'DYN (Shared object file)';
    case 4:
      return 'CORE (Core file)';
    default:
      if (type >= 0xfe00 && type <= 0xfeff) return `OS Specific: (0x${type.toString(16)})`;
      if (type >= 0xff00) return `Processor Specific: (0x${type.toString(16)})`;
      return `<unknown>: 0x${type.toString(16)}`;
  }
}

const machines: Record<number, string> = {
  0: 'None',
  2: 'Sparc',
  3: 'Intel 80386',
  4: 'MC68000',
  8: 'MIPS R3000',
  10: 'MIPS R3000 little-endian',
  18: 'Sparc v8+',
  20: 'PowerPC',
  21: 'PowerPC64',
  22: 'IBM S/390',
  40: 'ARM',
  43: 'Sparc v9',
  50: 'Intel IA-64',
  62: 'Advanced Micro Devices X86-64',
  164: 'Qualcomm Hexagon',
  183: 'AArch64',
  243: 'RISC-V',
  247: 'EM_BPF',
  258: 'LoongArch',
};

export function machineName(machine: number): string {
  return machines[machine] ?? `<unknown>: 0x${machine.toString(16)}`;
}
