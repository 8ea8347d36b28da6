#!/usr/bin/env bash
# The Go host test: libhostkv from goroutines through cgo (package kv).
#   bash examples/hosts/go/run.sh          # build the library and the program, run it
#   bash examples/hosts/go/run.sh --bench  # the per-call overhead figures (release build)
# Uses Go 1.22 from scripts/install-go.sh (installed into .go/ if missing), or $GO.
# Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)

go=${GO:-}
if [[ -z $go ]]; then
    go=$(ls -d "$root"/.go/go1.22.*/bin/go 2>/dev/null | tail -n 1 || true)
    if [[ -z $go ]]; then
        bash "$root/scripts/install-go.sh" --only 1.22 >&2
        go=$(ls -d "$root"/.go/go1.22.*/bin/go | tail -n 1)
    fi
fi
# Never download another toolchain or module: everything here is local.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=1

bench=0
if [[ ${1:-} == --bench ]]; then
    bench=1
    lib_dir=$(bash "$here/../build-lib.sh" --release)
else
    lib_dir=$(bash "$here/../build-lib.sh")
fi
export CGO_LDFLAGS="-L$lib_dir -Wl,-rpath,$lib_dir"
out="$lib_dir/hosts-go"
mkdir -p "$out"
cd "$here"

if ((bench)); then
    "$go" build -o "$out/bench" ./bench
    exec "$out/bench"
fi

"$go" vet ./...
"$go" build -o "$out/test_kv" .
# The test panics on purpose; keep the panic hook's report to one line per panic.
export RUST_BACKTRACE=0
for mode in lifecycle exit-while-waiting; do
    timeout 120 "$out/test_kv" "$mode"
done
