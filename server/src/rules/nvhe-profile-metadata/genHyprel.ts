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
  const fail = (msg: string, section?: ElfSection): GenHyprelVerdict => ({
    accepted: false,
    message: `error: ${objectPath}: ${msg}`,
    ...(section ? { section } : {}),
  });
  const conv16 = be ? '__bswap_16' : '__uint16_identity';
  const conv64 = be ? '__bswap_64' : '__uint64_identity';
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
    const u16 = (b: Buffer, o: number): number => (be ? b.readUInt16BE(o) : b.readUInt16LE(o));
    const u32 = (b: Buffer, o: number): number => (be ? b.readUInt32BE(o) : b.readUInt32LE(o));
    const u64 = (b: Buffer, o: number): bigint => (be ? b.readBigUInt64BE(o) : b.readBigUInt64LE(o));
    const type = u16(eh, 16);
    if (type !== 1)
      return fail(`assertion ${conv16} (elf.ehdr->e_type) == 1 failed (lhs=${type}, rhs=1, line=${L.type})`);
    const machine = u16(eh, 18);
    if (machine !== 183)
      return fail(
        `assertion ${conv16} (elf.ehdr->e_machine) == 183 failed (lhs=${machine}, rhs=183, line=${L.machine})`,
      );
    // section_by_off() is handed the raw e_shoff (elf64toh applied), section_by_idx() the raw e_shstrndx.
    const shoff = u64(eh, 40);
    if (shoff === 0n) return fail(`assertion off != 0UL failed (lhs=0, rhs=0, line=${L.offNe0})`);
    const shstrndx = u16(eh, 62);
    if (shstrndx === 0) return fail(`assertion idx != 0 failed (lhs=0, rhs=0, line=${L.idxNe0})`);
    const shdr = async (i: bigint, what: string): Promise<Shdr> => {
      const b = await map.bytes(shoff + i * SHDR, 64, what);
      return { name: u32(b, 0), type: u32(b, 4), offset: u64(b, 24), size: u64(b, 32), info: u32(b, 44) };
    };
    const strSec = await shdr(BigInt(shstrndx), `section header ${shstrndx} (e_shstrndx)`);
    const shString = strSec.offset;
    const shnum = u16(eh, 60);
    const out: string[] = opts.emitOutput ? ['.data\n.pushsection .hyp.reloc, "a"\n'] : [];
    let relocOffset = 0n;
    for (let i = 0n; i < BigInt(shnum); i++) {
      const sh = await shdr(i, `section header ${i}`);
      if (sh.type === SHT_REL) {
        const name = await map.cString(shString + BigInt(sh.name), `name of section ${i}`);
        return fail(`Unexpected SHT_REL section "${name}"`, sectionAt(i));
      }
      if (sh.type !== SHT_RELA) continue;
      const orig = await shdr(BigInt(sh.info), `section header ${sh.info} (sh_info of section ${i})`);
      const nameAt = shString + BigInt(orig.name);
      const prefix = Buffer.from('.hyp', 'latin1');
      let isHyp = true;
      for (let k = 0; k < 4; k++) {
        const c = (await map.bytes(nameAt + BigInt(k), 1, `name of section ${sh.info}`))[0];
        if (c !== prefix[k]) {
          isHyp = false;
          break;
        }
      }
      if (!isHyp) continue;
      const origName = await map.cString(nameAt, `name of section ${sh.info}`);
      if (opts.emitOutput) out.push(`.global __hyp_section_${origName}\n`);
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
          const rOffset = u64(buf, k * 24);
          const rType = Number(u64(buf, k * 24 + 8) & 0xffffffffn);
          if (!(rOffset < orig.size)) {
            return fail(
              `assertion ${conv64} (rela->r_offset) < ${conv64} (sh_orig->sh_size) failed (lhs=0x${rOffset.toString(16)}, rhs=0x${orig.size.toString(16)}, line=${L.rOffset})`,
              sectionAt(i),
            );
          }
          if (!GEN_HYPREL_ALLOWED_RELA.has(rType)) return fail(`Unexpected RELA type ${rType}`, sectionAt(i));
          if (rType === R_AARCH64_ABS64 && opts.emitOutput) {
            out.push(
              `.word 0\n.reloc ${relocOffset}, R_AARCH64_PREL32, __hyp_section_${origName} + 0x${rOffset.toString(16)}\n`,
            );
            relocOffset += 4n;
          }
        }
        p += BigInt(entries) * RELA;
      }
    }
    if (opts.emitOutput) out.push('.popsection\n');
    return opts.emitOutput ? { accepted: true, output: out.join('') } : { accepted: true };
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
