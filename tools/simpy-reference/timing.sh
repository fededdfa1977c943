#!/usr/bin/env bash
# Wall time per replication of the baseline, SimPy reference vs Rust, one core
# each. The machine may be shared: before every measurement wait until the
# machine's CPU time has been less than IDLE_MAX percent busy for a second
# (default 10: all cores idle; on a 2-core machine whose other core is taken by
# someone else's job, IDLE_MAX=60 waits for one whole free core). SimPy and
# Rust measurements alternate, so both see the same conditions. Prints one line
# per measurement; the README reports min and median.
#
# Usage (from the repository root, after `cargo build --release`):
#   [IDLE_MAX=10] tools/simpy-reference/timing.sh [SIMPY_RUNS=5] [RUST_RUNS=5] [RUST_REPS=100]
set -euo pipefail
SIMPY_RUNS=${1:-5}
RUST_RUNS=${2:-5}
RUST_REPS=${3:-100}
SCENARIO=scenarios/tower-hamlets-baseline.toml
TMP=$(mktemp -d)

busy_share() {  # share of CPU time not idle over one second, all cores
  read -r _ a b c d e f g h _ < /proc/stat
  sleep 1
  read -r _ A B C D E F G H _ < /proc/stat
  local busy=$(( (A-a)+(B-b)+(C-c)+(F-f)+(G-g)+(H-h) ))
  local idle=$(( (D-d)+(E-e) ))
  echo $(( 100 * busy / (busy + idle + 1) ))
}

wait_idle() {
  local tries=0
  while [ "$(busy_share)" -ge "${IDLE_MAX:-10}" ]; do
    tries=$((tries + 1))
    [ $tries -ge 600 ] && { echo "machine never idle; measuring anyway" >&2; return; }
  done
}

RUNS=$(( SIMPY_RUNS > RUST_RUNS ? SIMPY_RUNS : RUST_RUNS ))
for i in $(seq 1 "$RUNS"); do
  if [ "$i" -le "$SIMPY_RUNS" ]; then
    wait_idle
    /usr/bin/time -v python3 tools/simpy-reference/patientflow_simpy.py "$SCENARIO" \
      --replications 1 --first-replication "$((i - 1))" --out "$TMP/simpy.csv" 2> "$TMP/simpy.err"
    secs=$(sed -n 's/^replication .*: \([0-9.]*\) s wall$/\1/p' "$TMP/simpy.err")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TMP/simpy.err")
    echo "simpy replication $((i - 1)): ${secs} s, peak RSS ${rss} kB"
  fi
  if [ "$i" -le "$RUST_RUNS" ]; then
    wait_idle
    /usr/bin/time -v target/release/patientflow run "$SCENARIO" --replications "$RUST_REPS" \
      --threads 1 --quiet --force --out "$TMP/rust" > /dev/null 2> "$TMP/rust.err"
    wall=$(python3 -c "import json; print(json.load(open('$TMP/rust/run.json'))['wall_time_seconds'])")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TMP/rust.err")
    per=$(python3 -c "print(f'{$wall / $RUST_REPS:.5f}')")
    echo "rust run $i: $RUST_REPS replications in ${wall} s = ${per} s per replication, peak RSS ${rss} kB"
  fi
done
rm -rf "$TMP"
