#!/usr/bin/env bash
# CI: the host-language examples (examples/hosts/): libhostkv loaded from Python (ctypes,
# cffi), Go (cgo), C++, Java (JNA) and Node.js (koffi), each program a test of the whole
# lifecycle from that host's threads.
#   bash scripts/ci/hosts.sh                 # all hosts
#   bash scripts/ci/hosts.sh python go       # some
# Installs what is missing (as root on Debian 12): a JDK and libjna-java, Node.js and npm,
# pip for cffi, Go 1.22 through scripts/install-go.sh. Exits non-zero if any host fails.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
hosts=("$@")
((${#hosts[@]})) || hosts=(cpp python go java node)

have() { command -v "$1" >/dev/null 2>&1; }
wants() { [[ " ${hosts[*]} " == *" $1 "* ]]; }

missing=()
if wants cpp; then have c++ || missing+=(g++); fi
if wants python; then
    have python3 || missing+=(python3)
    python3 -m pip --version >/dev/null 2>&1 || python3 -c 'import cffi' 2>/dev/null ||
        missing+=(python3-pip)
fi
if wants java; then
    have javac || missing+=(default-jdk-headless)
    [[ -f /usr/share/java/jna.jar ]] || missing+=(libjna-java)
fi
if wants node; then
    have node || missing+=(nodejs)
    have npm || missing+=(npm)
fi
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# Build the library once before the hosts (each run.sh then finds it up to date).
bash "$root/examples/hosts/build-lib.sh" >/dev/null

failed=()
for host in "${hosts[@]}"; do
    printf '\n--- %s\n' "$host"
    start=$SECONDS
    if bash "$root/examples/hosts/$host/run.sh"; then
        echo "--- $host: passed in $((SECONDS - start)) s"
    else
        echo "--- $host: FAILED after $((SECONDS - start)) s"
        failed+=("$host")
    fi
done
if ((${#failed[@]})); then
    echo "hosts failed: ${failed[*]}" >&2
    exit 1
fi
echo "all hosts passed: ${hosts[*]}"
