#!/usr/bin/env bash
# Runs vigil's test binaries under Valgrind Memcheck and fails on any memory
# error or definite leak.
#
# Why: the task system frees each task by hand when its last reference goes
# (raw pointers, a hand-written waker vtable, a sharded owned-task list),
# and the run queues move raw task pointers between threads. A refcount that
# is one too high leaks a task; one too low is a use-after-free. Neither
# shows up as a test failure, so the test suites are run under Memcheck
# (loom covers the interleavings; this covers the real allocator, real
# threads, and the timer driver).
#
# Usage:
#   scripts/valgrind.sh [-- <extra test-binary args, e.g. a test name filter>]
#
# Environment:
#   VIGIL_VALGRIND_TESTS    comma-separated allow-list of test binaries to run:
#                           `lib` for the unit tests, otherwise the name of a
#                           file in vigil/tests/ without `.rs`. Default: all
#                           that exist, minus the skip-list.
#   VIGIL_VALGRIND_SKIP     comma-separated skip-list (default: `macros_ui`,
#                           the trybuild compile-fail tests, which only run
#                           rustc and take ages under Valgrind).
#   VIGIL_VALGRIND_TIMEOUT  per-binary timeout in seconds (default: 1800).
#   VIGIL_VALGRIND_PROFILE  `dev` (default) or `release`.
#   VALGRIND_EXTRA_FLAGS    extra flags for valgrind (e.g. `--track-origins=yes`).
#   CARGO_TARGET_DIR        default: target/valgrind, so this build (with its
#                           own RUSTFLAGS) does not invalidate the normal one.
#
# The tests run with `--test-threads=2` and VIGIL_WORKER_THREADS=2: Valgrind
# serialises all threads onto one core, so more threads only add overhead.
# The build passes `--cfg vigil_valgrind`, so a test that is meaningless under
# Valgrind (tight wall-clock assertions) can `#[cfg_attr(vigil_valgrind, ignore)]`.

set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/valgrind}"
export RUSTFLAGS="${RUSTFLAGS:-} --cfg vigil_valgrind"
export VIGIL_WORKER_THREADS="${VIGIL_WORKER_THREADS:-2}"
# Backtraces from a panicking test are useful; the symbolisation is only paid
# on a panic.
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

allow="${VIGIL_VALGRIND_TESTS:-}"
skip="${VIGIL_VALGRIND_SKIP:-macros_ui}"
timeout_s="${VIGIL_VALGRIND_TIMEOUT:-1800}"
profile="${VIGIL_VALGRIND_PROFILE:-dev}"

extra_args=()
if [[ $# -gt 0 ]]; then
    [[ "$1" == "--" ]] && shift
    extra_args=("$@")
fi

command -v valgrind >/dev/null || {
    echo "valgrind.sh: valgrind is not installed" >&2
    exit 2
}

# Which binaries: `lib` plus every vigil/tests/*.rs that exists right now,
# filtered by the allow- and skip-lists. Only those are built.
in_list() { [[ ",$2," == *",$1,"* ]]; }
selected=()
for name in lib $(find vigil/tests -maxdepth 1 -name '*.rs' -printf '%f\n' 2>/dev/null | sed 's/\.rs$//' | sort); do
    if [[ -n "$allow" ]] && ! in_list "$name" "$allow"; then continue; fi
    if in_list "$name" "$skip"; then continue; fi
    selected+=("$name")
done
if [[ ${#selected[@]} -eq 0 ]]; then
    echo "valgrind.sh: no test binaries selected (allow='$allow', skip='$skip')" >&2
    exit 2
fi

cargo_flags=(-p vigil --no-run --message-format=json-render-diagnostics)
[[ "$profile" == "release" ]] && cargo_flags+=(--release)
for name in "${selected[@]}"; do
    if [[ "$name" == lib ]]; then cargo_flags+=(--lib); else cargo_flags+=(--test "$name"); fi
done

echo "==> building ${selected[*]} (target dir $CARGO_TARGET_DIR, profile $profile)" >&2
build_json="$(mktemp)"
trap 'rm -f "$build_json"' EXIT
cargo test "${cargo_flags[@]}" >"$build_json"

# One "name<TAB>path" line per test executable, from cargo's JSON messages
# (robust against cargo's human output changing): the lib unit tests are
# named `lib`, integration tests by their file name.
mapfile -t binaries < <(
    python3 - "$build_json" <<'PY'
import json, sys

seen = set()
for line in open(sys.argv[1]):
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
        continue
    if not msg.get("profile", {}).get("test"):
        continue
    target = msg["target"]
    name = "lib" if "lib" in target["kind"] else target["name"]
    if name not in seen:
        seen.add(name)
        print(f"{name}\t{msg['executable']}")
PY
)

if [[ ${#binaries[@]} -ne ${#selected[@]} ]]; then
    echo "valgrind.sh: expected ${#selected[@]} test binaries, cargo reported ${#binaries[@]}" >&2
    exit 2
fi

# shellcheck disable=SC2206 # word splitting of the extra flags is intended
# --fair-sched=yes: valgrind runs one thread at a time behind a lock that is
# unfair by default, so a test thread spinning in a `yield_now` loop could
# starve the runtime's workers it waits for (seen with the watchdog's extra
# monitor thread: `task_lifecycle::abort_while_pending` never ended).
# --child-silent-after-fork=yes: a child forked by the `process` tests that
# exits without `exec` inherits a copy of every other thread's allocations,
# which Memcheck then lists as lost; what counts is the parent's accounting.
valgrind_flags=(
    --tool=memcheck
    --fair-sched=yes
    --child-silent-after-fork=yes
    --error-exitcode=1
    --leak-check=full
    --show-leak-kinds=definite
    --errors-for-leak-kinds=definite
    --num-callers=40
    --quiet
    ${VALGRIND_EXTRA_FLAGS:-}
)

failed=()
start_all=$SECONDS
for entry in "${binaries[@]}"; do
    name="${entry%%$'\t'*}"
    exe="${entry#*$'\t'}"
    echo "==> [$name] valgrind $(basename "$exe") --test-threads=2 ${extra_args[*]:-}" >&2
    start=$SECONDS
    status=0
    # Integration tests run from the package directory, as under `cargo test`.
    (cd "$root/vigil" && timeout --kill-after=30 "$timeout_s" \
        valgrind "${valgrind_flags[@]}" "$exe" --test-threads=2 "${extra_args[@]}") || status=$?
    elapsed=$((SECONDS - start))
    if [[ $status -eq 0 ]]; then
        echo "==> [$name] ok (${elapsed}s)" >&2
    else
        if [[ $status -eq 124 || $status -eq 137 ]]; then
            echo "==> [$name] TIMED OUT after ${timeout_s}s" >&2
        else
            echo "==> [$name] FAILED with status $status (${elapsed}s)" >&2
        fi
        failed+=("$name")
    fi
done

echo "==> ${#binaries[@]} binaries in $((SECONDS - start_all))s" >&2
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "valgrind.sh: failed: ${failed[*]}" >&2
    exit 1
fi
echo "valgrind.sh: all clean" >&2
