#!/usr/bin/env bash
# Prepares a real Linux 6.1 tree whose nVHE hyp objects were built by clang with a sample profile
# and WITHOUT the upstream form-A fix, so gen-hyprel fails as in the original report.
# Prints the tree's path on stdout (last line); the build log goes to $tree/.nvhe-build.log.
#   scripts/build-nvhe.sh            # prepare (cached) and build
#   scripts/build-nvhe.sh --rebuild  # rebuild the nvhe directory of the prepared tree as it is now
# Needs: clang-19 lld-19 llvm-19 make flex bison bc libssl-dev libelf-dev linux-source-6.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KBD_CACHE:-$HOME/.cache/kbuild-diagnostics}
tree=$cache/nvhe-build-6.1
version=6.1
llvm=${KBD_LLVM_SUFFIX:--19}
mode=${1:-prepare}

make_args=(ARCH=arm64 LLVM="$llvm" -j"$(nproc)")

if [ "$mode" != --rebuild ] && [ ! -f "$tree/.prepared" ]; then
  src=$(bash "$here/kernel-tree.sh" "$version")
  rm -rf "$tree" && mkdir -p "$tree"
  tar -xf "/usr/src/linux-source-$version.tar.xz" -C "$tree" --strip-components=1
  # Undo form A: delete the upstream fix line (and its comment) so the tree is in the pre-fix state.
  makefile=$tree/arch/arm64/kvm/hyp/nvhe/Makefile
  sed -i '/-fprofile-sample-use=% -fprofile-use=%/d; /Starting from 13.0.0 llvm emits SHT_REL/d; /when profile optimization is applied. gen-hyprel/d; /causes a build failure. Remove profile optimization flags/d' "$makefile"
  if grep -q 'profile' "$makefile"; then echo "build-nvhe.sh: could not undo the fix in $makefile" >&2; exit 1; fi
  cp "$makefile" "$makefile.prefix"
  # A text sample profile naming real nvhe functions, each with counts on the lines that hold calls.
  : > "$tree/nvhe.prof"
  for fn in handle_trap handle_host_hcall handle_host_smc __kvm_vcpu_run kvm_host_psci_handler \
            __pkvm_init __pkvm_prot_finalize host_stage2_idmap kvm_nvhe_prepare_backtrace; do
    echo "$fn:1000000:10000" >> "$tree/nvhe.prof"
    for i in $(seq 0 199); do echo " $i: 10000" >> "$tree/nvhe.prof"; done
  done
  make -C "$tree" "${make_args[@]}" defconfig > "$tree/.nvhe-build.log" 2>&1
  touch "$tree/.prepared"
fi
[ -f "$tree/.prepared" ] || { echo "build-nvhe.sh: $tree is not prepared" >&2; exit 1; }
# Without --rebuild the tree starts from the pre-fix Makefile, whatever a previous run left there;
# Its nvhe outputs are removed too: an object patched in place (form B) would otherwise hide the failure.
if [ "$mode" != --rebuild ]; then
  nvhe=$tree/arch/arm64/kvm/hyp/nvhe
  cp "$nvhe/Makefile.prefix" "$nvhe/Makefile"
  rm -f "$nvhe"/*.o "$nvhe"/.*.o.cmd "$nvhe/hyp-reloc.S" "$nvhe/.hyp-reloc.S.cmd"
fi
# The build is expected to fail before the fix: its status is written down, not fatal.
set +e
make -C "$tree" "${make_args[@]}" KCFLAGS="-fprofile-sample-use=$tree/nvhe.prof" arch/arm64/kvm/hyp/nvhe/ >> "$tree/.nvhe-build.log" 2>&1
echo $? > "$tree/.nvhe-build.status"
set -e
echo "$tree"
