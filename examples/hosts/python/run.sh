#!/usr/bin/env bash
# The Python host test: libhostkv from Python threads through ctypes and through cffi.
#   bash examples/hosts/python/run.sh          # build the library, run both bindings
#   bash examples/hosts/python/run.sh --bench  # the per-call overhead figures (release build)
#   bash examples/hosts/python/run.sh --count  # instructions per call, under callgrind
# Installs cffi from PyPI if Python lacks it (into the target directory, with pip --target:
# Debian's system Python refuses pip installs into itself). Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ensure_cffi() {
    python3 -c 'import cffi' 2>/dev/null && return
    local site="$1/hosts-python/site-packages"
    if ! PYTHONPATH="$site" python3 -c 'import cffi' 2>/dev/null; then
        python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$site" cffi >&2
    fi
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
}

if [[ ${1:-} == --bench ]]; then
    lib_dir=$(bash "$here/../build-lib.sh" --release)
    ensure_cffi "$lib_dir/.."
    exec env HOSTBENCH_LIB="$lib_dir/libcrosscall_hostbench.so" python3 "$here/bench.py"
fi

if [[ ${1:-} == --count ]]; then
    # Instructions per call: (Ir(2N calls) - Ir(N calls)) / N, so start-up and loading cancel.
    lib_dir=$(bash "$here/../build-lib.sh" --release)
    ensure_cffi "$lib_dir/.."
    export HOSTBENCH_LIB="$lib_dir/libcrosscall_hostbench.so"
    n=100000
    # The interpreter itself (not a wrapper script such as a pyenv shim) runs under valgrind.
    python=$(python3 -c "import sys; print(sys.executable)")
    ir() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$python" "$here/bench.py" count "$@" 2>&1 |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    echo "# python $(python3 -c 'import platform; print(platform.python_version())'), callgrind, instructions per call"
    for binding in ctypes cffi; do
        for shape in ungated gated; do
            one=$(ir "$binding" "$shape" "$n")
            two=$(ir "$binding" "$shape" $((2 * n)))
            echo "python $binding $shape: $(((two - one) / n))"
        done
    done
    exit 0
fi

lib_dir=$(bash "$here/../build-lib.sh")
ensure_cffi "$lib_dir/.."
export HOSTKV_LIB="$lib_dir/libhostkv.so"
# The test panics on purpose; keep the panic hook's report to one line per panic.
export RUST_BACKTRACE=0
cd "$here"
for binding in ctypes cffi; do
    for mode in lifecycle exit-while-waiting; do
        timeout 120 python3 test_kv.py "$binding" "$mode"
    done
done
