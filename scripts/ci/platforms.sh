#!/usr/bin/env bash
# The platforms crosscall ships to, beyond x86_64 Linux/glibc (which the rest of CI covers):
#
#   aarch64-unknown-linux-gnu  build + tests under qemu-user (Debian's cross gcc); the
#                              #[export] admitted path checked in the disassembly: initial-exec
#                              TLS, no call, no fence
#   x86_64-unknown-linux-musl  build + tests, natively (musl-gcc)
#   x86_64-pc-windows-gnu      build + tests under wine (mingw-w64); the C API as a DLL with an
#                              import library, used by the README's C program under wine
#   x86_64-apple-darwin, aarch64-apple-darwin, aarch64-apple-ios, aarch64-linux-android
#                              `cargo check` of the library and the C API (no SDK, no device)
#
#   bash scripts/ci/platforms.sh            # everything (CI)
#   bash scripts/ci/platforms.sh aarch64    # one part: deps, check, aarch64, musl, windows
#
# Installs its own tools (apt-get, rustup targets) idempotently; run as root on Debian 12.
# Duration from a fresh clone, tools already installed: 829 s on the shared 2 vCPU machine
# (2026-12-04; 4 min 47 s of CPU, the rest qemu, wine and other builds); apt adds ~1-2 min once.
# Each target is built once. Tests are the crates' test targets; what is skipped, and why:
#   - everywhere: trybuild (`ui`, `export_compile_errors`: it compiles with the host toolchain,
#     so the host's `cargo test` covers it) and doctests (one compile per example; the host
#     runs them);
#   - under qemu: `a_million_panics_each_return_the_error_value` (a million emulated unwinds,
#     ~100 s; the host and musl runs keep it), and the C tests that fork while other threads
#     run (`fork*`, `exit_with_threads_inside_does_not_hang`): qemu-user's TCG asserts in the
#     child (`cpu == current_cpu`) — an emulator limit, not ours; the host and musl runs keep
#     them;
#   - under wine: tests that run `cc`/cbindgen (`crosscall-capi`'s `header` and `readme`), the
#     `dlopen()` test of the cdylib (unix only, see crosscall-ctests/tests/cdylib.rs) and the
#     key-destructor ordering test (unix semantics, see crosscall-ctests/tests/key_destructor.rs).
#     wine 8's FlushProcessWriteBuffers is a stub that does nothing, so under wine crosscall
#     uses the fence(SeqCst) fallback (src/fence.rs); `CROSSCALL_EXPECT_WINE=1` makes a test
#     check that wine is detected. (The grace-period tests once excluded here failed because
#     the fork unit test reset the slots of every gate in the process, including those of
#     tests running beside it; it now resets its own gate's only.)
set -euo pipefail
cd "$(dirname "$0")/../.."

part="${1:-all}"
want() { [[ "$part" == all || "$part" == "$1" ]]; }
say() { printf '\n--- platforms: %s\n' "$*"; }
started=$SECONDS

# ---- tools ------------------------------------------------------------------------------
say "tools"
packages=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu qemu-user
    qemu-user-binfmt musl-tools mingw-w64 wine wine64)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
rustup target add aarch64-unknown-linux-gnu x86_64-unknown-linux-musl x86_64-pc-windows-gnu \
    x86_64-apple-darwin aarch64-apple-darwin aarch64-apple-ios aarch64-linux-android >/dev/null 2>&1

# Cross linkers and runners (cargo reads these per target).
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $QEMU_LD_PREFIX"
export CC_x86_64_unknown_linux_musl=musl-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine

skip_everywhere=(--skip export_compile_errors)

# ---- macOS, iOS, Android: check ---------------------------------------------------------
if want check; then
    for target in x86_64-apple-darwin aarch64-apple-darwin aarch64-apple-ios aarch64-linux-android; do
        say "cargo check --target $target"
        cargo check --locked --target "$target" -p crosscall -p crosscall-capi
    done
fi

# ---- aarch64 Linux under qemu -----------------------------------------------------------
if want aarch64; then
    say "aarch64: binfmt_misc (tests that re-run their own binary exec an aarch64 ELF)"
    if [[ ! -e /proc/sys/fs/binfmt_misc/register ]]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    fi
    if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
        cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
    fi

    say "aarch64: tests under qemu-aarch64"
    cargo test --locked --target aarch64-unknown-linux-gnu -p crosscall -p crosscall-ctests \
        -p crosscall-capi --lib --tests -- "${skip_everywhere[@]}" \
        --skip a_million_panics_each_return_the_error_value \
        --skip fork --skip exit_with_threads_inside_does_not_hang

    say "aarch64: the #[export] admitted path in the release cdylib (initial-exec TLS, no call)"
    cargo build --locked --release --target aarch64-unknown-linux-gnu -p crosscall-hostbench
    so=target/aarch64-unknown-linux-gnu/release/libcrosscall_hostbench.so
    disassembly=$(aarch64-linux-gnu-objdump -d --no-show-raw-insn "$so")
    body=$(awk '/<hb_export_add1>:/{f=1;next} f&&/^$/{exit} f' <<<"$disassembly")
    echo "$body"
    grep -q 'mrs.*tpidr_el0' <<<"$body" || { echo "FAIL: no tpidr_el0 read (initial-exec TLS)"; exit 1; }
    if grep -qE '__tls_get_addr|tlsdesc|\bblr\b' <<<"$body"; then
        echo "FAIL: a TLS call in hb_export_add1"; exit 1
    fi
    # The admitted path: from the entry to the first `b.eq` (the key matched), then from its
    # target to the `ret`. It must hold no `dmb` (that one is on the fence fallback's branch).
    admitted=$(awk '
        { addr = $1; sub(":", "", addr) }
        !target { print; if ($2 == "b.eq") target = $3; next }
        target && addr == target { on = 1 }
        on { print; if ($2 == "ret") exit }' <<<"$body")
    if grep -q 'dmb' <<<"$admitted"; then
        echo "FAIL: a fence on the admitted path"; exit 1
    fi
    echo "admitted path of hb_export_add1 on aarch64: $(wc -l <<<"$admitted") instructions, no call, no dmb"
fi

# ---- musl, natively ---------------------------------------------------------------------
if want musl; then
    say "musl: tests, natively"
    cargo test --locked --target x86_64-unknown-linux-musl -p crosscall -p crosscall-ctests \
        -p crosscall-capi --lib --tests -- "${skip_everywhere[@]}"
fi

# ---- Windows under wine -----------------------------------------------------------------
if want windows; then
    say "windows: wine prefix with a ProcessPrng stand-in"
    # Debian 12's wine 8 has no ProcessPrng in bcryptprimitives.dll, which Rust's std calls at
    # start-up: build a stand-in DLL (RtlGenRandom) and prefer it to wine's own.
    export WINEPREFIX="${CROSSCALL_WINEPREFIX:-${TMPDIR:-/tmp}/crosscall-wine}"
    export WINEDEBUG=-all WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree,mshtml="
    if [[ ! -f "$WINEPREFIX/system.reg" ]]; then
        wineboot -i >/dev/null 2>&1 || true
        wineserver -w || true
    fi
    x86_64-w64-mingw32-gcc -shared -O2 -Wall -Wextra -Werror -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
        scripts/ci/processprng.c -ladvapi32

    say "windows: tests under wine"
    export CROSSCALL_EXPECT_WINE=1
    cargo test --locked --target x86_64-pc-windows-gnu -p crosscall -p crosscall-ctests --lib --tests \
        -- "${skip_everywhere[@]}"
    cargo test --locked --target x86_64-pc-windows-gnu -p crosscall-capi --lib

    say "windows: the C API as a DLL + import library, used by the README's C program"
    cargo build --locked --target x86_64-pc-windows-gnu -p crosscall-capi
    out=target/x86_64-pc-windows-gnu/debug
    test -f "$out/crosscall_capi.dll" && test -f "$out/libcrosscall_capi.dll.a"
    work=$(mktemp -d)
    awk '/<!-- capi-install-check: app.c/{f=1;next} f&&/^```c/{g=1;next} g&&/^```/{exit} g' \
        README.md >"$work/app.c"
    x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -Iinclude "$work/app.c" \
        -L"$out" -lcrosscall_capi -Wl,-Bstatic -lwinpthread -Wl,-Bdynamic -o "$work/app.exe"
    imports=$(x86_64-w64-mingw32-objdump -p "$work/app.exe")
    grep -q 'DLL Name: crosscall_capi.dll' <<<"$imports" || { echo "FAIL: app.exe does not import crosscall_capi.dll"; exit 1; }
    cp "$out/crosscall_capi.dll" "$work/"
    wine "$work/app.exe"
    rm -rf "$work"
fi

say "done in $((SECONDS - started)) s"
