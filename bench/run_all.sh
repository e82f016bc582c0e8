#!/usr/bin/env bash
# Run the four benchmarks and collect their figures in bench/results.json.
#
# Usage: bench/run_all.sh [PYTHON]
#   PYTHON   interpreter with blink2mqtt installed (default: python3 on PATH)
# Environment:
#   BLINKPY_VENV   virtual environment for the blinkpy comparison
#                  (default /tmp/bench-blinkpy; created when missing)
#   BLINKPY_VERSION  blinkpy release installed there (default 0.25.9)
#   SKIP_BLINKPY=1   measure blink2mqtt only
#   BENCH_SNAPSHOT=1 measure blink2mqtt/ as committed at HEAD: it is copied with
#                    git archive and put first on PYTHONPATH, so edits made to the
#                    work tree during the run do not reach the figures
# Needs mosquitto (apt-get install mosquitto). Takes about twelve minutes on 2 cores,
# nine of them in account_safety.py.
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(dirname "$bench_dir")"
python="${1:-python3}"
blinkpy_venv="${BLINKPY_VENV:-/tmp/bench-blinkpy}"
blinkpy_version="${BLINKPY_VERSION:-0.25.9}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

blinkpy_args=(--blinkpy-python "$blinkpy_venv/bin/python")
if [[ "${SKIP_BLINKPY:-0}" == "1" ]]; then
    blinkpy_args=(--skip-blinkpy)
elif [[ ! -x "$blinkpy_venv/bin/python" ]]; then
    echo "Creating $blinkpy_venv with blinkpy $blinkpy_version (used by the benchmark only)"
    python3 -m venv "$blinkpy_venv"
    "$blinkpy_venv/bin/pip" install -q "blinkpy==$blinkpy_version"
    "$blinkpy_venv/bin/pip" install -q -e "$repo_dir"
fi

cd "$repo_dir"
if [[ "${BENCH_SNAPSHOT:-0}" == "1" ]]; then
    commit="$(git rev-parse --short HEAD)"
    mkdir "$work/code"
    git archive "$commit" blink2mqtt | tar -x -C "$work/code"
    export PYTHONPATH="$work/code${PYTHONPATH:+:$PYTHONPATH}"
    export BENCH_CODE_COMMIT="$commit"
    echo "Measuring blink2mqtt/ at commit $commit from $work/code"
fi
"$python" bench/requests_per_poll.py "${blinkpy_args[@]}" --json "$work/requests_per_poll.json"
"$python" bench/command_latency.py --json "$work/command_latency.json"
"$python" bench/scale.py --json "$work/scale.json"
"$python" bench/account_safety.py --json "$work/account_safety.json"

"$python" - "$work" "$bench_dir/results.json" <<'PY'
import json
import sys
from pathlib import Path

work, output = Path(sys.argv[1]), Path(sys.argv[2])
parts = {name: json.loads((work / f"{name}.json").read_text(encoding="utf-8"))
         for name in ("requests_per_poll", "command_latency", "scale", "account_safety")}
results = {"machine": parts["scale"]["machine"], **parts,
           "targets": {name: part.get("target") for name, part in parts.items()}}
output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
print(f"wrote {output}")
for name, target in results["targets"].items():
    if target:
        print(f"  {name}: {target['description']}: {'met' if target['met'] else 'MISSED'}")
PY
