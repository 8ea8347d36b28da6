#!/usr/bin/env bash
# The per-host overhead figures of docs/PERFORMANCE.md ("From host languages"): every
# host's bench, one after the other, in one run.
#   bash examples/hosts/bench.sh              # C++, Python, Go, Java, Node
#   bash examples/hosts/bench.sh go java      # some
# Each bench interleaves the ungated and the gated function round by round (see its header);
# ROUNDS and CALLS in the environment override every bench's defaults.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hosts=("$@")
((${#hosts[@]})) || hosts=(cpp python go java node)

bash "$here/build-lib.sh" --release >/dev/null
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for host in "${hosts[@]}"; do
    echo
    bash "$here/$host/run.sh" --bench
done
echo
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
