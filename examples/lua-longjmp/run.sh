#!/usr/bin/env bash
# Builds examples/lua-longjmp/main.c (a Lua 5.4 host, Debian's liblua5.4-dev) against the
# crosscall C API shared library and runs it.
#   bash examples/lua-longjmp/run.sh              # build and run
#   bash examples/lua-longjmp/run.sh --valgrind   # run under valgrind memcheck; any error fails
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

valgrind=0
if [[ ${1:-} == --valgrind ]]; then
    valgrind=1
fi

if ! pkg-config --exists lua5.4; then
    echo "lua-longjmp: needs Lua 5.4 headers (apt-get install liblua5.4-dev)" >&2
    exit 1
fi

cargo build --quiet --manifest-path "$root/Cargo.toml" -p crosscall-capi
target_dir=${CARGO_TARGET_DIR:-$root/target}
out="$target_dir/lua-longjmp"
mkdir -p "$out"
${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1 -pthread \
    -I "$root/include" $(pkg-config --cflags lua5.4) \
    "$here/main.c" -L "$target_dir/debug" -lcrosscall_capi -Wl,-rpath,"$target_dir/debug" \
    $(pkg-config --libs lua5.4) -lpthread -o "$out/main"

if ((valgrind)); then
    exec valgrind --quiet --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite "$out/main"
fi
exec "$out/main"
