#!/usr/bin/env bash
# What the watchdog costs: runs vigil-bench N times on vigil-mt, vigil-ct and
# their watchdog-off variants (vigil-mt-nowd, vigil-ct-nowd) in the same
# invocations, so on and off rounds interleave, and prints for every (suite,
# case, runtime) the median of the per-invocation medians with the watchdog
# on and off and their ratio (on / off; for time, above 1 means the watchdog
# costs that much, for throughput below 1 does).
#
#   bash bench/watchdog_cost.sh [N] [vigil-bench arguments...]
#   bash bench/watchdog_cost.sh 3 spawn_many yield_many --runs 7
#
# Raw RESULT lines are kept in target/watchdog-cost/; N = 0 only prints the
# summary of the files already there.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-3}
shift || true
out=target/watchdog-cost
mkdir -p "$out"
if [ "$n" -gt 0 ]; then
    rm -f "$out"/*.txt
    cargo build --release -p vigil-bench >/dev/null
fi

bin=${CARGO_TARGET_DIR:-target}/release/vigil-bench
for i in $(seq 1 "$n"); do
    echo "== invocation $i" >&2
    "$bin" --runtimes vigil-mt,vigil-mt-nowd,vigil-ct,vigil-ct-nowd "$@" \
        | grep '^RESULT' >"$out/all.$i.txt"
    # Split into on/off files with the runtime names unified.
    grep -v -- '-nowd ' "$out/all.$i.txt" >"$out/on.$i.txt" || true
    grep -- '-nowd ' "$out/all.$i.txt" | sed 's/-nowd / /' >"$out/off.$i.txt" || true
done

echo "nproc=$(nproc) invocations=$(ls "$out"/all.*.txt | wc -l) args: $*"
printf '%-14s %-18s %-9s %14s %14s %8s\n' suite case runtime on off on/off
cat "$out"/on.*.txt "$out"/off.*.txt | awk '{print $2, $3, $4}' | sort -u | while read -r suite case rt; do
    med() {
        { grep -h "^RESULT $suite $case $rt " "$out"/"$1".*.txt || true; } | awk '{print $5}' | sort -g \
            | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
    }
    on=$(med on)
    off=$(med off)
    unit=$({ grep -h "^RESULT $suite $case $rt " "$out"/on.*.txt || true; } | awk '{print $6; exit}')
    ratio=$(awk -v a="$on" -v b="$off" 'BEGIN {if (b == "nan" || b+0 == 0) print "-"; else printf "%.3f", a/b}')
    printf '%-14s %-18s %-9s %14s %14s %8s  %s\n' "$suite" "$case" "$rt" "$on" "$off" "$ratio" "$unit"
done
