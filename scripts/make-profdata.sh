#!/usr/bin/env bash
# A real instrumentation profile (.profdata) whose records match the nVHE hyp functions of a Linux
# tree, and (with --verify) the real builds that show what -fprofile-use= / -fprofile-instr-use= do to
# the nvhe pipeline (issue 12, part 3). Results of a run: docs/real-builds.md.
#
#   scripts/make-profdata.sh TREE OUT.profdata     write OUT.profdata (and OUT.proftext beside it)
#   scripts/make-profdata.sh --verify [OUT.md]     prepare the `prefix` variant (scripts/kernel-variants.sh),
#                                                  make its profdata, run the build matrix, print a
#                                                  Markdown table (also written to OUT.md if given)
#
# How the profile is made. The hyp code runs at EL2 and cannot be run here to collect counts, so the
# counts are made up; what must be real are the records' names and hashes, or clang ignores them:
# 1. TREE's nvhe directory is built once without a profile (if no .cmd files are there yet), so that
#    every hyp C object has its exact compile command in its Kbuild .cmd file.
# 2. Each command is rerun with -fprofile-instr-generate -S -emit-llvm -Xclang -disable-llvm-passes:
#    clang's front end then leaves one call
#      call void @llvm.instrprof.increment(ptr @__profn_NAME, i64 HASH, i32 NUM_COUNTERS, i32 INDEX)
#    per counter, and @__profn_NAME holds the function's PGO name ("file.c:name" for static functions).
#    These are the same name/hash/counter count that the lowered __profd_* globals carry.
# 3. A text profile gets one record per function (every counter 100000), and
#    `llvm-profdata-19 merge` turns it into OUT.profdata. The build's clang (same source, same flags)
#    finds every record: the verify builds check that clang printed no profile-mismatch warning.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
llvm=${KBD_LLVM_SUFFIX:--19}
NVHE=arch/arm64/kvm/hyp/nvhe
die() { echo "make-profdata.sh: $*" >&2; exit 1; }

make_profdata() {
  local tree=$1 out=$2 work cmdf src cmd n=0
  tree=$(cd "$tree" && pwd)
  case $out in /*) ;; *) out=$PWD/$out;; esac
  [ -f "$tree/$NVHE/Makefile" ] || die "$tree is not a kernel tree"
  if ! ls "$tree/$NVHE"/.hyp-main.nvhe.o.cmd > /dev/null 2>&1; then
    echo "make-profdata.sh: building $NVHE/ once without a profile for its compile commands" >&2
    make -C "$tree" ARCH=arm64 LLVM="$llvm" -j"$(nproc)" KCFLAGS= "$NVHE/" > "$tree/.profdata-build.log" 2>&1 \
      || die "the build without a profile failed: $tree/.profdata-build.log"
  fi
  work=$(mktemp -d)
  trap 'rm -rf "${work:-}"; trap - RETURN' RETURN
  for cmdf in "$tree/$NVHE"/.*.nvhe.o.cmd "$tree/$NVHE"/../.*.nvhe.o.cmd "$tree/arch/arm64/lib"/.*.nvhe.o.cmd; do
    [ -f "$cmdf" ] || continue
    # source_<obj> := <file>: only C sources have functions to profile.
    src=$(sed -n 's/^source_[^ ]* := //p' "$cmdf")
    case $src in *.c) ;; *) continue;; esac
    cmd=$(sed -n 's/^\(saved\)\{0,1\}cmd_[^ ]* := //p' "$cmdf" | head -1)
    [ -n "$cmd" ] || die "$cmdf: no command"
    # Make-escaped text back to shell text; drop the depfile, the output and any profile options.
    cmd=$(printf '%s' "$cmd" | sed -e 's/\$\$/$/g' -e 's/\\#/#/g' \
      -e 's/ -Wp,-MMD,[^ ]*//' -e 's/ -c -o [^ ]*//' \
      -e 's/ -f\(no-\)\{0,1\}profile-[a-z-]*\(=[^ ]*\)\{0,1\}//g' -e 's/ -fauto-profile=[^ ]*//g')
    n=$((n + 1))
    (cd "$tree" && sh -c "$cmd -fprofile-instr-generate -S -emit-llvm -Xclang -disable-llvm-passes -o $work/$n.ll") \
      || die "IR compile failed for $src"
  done
  [ "$n" -gt 0 ] || die "no hyp C objects found under $tree/$NVHE"
  # One record per @__profn_ variable that an increment names: name, hash, number of counters.
  for ll in "$work"/*.ll; do
    awk '
      /^@"?__profn_/ && / constant \[[0-9]+ x i8\] c"/ {
        var = $1; s = substr($0, index($0, " c\"") + 3); sub(/".*$/, "", s); name[var] = s
      }
      /call void @llvm\.instrprof\.increment\(ptr @"?__profn_/ {
        line = $0; sub(/^.*increment\(ptr /, "", line)
        split(line, a, /, /); var = a[1]; h = a[2]; c = a[3]
        sub(/^i64 /, "", h); sub(/^i32 /, "", c)
        if (!(var in hash)) { hash[var] = h; cnt[var] = c + 0; order[++k] = var }
      }
      END {
        for (i = 1; i <= k; i++) {
          v = order[i]
          if (!(v in name)) { print "make-profdata.sh: no name for " v > "/dev/stderr"; exit 1 }
          print name[v]; print "# Func Hash:"; print hash[v]; print "# Num Counters:"; print cnt[v]
          print "# Counter Values:"
          for (j = 0; j < cnt[v]; j++) print 100000
          print ""
        }
      }' "$ll" >> "$work/all.proftext"
  done
  # The IR prints hashes as signed 64-bit numbers; the text profile wants them unsigned.
  local line prev=
  while IFS= read -r line; do
    if [ "$prev" = "# Func Hash:" ]; then printf '%u\n' "$line"; else printf '%s\n' "$line"; fi
    prev=$line
  done < "$work/all.proftext" > "${out%.profdata}.proftext"
  [ -s "${out%.profdata}.proftext" ] || die "no functions found in the IR"
  "llvm-profdata$llvm" merge -o "$out" "${out%.profdata}.proftext"
  echo "make-profdata.sh: $(grep -c '^# Func Hash:' "${out%.profdata}.proftext") functions from $n hyp C files -> $out" >&2
}

# The build matrix on the `prefix` variant (6.1, form A deleted), one build at a time.
verify() {
  local md=${1:-} kv="$here/kernel-variants.sh" tree prof rows=() forms res st secs err sec nrel nobj o
  tree=$(bash "$kv" prepare prefix | tail -1)
  prof=$tree/nvhe.profdata
  [ -f "$prof" ] || make_profdata "$tree" "$prof"
  run() { # forms, make args...
    forms=$1; shift
    bash "$kv" prepare prefix > /dev/null
    # shellcheck disable=SC2086 # forms is a list of words
    [ -z "$forms" ] || bash "$kv" edit prefix $forms
    res=$(bash "$kv" build prefix "$@" | sed -n 1p)
    st=${res#status=}; st=${st%% *}; secs=${res##*seconds=}
    err=$(grep -m1 '^error:' "$tree/.nvhe-build.log" || true)
    sec=absent
    if [ -f "$tree/$NVHE/kvm_nvhe.tmp.o" ]; then
      llvm-readelf$llvm -S "$tree/$NVHE/kvm_nvhe.tmp.o" | grep -c 'llvm.call-graph-profile' > /dev/null && sec=present
    else sec="(not linked)"; fi
    nrel=0; nobj=0
    for o in "$tree/$NVHE"/*.nvhe.o "$tree/$NVHE"/../*.nvhe.o "$tree/arch/arm64/lib"/*.nvhe.o; do
      [ -f "$o" ] || continue; nobj=$((nobj + 1))
      llvm-readelf$llvm -S "$o" | grep -c '\.rel\.llvm\.call-graph-profile' > /dev/null && nrel=$((nrel + 1))
    done
    # clang's profile warnings: files it found no record for, and records whose hash did not match.
    local unprof ood
    unprof=$(grep -o 'no profile data available for file "[^"]*"' "$tree/.nvhe-build.log" | sed 's/.*file "//; s/"$//' | sort -u | tr '\n' ' ' || true)
    ood=$(grep -c 'profile-instr-out-of-date' "$tree/.nvhe-build.log" || true)
    rows+=("| ${forms:-none} | \`$*\` | $([ "$st" = 0 ] && echo pass || echo "fail ($st)") | $nrel/$nobj | $sec | ${err:-—} | ${unprof:-none} | $ood | ${secs}s |")
  }
  local pu="KCFLAGS=-fprofile-use=$prof" piu="KCFLAGS=-fprofile-instr-use=$prof"
  run "" "$pu"
  run "" "$piu"
  run v1 "$pu"
  run v1 "$piu"
  run v1 "KCFLAGS=-fprofile-sample-use=$tree/nvhe.prof"
  run A "$pu"
  run A "$piu"
  run A-full "$piu"
  {
    echo "| form in nvhe/Makefile | make arguments | build | hyp objects with \`.rel.llvm.call-graph-profile\` | section in \`kvm_nvhe.tmp.o\` | gen-hyprel | files clang found no profile for | out-of-date warnings | time |"
    echo "|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
  } | sed "s#$tree#<tree>#g" | tee ${md:+"$md"}
}

case ${1:-} in
  --verify) shift; verify "${1:-}" ;;
  ''|-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  *) [ $# -eq 2 ] || die "usage: make-profdata.sh TREE OUT.profdata | --verify [OUT.md]"; make_profdata "$1" "$2" ;;
esac
