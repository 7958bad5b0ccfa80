// A model of arch/arm64/kvm/hyp/nvhe/gen-hyprel.c (Linux 6.1): the same checks, in the same order,
// with the same messages, computed from the raw bytes exactly as the C program reads them (it mmaps
// the file and trusts it: e_shnum is 16-bit, sh_table is indexed with sizeof(Elf64_Shdr), no extended
// numbering). Where the C program would read outside its mapping (undefined behaviour: a crash or
// garbage), the verdict says so with `undefinedBehavior: true` instead of guessing.
//
// The assertion texts are what gcc + glibc produce from the 6.1 source (macros expanded before
// stringification: `elf16toh(x)` becomes `__uint16_identity (x)` for a little-endian kernel and
// `__bswap_16 (x)` for a big-endian one); the line numbers are those of the 6.1 file.
import { ByteSource } from '../../elf/source';
import { ElfSection, ObjectKind, ObjectReadError } from '../../elf/types';

export type GenHyprelVerdict =
  | { accepted: true; output?: string }
  | { accepted: false; message: string; section?: ElfSection; undefinedBehavior?: boolean };

export interface GenHyprelOptions {
  /** Model a CONFIG_CPU_BIG_ENDIAN kernel (the host tool then expects ELFDATA2MSB). */
  bigEndianKernel?: boolean;
  /** Also produce the hyp-reloc.S text gen-hyprel prints on stdout when it succeeds. */
  emitOutput?: boolean;
}

const PAGE = 4096n;
const SHDR = 64n;
const RELA = 24n;
const SHT_RELA = 4;
const SHT_REL = 9;
const R_AARCH64_ABS64 = 257;
/** Every RELA type gen-hyprel 6.1 accepts (ABS64 is turned into a hyp relocation, the rest are ignored). */
const GEN_HYPREL_ALLOWED_RELA = new Set<number>([
  257, // ABS64
  260,
  261,
  262,
  314, // PREL64 PREL32 PREL16 PLT32
  273,
  274,
  275,
  276,
  277,
  278,
  284,
  285,
  286,
  299, // LD_PREL_LO19 ADR_PREL_LO21 ADR_PREL_PG_HI21(_NC) ADD_ABS_LO12_NC LDST{8,16,32,64,128}_ABS_LO12_NC
  279,
  280,
  282,
  283, // TSTBR14 CONDBR19 JUMP26 CALL26
  287,
  288,
  289,
  290,
  291,
  292,
  293, // MOVW_PREL_G0..G3
]);

/** Source lines of the checks in 6.1's gen-hyprel.c (printed as line=%d). */
const GEN_HYPREL_LINES = {
  offNe0: 230,
  idxNe0: 237,
  stSize: 276,
  mag0: 280,
  mag1: 281,
  mag2: 282,
  mag3: 283,
  cls: 286,
  data: 287,
  type: 288,
  machine: 289,
  rOffset: 376,
} as const;

class UndefinedRead extends Error {
  constructor(
    readonly at: bigint,
    readonly what: string,
  ) {
    super(what);
  }
}

/** The file as gen-hyprel's mmap sees it: file bytes, then zeros to the end of the last page, then nothing. */
class Mapping {
  readonly mapped: bigint;
  constructor(private readonly src: ByteSource) {
    this.mapped = ((BigInt(src.size) + PAGE - 1n) / PAGE) * PAGE;
  }
  async bytes(at: bigint, len: number, what: string): Promise<Buffer> {
    if (at < 0n || at + BigInt(len) > this.mapped) throw new UndefinedRead(at, what);
    const size = BigInt(this.src.size);
    if (at + BigInt(len) <= size) return this.src.read(Number(at), len);
    const out = Buffer.alloc(len);
    if (at < size) (await this.src.read(Number(at), Number(size - at))).copy(out, 0);
    return out;
  }
  /** A NUL-terminated string at `at` (bytes as latin1, like the raw bytes printf would copy). */
  async cString(at: bigint, what: string): Promise<string> {
    const parts: Buffer[] = [];
    for (let p = at; ; p += 256n) {
      if (p >= this.mapped || p < 0n) throw new UndefinedRead(p, what);
      const n = Number(this.mapped - p < 256n ? this.mapped - p : 256n);
      const b = await this.bytes(p, n, what);
      const z = b.indexOf(0);
      if (z >= 0) {
        parts.push(b.subarray(0, z));
        return Buffer.concat(parts).toString('latin1');
      }
      parts.push(b);
    }
  }
}

interface Shdr {
  name: number;
  type: number;
  offset: bigint;
  size: bigint;
  info: number;
}

/** Readers of the object's integers in the kernel's byte order. */
interface Readers {
  u16(b: Buffer, o: number): number;
  u32(b: Buffer, o: number): number;
  u64(b: Buffer, o: number): bigint;
}
const readers = (be: boolean): Readers => ({
  u16: (b, o) => (be ? b.readUInt16BE(o) : b.readUInt16LE(o)),
  u32: (b, o) => (be ? b.readUInt32BE(o) : b.readUInt32LE(o)),
  u64: (b, o) => (be ? b.readBigUInt64BE(o) : b.readBigUInt64LE(o)),
});

type Fail = (msg: string, section?: ElfSection) => GenHyprelVerdict;

/** gen-hyprel's ELF header assertions, in its order: the failure it prints for the first one that fails. */
function checkElfHeader(eh: Buffer, be: boolean, rd: Readers, fail: Fail): GenHyprelVerdict | undefined {
  const L = GEN_HYPREL_LINES;
  const conv16 = be ? '__bswap_16' : '__uint16_identity';
  const hx = (n: number): string => n.toString(16);
  const magic: [number, string, number][] = [
    [0, '0x7f', 0x7f],
    [1, "'E'", 0x45],
    [2, "'L'", 0x4c],
    [3, "'F'", 0x46],
  ];
  for (const [i, text, want] of magic) {
    if (eh[i] !== want)
      return fail(
        `assertion elf.ehdr->e_ident[${i}] == ${text} failed (lhs=0x${hx(eh[i])}, rhs=0x${hx(want)}, line=${L.mag0 + i})`,
      );
  }
  if (eh[4] !== 2) return fail(`assertion elf.ehdr->e_ident[4] == 2 failed (lhs=${eh[4]}, rhs=2, line=${L.cls})`);
  const want = be ? 2 : 1;
  if (eh[5] !== want)
    return fail(`assertion elf.ehdr->e_ident[5] == ${want} failed (lhs=${eh[5]}, rhs=${want}, line=${L.data})`);
  const type = rd.u16(eh, 16);
  if (type !== 1)
    return fail(`assertion ${conv16} (elf.ehdr->e_type) == 1 failed (lhs=${type}, rhs=1, line=${L.type})`);
  const machine = rd.u16(eh, 18);
  if (machine !== 183)
    return fail(`assertion ${conv16} (elf.ehdr->e_machine) == 183 failed (lhs=${machine}, rhs=183, line=${L.machine})`);
  // section_by_off() is handed the raw e_shoff (elf64toh applied), section_by_idx() the raw e_shstrndx.
  if (rd.u64(eh, 40) === 0n) return fail(`assertion off != 0UL failed (lhs=0, rhs=0, line=${L.offNe0})`);
  if (rd.u16(eh, 62) === 0) return fail(`assertion idx != 0 failed (lhs=0, rhs=0, line=${L.idxNe0})`);
  return undefined;
}

/** Whether the name at `nameAt` starts with `.hyp` (gen-hyprel compares byte by byte, reading no further). */
async function startsWithHyp(map: Mapping, nameAt: bigint, what: string): Promise<boolean> {
  const prefix = Buffer.from('.hyp', 'latin1');
  for (let k = 0; k < 4; k++) {
    const c = (await map.bytes(nameAt + BigInt(k), 1, what))[0];
    if (c !== prefix[k]) return false;
  }
  return true;
}

/** The state of one walk over the RELA sections: what gen-hyprel prints so far and where. */
interface RelaWalk {
  map: Mapping;
  rd: Readers;
  fail: Fail;
  conv64: string;
  emit: boolean;
  out: string[];
  relocOffset: bigint;
  sectionAt(i: bigint): ElfSection | undefined;
}

/** for_each_rela over RELA section `i` (relocating `orig` named `origName`): a failure, or undefined when all pass. */
async function walkRela(
  w: RelaWalk,
  sh: Shdr,
  i: bigint,
  orig: Shdr,
  origName: string,
): Promise<GenHyprelVerdict | undefined> {
  const { map, rd, conv64 } = w;
  // for_each_rela: pointer arithmetic on sh_offset + sh_size; a wrap-around is undefined behaviour.
  if (sh.size > 0n && sh.offset + sh.size >= 1n << 63n)
    throw new UndefinedRead(sh.offset, `RELA entries of section ${i} (offset + size overflows)`);
  const end = sh.offset + sh.size;
  const CHUNK = 4096n;
  for (let p = sh.offset; p < end;) {
    const left = (end - p + RELA - 1n) / RELA;
    const n = left < CHUNK ? left : CHUNK;
    let buf: Buffer | undefined;
    try {
      buf = await map.bytes(p, Number(n * RELA), `RELA entries of section ${i}`);
    } catch (e) {
      if (!(e instanceof UndefinedRead)) throw e;
      buf = undefined;
    }
    const entries = buf ? Number(n) : 1;
    if (!buf) buf = await map.bytes(p, 24, `RELA entry at 0x${p.toString(16)} of section ${i}`);
    for (let k = 0; k < entries; k++) {
      const rOffset = rd.u64(buf, k * 24);
      const rType = Number(rd.u64(buf, k * 24 + 8) & 0xffffffffn);
      if (!(rOffset < orig.size)) {
        return w.fail(
          `assertion ${conv64} (rela->r_offset) < ${conv64} (sh_orig->sh_size) failed (lhs=0x${rOffset.toString(16)}, rhs=0x${orig.size.toString(16)}, line=${GEN_HYPREL_LINES.rOffset})`,
          w.sectionAt(i),
        );
      }
      if (!GEN_HYPREL_ALLOWED_RELA.has(rType)) return w.fail(`Unexpected RELA type ${rType}`, w.sectionAt(i));
      if (rType === R_AARCH64_ABS64 && w.emit) {
        w.out.push(
          `.word 0\n.reloc ${w.relocOffset}, R_AARCH64_PREL32, __hyp_section_${origName} + 0x${rOffset.toString(16)}\n`,
        );
        w.relocOffset += 4n;
      }
    }
    p += BigInt(entries) * RELA;
  }
  return undefined;
}

/**
 * What gen-hyprel (Linux 6.1) does with this object: accepted, or the exact line it prints to stderr
 * (`error: PATH: ...`) before exiting 1. `objectPath` is the path as gen-hyprel would get it in argv[1].
 */
export async function genHyprelVerdict(
  src: ByteSource,
  obj: ObjectKind,
  objectPath: string,
  opts: GenHyprelOptions = {},
): Promise<GenHyprelVerdict> {
  const be = opts.bigEndianKernel === true;
  const fail: Fail = (msg, section) => ({
    accepted: false,
    message: `error: ${objectPath}: ${msg}`,
    ...(section ? { section } : {}),
  });
  const L = GEN_HYPREL_LINES;
  if (src.size === 0) return fail('Could not mmap ELF file: Invalid argument');
  if (src.size < 64)
    return fail(`assertion stat.st_size >= sizeof(*elf.ehdr) failed (lhs=${src.size}, rhs=64, line=${L.stSize})`);
  const map = new Mapping(src);
  const sections = obj.kind === 'elf' ? obj.elf.sections : [];
  const sectionAt = (i: bigint): ElfSection | undefined =>
    i < BigInt(sections.length) ? sections[Number(i)] : undefined;
  try {
    const eh = await map.bytes(0n, 64, 'ELF header');
    const rd = readers(be);
    const bad = checkElfHeader(eh, be, rd, fail);
    if (bad) return bad;
    const shoff = rd.u64(eh, 40);
    const shstrndx = rd.u16(eh, 62);
    const shdr = async (i: bigint, what: string): Promise<Shdr> => {
      const b = await map.bytes(shoff + i * SHDR, 64, what);
      return {
        name: rd.u32(b, 0),
        type: rd.u32(b, 4),
        offset: rd.u64(b, 24),
        size: rd.u64(b, 32),
        info: rd.u32(b, 44),
      };
    };
    const strSec = await shdr(BigInt(shstrndx), `section header ${shstrndx} (e_shstrndx)`);
    const shString = strSec.offset;
    const shnum = rd.u16(eh, 60);
    const emit = opts.emitOutput === true;
    const walk: RelaWalk = {
      map,
      rd,
      fail,
      conv64: be ? '__bswap_64' : '__uint64_identity',
      emit,
      out: emit ? ['.data\n.pushsection .hyp.reloc, "a"\n'] : [],
      relocOffset: 0n,
      sectionAt,
    };
    for (let i = 0n; i < BigInt(shnum); i++) {
      const sh = await shdr(i, `section header ${i}`);
      if (sh.type === SHT_REL) {
        const name = await map.cString(shString + BigInt(sh.name), `name of section ${i}`);
        return fail(`Unexpected SHT_REL section "${name}"`, sectionAt(i));
      }
      if (sh.type !== SHT_RELA) continue;
      const orig = await shdr(BigInt(sh.info), `section header ${sh.info} (sh_info of section ${i})`);
      const nameAt = shString + BigInt(orig.name);
      if (!(await startsWithHyp(map, nameAt, `name of section ${sh.info}`))) continue;
      const origName = await map.cString(nameAt, `name of section ${sh.info}`);
      if (emit) walk.out.push(`.global __hyp_section_${origName}\n`);
      const failed = await walkRela(walk, sh, i, orig, origName);
      if (failed) return failed;
    }
    if (emit) walk.out.push('.popsection\n');
    return emit ? { accepted: true, output: walk.out.join('') } : { accepted: true };
  } catch (e) {
    if (e instanceof UndefinedRead) {
      return {
        accepted: false,
        undefinedBehavior: true,
        message: `error: ${objectPath}: gen-hyprel would read outside the mapped file (${e.what}, at offset 0x${BigInt.asUintN(64, e.at).toString(16)}): undefined behaviour, the real program may crash or read garbage`,
      };
    }
    if (e instanceof ObjectReadError) throw e;
    throw e;
  }
}
