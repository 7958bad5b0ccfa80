#!/usr/bin/env bash
# Regenerates the ELF fixtures under test/fixtures/elf with clang-19 / lld-19 / llvm-19, and the
# expected answers beside them: FILE.readelf-S.txt (llvm-readelf-19 -S) and, for some, FILE.readelf-r.txt
# (llvm-readelf-19 -r). The >65,280-section object and its expected table are stored gzipped (kept < 2 MB).
#   bash scripts/make-fixtures.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/test/fixtures/elf
CC=${CC:-clang-19}
LD=${LD:-ld.lld-19}
READELF=${READELF:-llvm-readelf-19}
AR=${AR:-llvm-ar-19}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
rm -f "$out"/*.o "$out"/*.a "$out"/*.txt "$out"/*.gz "$out"/*.c "$out"/*.prof
cd "$work"

# The smallest reproducer from KERNEL-FACTS.md.
printf 'int bar(int);\nint foo(int x){return bar(x)+1;}\n' > t.c
printf 'foo:1000:100\n 0: 100\n' > p.prof
cp t.c p.prof "$out/"
aarch64="$CC --target=aarch64-linux-gnu -O2 -c"
$aarch64 -fprofile-sample-use=p.prof t.c -o "$out/aarch64-profile.o"
$aarch64 t.c -o "$out/aarch64-clean.o"

# Several profiled objects linked with ld -r, as kvm_nvhe.tmp.o is.
for i in 1 2 3; do
  printf 'int bar%d(int);\nint baz%d(int);\nint foo%d(int x){return bar%d(x)+baz%d(x)+1;}\n' $i $i $i $i $i > u$i.c
  printf 'foo%d:1000:100\n 0: 100\n 1: 100\n' $i > u$i.prof
  $aarch64 -fprofile-sample-use=u$i.prof u$i.c -o u$i.o
done
$LD -r u1.o u2.o u3.o -o "$out/aarch64-ldr.o"

# Hyp-style objects: gen-hyprel only inspects RELA sections whose target starts with ".hyp".
cat > hyp.c <<'C'
extern int counter;
extern void helper(void);
__attribute__((section(".hyp.text"))) int hyp_fn(int x) { helper(); return counter + x; }
__attribute__((section(".hyp.data"))) int *hyp_ptr = &counter;           /* R_AARCH64_ABS64 */
__attribute__((section(".hyp.rodata"))) long hyp_rel = 0;
C
$aarch64 -fno-pic hyp.c -o "$out/aarch64-hyp.o"
printf 'hyp_fn:1000:100\n 0: 100\n' > hyp.prof
$aarch64 -fno-pic -fprofile-sample-use=hyp.prof hyp.c -o "$out/aarch64-hyp-profile.o"
# Big-endian arm64 (CONFIG_CPU_BIG_ENDIAN): gen-hyprel built for a BE kernel expects ELFDATA2MSB.
$CC --target=aarch64_be-linux-gnu -O2 -c -fno-pic hyp.c -o "$out/aarch64_be-hyp.o"
$CC --target=aarch64_be-linux-gnu -O2 -c -fno-pic -fprofile-sample-use=hyp.prof hyp.c -o "$out/aarch64_be-hyp-profile.o"
cat > bad.s <<'S'
	.section .hyp.data,"aw"
	.word counter            // R_AARCH64_ABS32 (258): gen-hyprel: Unexpected RELA type 258
	.section .hyp.text,"ax"
	ret
S
$CC --target=aarch64-linux-gnu -c bad.s -o "$out/aarch64-hyp-badrela.o"

# Other targets and encodings.
$CC --target=x86_64-linux-gnu -O2 -c -fprofile-sample-use=p.prof t.c -o "$out/x86_64-profile.o"
$CC --target=armv7a-linux-gnueabihf -O2 -c t.c -o "$out/arm32.o"
$CC --target=mips-linux-gnu -O2 -c t.c -o "$out/mips-be.o"
$CC --target=powerpc64-linux-gnu -O2 -c t.c -o "$out/ppc64-be.o"
$CC --target=powerpc-linux-gnu -O2 -c t.c -o "$out/ppc32-be.o"
$CC --target=i386-linux-gnu -O2 -c t.c -o "$out/i386.o"

# More than 65,280 sections: extended numbering (e_shnum = 0, e_shstrndx = SHN_XINDEX).
{
  for i in $(seq 1 65400); do printf '\t.section .t,"ax",@progbits,unique,%d\n\tnop\n' "$i"; done
} > many.s
$CC --target=aarch64-linux-gnu -c many.s -o many-sections.o
$READELF -S many-sections.o > many-sections.o.readelf-S.txt
gzip -9n many-sections.o many-sections.o.readelf-S.txt
mv many-sections.o.gz many-sections.o.readelf-S.txt.gz "$out/"

# LTO: bitcode in a .o file.
$CC --target=aarch64-linux-gnu -O2 -flto -c t.c -o "$out/bitcode.o"

# Archives: regular (with a GNU long member name) and thin.
cp "$out/aarch64-clean.o" a-member-with-a-long-name.o
cp "$out/aarch64-profile.o" short.o
$AR rcs "$out/libregular.a" a-member-with-a-long-name.o short.o
(cd "$out" && $AR rcsT libthin.a aarch64-clean.o aarch64-profile.o)

: > "$out/empty.o"

cd "$out"
for f in *.o; do
  [ -s "$f" ] || continue
  case $f in bitcode.o) continue ;; esac
  $READELF -S "$f" > "$f.readelf-S.txt"
done
for f in aarch64-profile.o aarch64-ldr.o aarch64-hyp.o aarch64_be-hyp-profile.o aarch64-hyp-badrela.o x86_64-profile.o arm32.o mips-be.o ppc64-be.o ppc32-be.o i386.o; do
  $READELF -r "$f" > "$f.readelf-r.txt"
done
ls -la "$out"
