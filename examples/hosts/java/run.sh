#!/usr/bin/env bash
# The Java host test: libhostkv from Java threads through JNA (Debian's libjna-java).
#   bash examples/hosts/java/run.sh          # build the library and the classes, run the test
#   bash examples/hosts/java/run.sh --bench  # the per-call overhead figures (release build)
# Installs default-jdk-headless and libjna-java with apt-get if missing (as root).
# Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

jna=/usr/share/java/jna.jar
missing=()
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
[[ -f $jna ]] || missing+=(libjna-java)
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

bench=0
if [[ ${1:-} == --bench ]]; then
    bench=1
    lib_dir=$(bash "$here/../build-lib.sh" --release)
else
    lib_dir=$(bash "$here/../build-lib.sh")
fi
out="$lib_dir/hosts-java"
mkdir -p "$out"
javac -encoding UTF-8 -Xlint:all -Werror -cp "$jna" -d "$out" "$here"/*.java

if ((bench)); then
    exec java -cp "$jna:$out" -Dhostbench.lib="$lib_dir/libcrosscall_hostbench.so" Bench
fi
# The test panics on purpose; keep the panic hook's report to one line per panic.
export RUST_BACKTRACE=0
for mode in lifecycle exit-while-waiting; do
    timeout 120 java -cp "$jna:$out" -Dhostkv.lib="$lib_dir/libhostkv.so" KvTest "$mode"
done
