#!/usr/bin/env bash
# The README's headline instruction counts against what `crosscall-lab deployed` measures
# now: fails when a change to the entry path moves a count the README states (then re-measure
# with the command printed below and update README.md and docs/PERFORMANCE.md §10).
#
#   bash scripts/ci/readme-figures.sh
#
# Reads the README's headline table: the first "+N instructions" of the rows of
# `#[crosscall::export]`, the C API pair, the trivial shared-library pair and statically
# linked Rust, and compares each with the row's instructions over its baseline under
# callgrind (deterministic: no timing is checked). Needs cargo, cc, valgrind, python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

command -v valgrind >/dev/null || {
    echo "readme-figures: valgrind is needed to count instructions (apt-get install valgrind)" >&2
    exit 1
}
started=$SECONDS
tmp="$(mktemp -d "${TMPDIR:-/tmp}/readme-figures.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

command=(cargo run --release --locked -q -p crosscall-lab -- deployed
    --shapes export,pair,capi,static-crosscall --threads 1 --calls 20000 --repeat 1
    --format json --quiet)
echo "readme-figures: ${command[*]}"
"${command[@]}" >"$tmp/deployed.json"

python3 - README.md "$tmp/deployed.json" <<'EOF'
import json, re, sys

readme_path, deployed_path = sys.argv[1:]
readme = open(readme_path, encoding="utf-8").read()
rows = {r["shape"]: r for r in json.load(open(deployed_path))["rows"]}

# README headline row (the start of its first cell) -> the deployed shape it states.
stated_by = {
    "| `#[crosscall::export]`": "export",
    "| C API `crosscall_gate_enter`": "capi",
    "| trivial pair": "pair",
    "| statically linked Rust": "static-crosscall",
}
failures = []
for start, shape in stated_by.items():
    line = next((l for l in readme.splitlines() if l.startswith(start)), None)
    if line is None:
        failures.append(f"README has no headline row starting {start!r}")
        continue
    found = re.search(r"\+(\d+) instructions", line)
    if not found:
        failures.append(f"README row {start!r} states no '+N instructions'")
        continue
    stated = int(found.group(1))
    measured = rows[shape]["delta_instructions"]
    if measured is None:
        failures.append(f"deployed counted no instructions for {shape}")
    elif round(measured) != stated:
        failures.append(
            f"{shape}: README says +{stated} instructions, deployed measures "
            f"+{measured:g} over {rows[shape]['baseline']}")
    else:
        print(f"PASS: {shape}: +{stated} instructions over {rows[shape]['baseline']}")
if failures:
    print("README's headline figures drifted from what the code does:", file=sys.stderr)
    for f in failures:
        print(f"  {f}", file=sys.stderr)
    print("re-measure: cargo run --release -p crosscall-lab -- deployed, then update README.md "
          "and docs/PERFORMANCE.md section 10", file=sys.stderr)
    sys.exit(1)
EOF
echo "readme-figures: passed in $((SECONDS - started)) s"
