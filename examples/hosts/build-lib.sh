#!/usr/bin/env bash
# Builds libhostkv.so (examples/hosts/kvlib) and prints its directory.
#   bash examples/hosts/build-lib.sh            # debug build (what the host tests use)
#   bash examples/hosts/build-lib.sh --release  # release build, plus the benchmark library
#                                               # libcrosscall_hostbench.so (same directory)
# Sourced by every host's run.sh; Cargo's own output goes to stderr.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
profile=debug
packages=(-p hosts-kv)
if [[ ${1:-} == --release ]]; then
    profile=release
    packages+=(-p crosscall-hostbench)
fi

cargo build --quiet --manifest-path "$root/Cargo.toml" "${packages[@]}" \
    $([[ $profile == release ]] && echo --release) >&2
# Where Cargo put it, whatever configures the target directory (CARGO_TARGET_DIR,
# .cargo/config.toml).
target_dir=$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
dir="$target_dir/$profile"
[[ -f $dir/libhostkv.so ]] || { echo "build-lib.sh: $dir/libhostkv.so missing" >&2; exit 1; }
echo "$dir"
