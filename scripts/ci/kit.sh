#!/usr/bin/env bash
# CI for the library author's kit (issue 17): crosscall-audit as a library's CI would run it.
#   - on examples/tokio-capi (every export is #[export], #[ungated] or macro-made): exit 0;
#   - on crates/crosscall-kit-fixture (one deliberately unmarked export): exit 1, naming it.
# The kit's behaviour itself (C host, trybuild, Rust tests) runs in `cargo test --workspace`;
# here only what needs a feature the workspace does not turn on: tracing events to the C log
# callback.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo test --quiet --locked -p crosscall --features tracing-events --test log_callback

cargo build --quiet --locked -p crosscall-audit -p tokio-capi -p crosscall-kit-fixture
target_dir=${CARGO_TARGET_DIR:-target}
audit="$target_dir/debug/crosscall-audit"

"$audit" --verbose "$target_dir/debug/libtokio_capi.so"
echo "crosscall-audit: libtokio_capi.so: every exported function is marked"

set +e
found=$("$audit" "$target_dir/debug/libcrosscall_kit_fixture.so")
status=$?
set -e
if [[ $status -ne 1 || $found != kit_unmarked ]]; then
    echo "crosscall-audit on the fixture: expected exit 1 and 'kit_unmarked', got $status: $found" >&2
    exit 1
fi
echo "crosscall-audit: libcrosscall_kit_fixture.so: found exactly kit_unmarked, as planted"
