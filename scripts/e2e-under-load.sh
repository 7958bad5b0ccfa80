#!/usr/bin/env bash
# The real-VS-Code suite RUNS times in a row (default 5) with a kernel build on the same cores beside
# it: `make -j2` of Linux 6.1 arm64 defconfig with clang-19, in its own tree ($KBD_CACHE/load-6.1),
# started again from `make clean` whenever it ends, so every run of the suite meets it. Prints each
# run's result, time and load average; exits 0 only if every run passed.
#   bash scripts/e2e-under-load.sh [RUNS] [SESSION...]     (sessions as for test/e2e/run.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
cache=${KBD_CACHE:-$HOME/.cache/kbuild-diagnostics}
tree=$cache/load-6.1
if [ ! -f "$tree/.config" ]; then
  src=$(bash scripts/kernel-tree.sh 6.1)
  rm -rf "$tree" && cp -a "$src" "$tree"
  make -C "$tree" ARCH=arm64 LLVM=-19 defconfig >/dev/null
fi
npm run build >/dev/null
# Its own process group, so the build and every compiler it started stop with it.
setsid bash -c "while :; do make -C '$tree' -j2 ARCH=arm64 LLVM=-19 Image >/dev/null 2>&1 || true; \
  make -C '$tree' ARCH=arm64 LLVM=-19 clean >/dev/null 2>&1 || true; done" &
loader=$!
trap 'kill -TERM -- "-$loader" 2>/dev/null || true' EXIT
sleep 20 # the build is compiling before the first run starts
passed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  if node test/e2e/run.mjs "$@" >"$cache/e2e-under-load.$i.log" 2>&1; then
    result=pass passed=$((passed + 1))
  else
    result=FAIL
  fi
  busy=$(pgrep -c -f 'clang-19|ld.lld-19' || true)
  echo "[e2e-under-load] run $i/$runs: $result in $(($(date +%s) - start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg); kernel build processes now: $busy; log $cache/e2e-under-load.$i.log"
done
echo "[e2e-under-load] $passed of $runs runs passed"
[ "$passed" -eq "$runs" ]
