#!/usr/bin/env bash
# Soak: run the whole test suite several times while the machine is busy, to shake out tests
# that only pass on an idle machine. Beside the suite, one CPU-burning process per core runs
# for the whole soak (killed on exit, however the script ends). Fails if any run fails;
# prints one summary line per run and a total.
#
#   bash scripts/soak.sh              # 3 runs, one burner per core
#   SOAK_RUNS=5 SOAK_BURNERS=4 bash scripts/soak.sh -x    # extra args go to pytest
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${SOAK_RUNS:-3}"
burners="${SOAK_BURNERS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}"
logdir="${SOAK_LOG_DIR:-out/soak}"
mkdir -p "$logdir"

if ! bash scripts/setup.sh test,browser >"$logdir/setup.log" 2>&1; then
  cat "$logdir/setup.log" >&2
  exit 1
fi

pids=()
stop_burners() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null
  done
  pids=()
}
trap stop_burners EXIT
trap 'stop_burners; exit 130' INT TERM

for _ in $(seq "$burners"); do
  # a busy loop in the shell itself: no dependency, one core each
  ( trap 'exit 0' TERM; while :; do :; done ) &
  pids+=("$!")
done
echo "soak: $runs runs of the suite beside $burners CPU burners; logs in $logdir/"

failed=0
soak_start=$(date +%s)
for run in $(seq "$runs"); do
  log="$logdir/run-$run.log"
  start=$(date +%s)
  bash scripts/test.sh -q "$@" >"$log" 2>&1
  status=$?
  seconds=$(( $(date +%s) - start ))
  # pytest's summary line, e.g. "3 failed, 956 passed in 838.18s (0:13:58)" (with -q)
  result=$(grep -E '(passed|failed|error).* in [0-9.]+s' "$log" | tail -n 1 | tr -d '=' | sed 's/^ *//;s/ *$//')
  if [ "$status" -eq 0 ]; then verdict=PASS; else verdict=FAIL; failed=$((failed + 1)); fi
  line="soak run $run/$runs: $verdict (exit $status) in ${seconds}s: ${result:-no pytest summary, see $log}"
  echo "$line"
  if [ "$status" -ne 0 ]; then
    grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /'
  fi
done
total=$(( $(date +%s) - soak_start ))
echo "soak: $((runs - failed))/$runs runs passed in ${total}s"
[ "$failed" -eq 0 ]
