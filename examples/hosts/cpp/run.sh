#!/usr/bin/env bash
# The C++ host test: libhostkv from std::threads through an RAII wrapper (kv.hpp).
#   bash examples/hosts/cpp/run.sh          # build the library and the test, run it
#   bash examples/hosts/cpp/run.sh --bench  # the per-call overhead figures (release build)
# Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cxx=${CXX:-c++}

if [[ ${1:-} == --bench ]]; then
    lib_dir=$(bash "$here/../build-lib.sh" --release)
    out="$lib_dir/hosts-cpp"
    mkdir -p "$out"
    $cxx -std=c++17 -O2 -Wall -Wextra -Werror -pthread "$here/bench.cpp" \
        -L "$lib_dir" -lcrosscall_hostbench -Wl,-rpath,"$lib_dir" -o "$out/bench"
    exec "$out/bench"
fi

lib_dir=$(bash "$here/../build-lib.sh")
out="$lib_dir/hosts-cpp"
mkdir -p "$out"
$cxx -std=c++17 -O1 -g -Wall -Wextra -Werror -pthread -I "$here/../kvlib" "$here/test_kv.cpp" \
    -L "$lib_dir" -lhostkv -Wl,-rpath,"$lib_dir" -o "$out/test_kv"
# The test panics on purpose; keep the panic hook's report to one line per panic.
export RUST_BACKTRACE=0
for mode in lifecycle exit-while-waiting; do
    timeout 120 "$out/test_kv" "$mode"
done
