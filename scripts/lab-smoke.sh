#!/usr/bin/env bash
# Smoke test of the crosscall lab's command line: small task counts, checks the
# output's shape and invariants (never its speed). CI runs it after
# `scripts/install-go.sh --only 1.22`; on a laptop it runs the same way.
#
#   scripts/lab-smoke.sh
#
# Checks, one PASS line each:
#   run      `run --format json` per gate × workload: the contract keys, values
#            echoed, took_ms > 0, ns_per_task == took_ms * 1e6 / tasks; each of
#            the newer gates (cgo-cthread, rwlock, arcswap) once more on empty,
#            whose default queue is the partitioned one
#   seed     the default run: the intro saying what it measures and what to expect,
#            then seed (one `gate X numWorkers = N  took Yms` line per run, as the Go
#            original prints them) and lean, each with every gate row, the queue and
#            machine-ceiling footer
#   sweep    sweep.json / .csv / .svg, one point per gate and worker count, the
#            machine calibration at every worker count
#   model    the fits of that sweep, raw and capacity-normalized (normalized
#            points == raw * n / min(c(n), n); alpha, beta finite; every
#            projection a figure inside an interval no wider than itself and
#            never above none's, or declined with a reason);
#            two worker counts refused with the "at least 3" message
#   go       the Go reference next to the Rust gates, and its C-host table: C pthreads
#            calling GoAdd1 of a c-shared library beside crosscall's #[export] cdylib and
#            C API, from the same C host (needs a Go toolchain)
#   deployed the deployed shapes (dlopen()ed cdylib, the C API's .so, static rows) at 1
#            and 2 threads, with callgrind's instructions per call where valgrind is
#            installed
# Exits non-zero at the first failure, saying what failed.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

readonly GATES=(none mutex atomic cgo-cthread counter rwlock arcswap crosscall)
readonly WORKERS=2
readonly TASKS=200000

started=$SECONDS
tmp="$(mktemp -d "${TMPDIR:-/tmp}/lab-smoke.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

pass() {
    echo "PASS: $*"
}

# Runs the lab, keeping stderr in $tmp/stderr; on failure shows it and stops.
lab() {
    if ! "$lab_bin" "$@" 2>"$tmp/stderr"; then
        cat "$tmp/stderr" >&2
        fail "crosscall-lab $* exited with an error"
    fi
}

# python3 (script on stdin) with the check's name: an AssertionError becomes a
# FAIL line; with `dump=FILE` set, FILE is shown first.
check_py() {
    local what="$1"
    shift
    if ! python3 - "$@"; then
        [[ -n "${dump:-}" ]] && cat "$dump" >&2
        fail "$what"
    fi
}

echo "building crosscall-lab (release)"
cargo build --release -p crosscall-lab
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
lab_bin="$target_dir/release/crosscall-lab"
[[ -x "$lab_bin" ]] || fail "no binary at $lab_bin after the build"

# (a) run --format json: every gate on seed, crosscall on the other workloads,
# and the other queues once each.
combos=()
for gate in "${GATES[@]}"; do
    combos+=("$gate seed shared")
done
combos+=("crosscall lean shared" "crosscall empty shared" "crosscall seed channel"
    "crosscall lean partitioned" "mutex seed locked")
for gate in cgo-cthread rwlock arcswap; do
    combos+=("$gate empty default")
done
for combo in "${combos[@]}"; do
    read -r gate workload queue <<<"$combo"
    queue_flag=(--queue "$queue")
    if [[ "$queue" == default ]]; then
        queue_flag=()
        queue=partitioned # empty's default: no shared write per task
    fi
    lab run --gate "$gate" --workload "$workload" "${queue_flag[@]}" \
        --workers "$WORKERS" --tasks "$TASKS" --format json >"$tmp/run.json"
    check_py "run $combo: bad JSON output ($(head -c 300 "$tmp/run.json"))" \
        "$tmp/run.json" "$gate" "$workload" "$queue" "$WORKERS" "$TASKS" <<'EOF'
import json, sys
path, gate, workload, queue, workers, tasks = sys.argv[1:]
text = open(path).read()
assert text.count("\n") == 1, f"expected one line, got {text!r}"
run = json.loads(text)
for key in ("gate", "workload", "workers", "tasks", "took_ms", "ns_per_task"):
    assert key in run, f"missing key {key!r}"
assert (run["gate"], run["workload"], run["queue"]) == (gate, workload, queue), run
assert (run["workers"], run["tasks"]) == (int(workers), int(tasks)), run
took_ms, ns = run["took_ms"], run["ns_per_task"]
assert took_ms > 0, f"took_ms = {took_ms}"
assert abs(ns - took_ms * 1e6 / int(tasks)) < 1e-6 * ns + 1e-9, \
    f"ns_per_task {ns} != took_ms * 1e6 / tasks"
EOF
done
pass "run --format json: ${#combos[@]} gate × workload × queue combinations"

# (b) the default run (seed, then lean; every gate), as text, two rounds.
lab --tasks "$TASKS" --workers "$WORKERS" --repeat 2 --quiet >"$tmp/seed.txt"
dump="$tmp/seed.txt" check_py "default run: unexpected output (in full above)" \
    "$tmp/seed.txt" "${GATES[@]}" <<'EOF'
import re, sys
path, gates = sys.argv[1], sys.argv[2:]
text = open(path).read()
intro, _, rest = text.partition("=== part 1 of 2: seed")
assert rest, "no `=== part 1 of 2: seed` line"
for promise in ("seed", "lean", "contention collapse", "--workload"):
    assert promise in intro, f"the intro does not mention {promise!r}"
seed, _, lean = rest.partition("=== part 2 of 2: lean")
assert lean, "no `=== part 2 of 2: lean` line"
runs = re.findall(r"^gate (\S+) +numWorkers = 2  took \d+ms$", seed, re.M)
assert runs == gates * 2, f"seed's per-run lines: {runs}"
for name, part in (("seed", seed), ("lean", lean)):
    lines = part.splitlines()
    assert any("range ms" in l for l in lines), f"{name}: no range column"
    for gate in gates:
        assert any(l.split()[:1] == [gate] and "×" in l for l in lines), f"{name}: no row for {gate}"
    for start in ("queue: shared = ", "harness floor", "queue cost with this work", "machine ceiling: "):
        assert any(l.startswith(start) for l in lines), f"{name}: no line starting {start!r}"
EOF
pass "default run: intro, seed and lean with ${#GATES[@]} gates each, per-run lines, ranges, queue and ceiling footers"

# (c) sweep over three worker counts (enough for the model).
sweep_dir="$tmp/sweep"
lab sweep --workers 1,2,3 --repeat 2 --tasks 100000 --out "$sweep_dir" --quiet >"$tmp/sweep.txt"
dump="$tmp/sweep.txt" check_py "sweep: unexpected outputs (sweep's report above)" "$sweep_dir" "${GATES[@]}" <<'EOF'
import csv, json, math, os, sys
out, gates = sys.argv[1], sys.argv[2:]
for name in ("sweep.json", "sweep.csv", "sweep.svg"):
    assert os.path.isfile(os.path.join(out, name)), f"{name} missing"
sweep = json.load(open(os.path.join(out, "sweep.json")))
points = sweep["points"]
assert len(points) == 3 * len(gates), f"{len(points)} points, want {3 * len(gates)}"
assert sorted({p["gate"] for p in points}) == sorted(gates), [p["gate"] for p in points]
for p in points:
    assert p["min_tasks_per_sec"] <= p["median_tasks_per_sec"] <= p["max_tasks_per_sec"], p
rows = list(csv.DictReader(open(os.path.join(out, "sweep.csv"))))
assert len(rows) == len(points), f"{len(rows)} CSV rows"
svg = open(os.path.join(out, "sweep.svg")).read()
assert "<svg" in svg, "sweep.svg is not an SVG"
for gate in gates:
    assert gate in svg, f"sweep.svg does not name {gate}"
ceiling = sweep["calibration"]
assert ceiling["threads"] == 3 and math.isfinite(ceiling["compute_scaling"]), ceiling
by_workers = ceiling["compute_scaling_by_workers"]
assert [s["workers"] for s in by_workers] == [1, 2, 3], by_workers
assert by_workers[0]["scaling"] == 1.0, by_workers
assert by_workers[-1]["scaling"] == ceiling["compute_scaling"], by_workers
for s in by_workers:
    assert math.isfinite(s["scaling"]) and s["scaling"] > 0, by_workers
EOF
pass "sweep: json/csv/svg, $((3 * ${#GATES[@]})) points, every gate in the plot"

# (d) the model of that sweep; and too few worker counts.
lab model --from "$sweep_dir/sweep.json" --format json >"$tmp/model.json"
dump="$tmp/model.json" check_py "model: unexpected JSON (above)" "$tmp/model.json" \
    "$sweep_dir/sweep.json" "${GATES[@]}" <<'EOF'
import json, math, sys
path, sweep_path, gates = sys.argv[1], sys.argv[2], sys.argv[3:]
report = json.load(open(path))
sweep = json.load(open(sweep_path))
norm = report["normalization"]
assert norm["applied"] is True, norm
c = {s["workers"]: s["scaling"] for s in sweep["calibration"]["compute_scaling_by_workers"]}
assert {s["workers"]: s["scaling"] for s in norm["compute_scaling_by_workers"]} == c, norm
models = report["models"]
assert sorted(m["name"] for m in models) == sorted(gates), [m["name"] for m in models]
for m in models:
    name = m["name"]
    assert m["reading_basis"] == "normalized" and m["reading"], m
    for kind in ("raw", "normalized"):
        fit = m[kind]
        for key in ("alpha", "beta", "lambda"):
            assert math.isfinite(fit["fit"][key]), f"{name} {kind}: {key} = {fit['fit'][key]}"
        assert [p["workers"] for p in fit["projected"]] == [8, 16, 32, 64, 128], fit["projected"]
        base = next(b for b in models if b["name"] == "none")[kind]["projected"]
        for p, b in zip(fit["projected"], base):
            x = p["throughput"]
            if x is None:
                assert p["declined"], f"{name} {kind}: declined without a reason: {p}"
                continue
            low, high = p["interval"]["low"], p["interval"]["high"]
            assert math.isfinite(x) and high - low <= x, f"{name} {kind}: projection {p}"
            assert x <= b["model_throughput"] * (1 + 1e-12), f"{name} {kind}: {p} above none {b}"
    measured = {p["workers"]: p["median_tasks_per_sec"] for p in sweep["points"] if p["gate"] == name}
    raw = {p["workers"]: p["throughput"] for p in m["raw"]["points"]}
    assert raw == measured, f"{name}: raw points {raw} != sweep medians {measured}"
    for p in m["normalized"]["points"]:
        n = p["workers"]
        want = measured[n] * n / min(c[n], n)
        assert abs(p["throughput"] - want) <= 1e-9 * want, f"{name} at {n}: {p['throughput']} != {want}"
EOF
if "$lab_bin" model --points "1:100,2:190" >"$tmp/few.out" 2>"$tmp/few.err"; then
    fail "model with two worker counts was accepted"
fi
grep -q "at least 3" "$tmp/few.err" ||
    fail "model with two worker counts: no \"at least 3\" in: $(cat "$tmp/few.err")"
pass "model: raw and capacity-normalized fits for every gate, normalized = raw * n / c(n), projections never above none or declined; two worker counts refused"

# (e) the Go reference next to the Rust gates.
lab go --workers 1,2 --tasks 50000 --repeat 1 --cthread-calls 20000 --format json >"$tmp/go.json"
dump="$tmp/stderr" check_py "go: unexpected JSON (its stderr above)" "$tmp/go.json" "${GATES[@]}" <<'EOF'
import json, sys
path, gates = sys.argv[1], sys.argv[2:]
report = json.load(open(path))
rows = report["rows"]
go_rows = [r for r in rows if r["implementation"].startswith("go")]
assert go_rows, f"no Go row (is a Go toolchain installed? note: {report.get('note')})"
for gate in gates:
    for workers in (1, 2):
        assert any(r["implementation"] == f"rust:{gate}" and r["workers"] == workers
                   for r in rows), f"no rust:{gate} row at {workers} workers"
for r in rows:
    assert r["median_ms"] > 0 and r["runs"] == 1, r
cthread = report["cthread"]
assert cthread["calls"] == 20000, cthread
shapes = [r["shape"] for r in cthread["rows"]]
assert shapes[:4] == ["local", "ungated", "export", "capi"], shapes
assert any(s.startswith("go") for s in shapes[4:]), f"no Go row in the C-host table: {shapes}"
for r in cthread["rows"]:
    figures = {f["threads"]: f["ns_per_call"] for f in r["by_threads"]}
    assert sorted(figures) == [1, 2] and all(v > 0 for v in figures.values()), r
EOF
go_names="$(python3 -c 'import json, sys; print(", ".join(sorted({r["implementation"] for r in json.load(open(sys.argv[1]))["rows"] if r["implementation"].startswith("go")})))' "$tmp/go.json")"
pass "go: $go_names next to rust:{$(IFS=,; echo "${GATES[*]}")} at 1 and 2 workers"

# (f) the deployed shapes, with instruction counts where valgrind is installed.
lab deployed --threads 1,2 --calls 20000 --repeat 1 --format json >"$tmp/deployed.json"
dump="$tmp/stderr" check_py "deployed: unexpected JSON (its stderr above)" "$tmp/deployed.json" <<'EOF'
import json, shutil, sys
report = json.load(open(sys.argv[1]))
rows = {r["shape"]: r for r in report["rows"]}
want = ["local", "ungated", "export", "export-abort", "export-state", "pair", "capi",
        "capi-state", "static-none", "static-crosscall"]
assert list(rows) == want, list(rows)
counted = shutil.which("valgrind") is not None
for r in rows.values():
    figures = {f["threads"]: f["ns_per_call"] for f in r["by_threads"]}
    assert sorted(figures) == [1, 2] and all(v > 0 for v in figures.values()), r
    assert not counted or r["instructions_per_call"] > 0, r
if counted:
    assert rows["export"]["instructions_per_call"] > rows["ungated"]["instructions_per_call"], rows
ratios = {(r["shape"], r["yardstick"]): r for r in report["ratios"]}
assert set(ratios) == {("capi", "pair"), ("export", "ungated"), ("static-crosscall", "static-none")}, ratios
for r in ratios.values():
    assert [t for t, _ in r["time_by_threads"]] == [1, 2] and all(x > 0 for _, x in r["time_by_threads"]), r
    assert (r["instructions"] is not None) == counted, r
EOF
if command -v valgrind >/dev/null; then
    pass "deployed: 10 shapes at 1 and 2 threads, with instruction counts and the ratios"
else
    pass "deployed: 10 shapes at 1 and 2 threads, with the ratios (valgrind not installed: no instruction counts)"
fi

echo "lab smoke passed in $((SECONDS - started)) s"
