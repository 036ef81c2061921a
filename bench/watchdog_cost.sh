#!/usr/bin/env bash
# What the watchdog costs: runs vigil-bench on vigil's runtimes with the
# watchdog on and off (VIGIL_BENCH_WATCHDOG=off), alternating, N times each,
# and prints for every (suite, case, runtime) the median of the per-invocation
# medians with the watchdog on and off, and their ratio (on / off; for time,
# above 1 means the watchdog costs that much, for throughput below 1 does).
#
#   bash bench/watchdog_cost.sh [N] [vigil-bench arguments...]
#   bash bench/watchdog_cost.sh 3 spawn_many yield_many --runs 7
#
# Raw RESULT lines are kept in target/watchdog-cost/.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-3}
shift || true
out=target/watchdog-cost
mkdir -p "$out"
rm -f "$out"/*.txt
cargo build --release -p vigil-bench >/dev/null

bin=${CARGO_TARGET_DIR:-target}/release/vigil-bench
for i in $(seq 1 "$n"); do
    for mode in on off; do
        echo "== invocation $i, watchdog $mode" >&2
        VIGIL_BENCH_WATCHDOG=$mode "$bin" --runtimes vigil-mt,vigil-ct "$@" \
            | grep '^RESULT' >"$out/$mode.$i.txt"
    done
done

echo "nproc=$(nproc) invocations=$n args: $*"
printf '%-14s %-18s %-9s %14s %14s %8s\n' suite case runtime on off on/off
cat "$out"/*.txt | awk '{print $2, $3, $4}' | sort -u | while read -r suite case rt; do
    med() {
        grep -h "^RESULT $suite $case $rt " "$out"/"$1".*.txt | awk '{print $5}' | sort -g \
            | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
    }
    on=$(med on)
    off=$(med off)
    unit=$(grep -h "^RESULT $suite $case $rt " "$out"/on.*.txt | awk '{print $6; exit}')
    ratio=$(awk -v a="$on" -v b="$off" 'BEGIN {if (b+0 == 0) print "-"; else printf "%.3f", a/b}')
    printf '%-14s %-18s %-9s %14s %14s %8s  %s\n' "$suite" "$case" "$rt" "$on" "$off" "$ratio" "$unit"
done
