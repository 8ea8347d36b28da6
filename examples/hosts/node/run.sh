#!/usr/bin/env bash
# The Node.js host test: libhostkv from worker_threads through koffi (npm).
#   bash examples/hosts/node/run.sh          # build the library, install koffi, run the test
#   bash examples/hosts/node/run.sh --bench  # the per-call overhead figures (release build)
# Installs koffi (package-lock.json) into node_modules/ with `npm ci` if missing.
# Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ ! -d $here/node_modules/koffi ]]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

if [[ ${1:-} == --bench ]]; then
    lib_dir=$(bash "$here/../build-lib.sh" --release)
    exec env HOSTBENCH_LIB="$lib_dir/libcrosscall_hostbench.so" node "$here/bench.js"
fi

lib_dir=$(bash "$here/../build-lib.sh")
export HOSTKV_LIB="$lib_dir/libhostkv.so"
# The test panics on purpose; keep the panic hook's report to one line per panic.
export RUST_BACKTRACE=0
for mode in lifecycle exit-while-waiting; do
    timeout 120 node "$here/test_kv.js" "$mode"
done

# The pitfall the guide describes: a worker waiting for a kv_init that never comes keeps the
# process alive (terminate() cannot interrupt a native call). It must be killed here.
status=0
timeout 3 node "$here/test_kv.js" hang-without-shutdown || status=$?
if ((status != 124)); then
    echo "node: FAILED: hang-without-shutdown exited by itself (status $status)" >&2
    exit 1
fi
echo "node hang-without-shutdown: killed after 3 s, as expected"
