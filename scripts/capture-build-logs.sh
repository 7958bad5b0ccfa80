#!/usr/bin/env bash
# Captures the real kernel build logs under test/fixtures/build-logs/ (issue 21), each from a real
# build with clang/lld 19, and the few build files the one-view test needs beside them. Run once by
# hand; the tests only read what it wrote. One build at a time (-j2), trees under $KBD_CACHE.
#
#   scripts/capture-build-logs.sh nvhe     (a) in-tree 6.1 nvhe build, gen-hyprel fails
#   scripts/capture-build-logs.sh vdso     (b) O= 6.12 arm64 vDSO, CONFIG_WERROR=y: ld.lld orphan errors;
#                                              then CONFIG_WERROR=n: the same build passes with warnings
#   scripts/capture-build-logs.sh clang    (c) O= 6.12 (O= inside the source: ../ paths), a deliberate
#                                              error in a copy of the tree's vgettimeofday.c
#   scripts/capture-build-logs.sh modpost  modpost on an external module (M=) against the `vdso` O= tree:
#                                              a module without MODULE_LICENSE()
#   scripts/capture-build-logs.sh gcc      a host gcc diagnostic (gcc has the same shape as clang)
#
# The logs are the builds' stdout+stderr, byte for byte: no path is rewritten. Each log has a
# `<name>.json` beside it saying how it was made and where its trees were (srctree, objtree, the
# directory make ran in), so a test can map those roots to its own trees.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${KBD_CACHE:-$HOME/.cache/kbuild-diagnostics}
out=$repo/test/fixtures/build-logs
llvm=${KBD_LLVM_SUFFIX:--19}
mkdir -p "$out"

# manifest NAME CWD SRCTREE OBJTREE STATUS COMMAND...
manifest() {
  local name=$1 cwd=$2 src=$3 obj=$4 status=$5
  shift 5
  node -e '
    const [name, cwd, srctree, objtree, status, ...command] = process.argv.slice(1);
    const clang = require("child_process").execFileSync("clang'"$llvm"'", ["--version"], { encoding: "utf8" }).split("\n")[0];
    process.stdout.write(JSON.stringify({ log: name + ".log", cwd, srctree, objtree, status: Number(status), command: command.join(" "), clang }, null, 2) + "\n");
  ' "$name" "$cwd" "$src" "$obj" "$status" "$@" > "$out/$name.json"
}

# run NAME CWD SRCTREE OBJTREE ARGS...: make ARGS in CWD, log to $out/NAME.log (failure expected or not).
run() {
  local name=$1 cwd=$2 src=$3 obj=$4 st
  shift 4
  set +e
  (cd "$cwd" && make "$@") > "$out/$name.log" 2>&1
  st=$?
  set -e
  manifest "$name" "$cwd" "$src" "$obj" "$st" make "$@"
  echo "capture-build-logs.sh: $name: make exited $st, $(wc -l < "$out/$name.log") lines" >&2
}

nvhe() {
  local tree nvhe=arch/arm64/kvm/hyp/nvhe
  # Prepares the tree (pre-fix Makefile, sample profile, defconfig) and builds it once.
  tree=$(bash "$here/build-nvhe.sh" | tail -1)
  rm -f "$tree/$nvhe"/*.o "$tree/$nvhe"/.*.o.cmd "$tree/$nvhe/hyp-reloc.S" "$tree/$nvhe/.hyp-reloc.S.cmd"
  run nvhe-6.1-intree "$tree" "$tree" "$tree" ARCH=arm64 LLVM="$llvm" -j2 \
    "KCFLAGS=-fprofile-sample-use=$tree/nvhe.prof" "$nvhe/"
  # The object gen-hyprel rejected, for the matcher test (the problem's file must exist): its DWARF
  # stripped (3.3 MB -> 180 KB; every other section, the SHT_REL one included, as the link made it), gzipped.
  local keep=$out/nvhe-6.1-intree.build/$nvhe
  rm -rf "$out/nvhe-6.1-intree.build" && mkdir -p "$keep"
  llvm-objcopy$llvm --strip-debug "$tree/$nvhe/kvm_nvhe.tmp.o" "$keep/kvm_nvhe.tmp.o"
  gzip -9n "$keep/kvm_nvhe.tmp.o"
}

# A pristine 6.12 source of our own (the clang capture edits a file in it).
src612() {
  local src=$cache/capture-linux-6.12
  if [ ! -f "$src/.extracted" ]; then
    rm -rf "$src" && mkdir -p "$src"
    tar -xf /usr/src/linux-source-6.12.tar.xz -C "$src" --strip-components=1
    touch "$src/.extracted"
  fi
  echo "$src"
}

configure() { # SRC OBJ WERROR(y|n)
  local src=$1 obj=$2
  [ -f "$obj/.config" ] || make -C "$src" O="$obj" ARCH=arm64 LLVM="$llvm" defconfig > /dev/null
  if [ "$3" = y ]; then "$src/scripts/config" --file "$obj/.config" --enable WERROR
  else "$src/scripts/config" --file "$obj/.config" --disable WERROR; fi
  make -C "$src" O="$obj" ARCH=arm64 LLVM="$llvm" olddefconfig > /dev/null
}

clean_vdso() {
  local d=$1/arch/arm64/kernel/vdso
  [ -d "$d" ] || return 0
  find "$d" -maxdepth 1 \( -name '*.o' -o -name '*.so' -o -name '*.dbg' -o -name '*.lds' -o -name '.*.cmd' \) -delete
}

vdso() {
  local src obj=$cache/capture-o-6.12 vdso=arch/arm64/kernel/vdso
  src=$(src612)
  configure "$src" "$obj" y
  grep -q '^CONFIG_LD_ORPHAN_WARN_LEVEL="error"' "$obj/.config"
  clean_vdso "$obj"
  # As the issue shows it: make run in the source tree with O=; paths are printed relative to O=.
  run vdso-orphans-6.12-O "$src" "$src" "$obj" O="$obj" ARCH=arm64 LLVM="$llvm" -j2 \
    KCFLAGS=-fbasic-block-sections=labels "$vdso/"
  # What the failed link left behind, for the one-view test (the server reads these).
  local keep=$out/vdso-orphans-6.12-O.build
  # (The configuration as make reads it, gzipped; the test unpacks it into its build directory.)
  rm -rf "$keep" && mkdir -p "$keep/$vdso" "$keep/include/config"
  gzip -9c "$obj/include/config/auto.conf" > "$keep/include/config/auto.conf.gz"
  for f in "$obj/$vdso"/*.o "$obj/$vdso"/.*.o.cmd "$obj/$vdso/vdso.lds" "$obj/$vdso"/.vdso.lds.cmd; do
    [ -f "$f" ] && cp "$f" "$keep/$vdso/"
  done
  configure "$src" "$obj" n
  clean_vdso "$obj"
  run vdso-orphans-6.12-O-nowerror "$src" "$src" "$obj" O="$obj" ARCH=arm64 LLVM="$llvm" -j2 \
    KCFLAGS=-fbasic-block-sections=labels "$vdso/"
}

clang() {
  local src obj vdso=arch/arm64/kernel/vdso c
  src=$(src612)
  obj=$src/build
  c=$src/$vdso/vgettimeofday.c
  [ -f "$c.pristine" ] || cp "$c" "$c.pristine"
  configure "$src" "$obj" n
  cp "$c.pristine" "$c"
  cat >> "$c" <<'EOF'

/* Kbuild Diagnostics: deliberate errors for the build-log fixtures (scripts/capture-build-logs.sh). */
int kbd_fixture_decl(int x);
long kbd_fixture_decl(int x);
static int kbd_fixture_unused(void) { int unused; return 0; }
int kbd_fixture_missing_semicolon(void) { return 0 }
EOF
  clean_vdso "$obj"
  # make -C into the build directory (srctree is `..` there).
  run clang-error-6.12-O "$src" "$src" "$obj" -C "$obj" ARCH=arm64 LLVM="$llvm" -j2 "$vdso/"
  cp "$c.pristine" "$c"
}

modpost() {
  local src obj=$cache/capture-o-6.12 mod=$cache/capture-kbdmod
  src=$(src612)
  [ -x "$obj/scripts/mod/modpost" ] || { echo "capture-build-logs.sh: run the vdso stage first" >&2; exit 1; }
  rm -rf "$mod" && mkdir -p "$mod"
  cp "$out/modpost-6.12-M.kbd_fixture.c" "$mod/kbd_fixture.c"
  echo 'obj-m := kbd_fixture.o' > "$mod/Kbuild"
  run modpost-6.12-M "$obj" "$src" "$obj" -C "$obj" ARCH=arm64 LLVM="$llvm" -j2 M="$mod" modules
}

gcc_line() {
  local dir
  dir=$(mktemp -d)
  printf 'int f(void)\n{\n\treturn 0\n}\nint g(void) { int unused; return 1; }\n' > "$dir/t.c"
  set +e
  (cd "$dir" && gcc -Wall -c t.c -o t.o) > "$out/gcc-host.log" 2>&1
  local st=$?
  set -e
  manifest gcc-host "$dir" "$dir" "$dir" "$st" gcc -Wall -c t.c -o t.o
  cp "$dir/t.c" "$out/gcc-host.t.c"
  rm -rf "$dir"
}

case ${1:-} in
  nvhe) nvhe ;;
  vdso) vdso ;;
  clang) clang ;;
  modpost) modpost ;;
  gcc) gcc_line ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
