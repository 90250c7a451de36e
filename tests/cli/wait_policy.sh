#!/usr/bin/env bash
# wait_policy.sh TCONV — unless the user chose a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT),
# `tconv train` spins briefly (GOMP_SPINCOUNT=10000) when its CPUs were idle at start and
# waits passively (OMP_WAIT_POLICY=passive) when they were busy, the other commands but
# bench wait passively: the command sets the variable and executes itself again, so the
# running process's environment shows it (tools/omp_wait.c).
set -euo pipefail
tconv=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

# Starts tconv with the given environment assignments, waits up to 10 s for the variable
# OMP_WAIT_POLICY to appear in its environment (the re-executed image), prints its value
# (or "unset"), and stops it.
policy_of() {
  (exec env "$@" "$tconv" gradcheck --count 1000000 >/dev/null 2>&1) &
  local pid=$! value=unset
  for _ in $(seq 100); do
    value=$(tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | sed -n 's/^OMP_WAIT_POLICY=//p')
    [ -n "$value" ] && break
    value=unset
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$value"
}

[ -r /proc/self/environ ] || fail "no /proc to look at"
got=$(policy_of -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT)
[ "$got" = passive ] || fail "default policy is '$got', want passive"
echo "ok: default OMP_WAIT_POLICY=passive"
got=$(policy_of -u GOMP_SPINCOUNT OMP_WAIT_POLICY=active)
[ "$got" = active ] || fail "the user's OMP_WAIT_POLICY=active became '$got'"
echo "ok: the user's OMP_WAIT_POLICY is kept"
(exec env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=1000 "$tconv" gradcheck --count 1000000 >/dev/null 2>&1) &
pid=$!
sleep 1
got=$(tr '\0' '\n' < "/proc/$pid/environ" | sed -n 's/^OMP_WAIT_POLICY=//p')
kill "$pid"; wait "$pid" 2>/dev/null || true
[ -z "$got" ] || fail "GOMP_SPINCOUNT set, yet OMP_WAIT_POLICY=$got was added"
echo "ok: a user's GOMP_SPINCOUNT leaves the policy alone"
(exec env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$tconv" bench --reps 100000 >/dev/null 2>&1) &
pid=$!
sleep 1
got=$(tr '\0' '\n' < "/proc/$pid/environ" | sed -n 's/^OMP_WAIT_POLICY=//p')
kill "$pid"; wait "$pid" 2>/dev/null || true
[ -z "$got" ] || fail "tconv bench runs with OMP_WAIT_POLICY=$got; it keeps libgomp's default"
echo "ok: tconv bench keeps libgomp's default (it is compared with spinning libraries)"

# train: the environment of the running process holds the choice, and the first line
# names it. Prints "SPINCOUNT POLICY | WHY" of a train run with the given assignments
# and options.
train_env() {
  local assignments=() ; while [ "$1" != -- ]; do assignments+=("$1"); shift; done; shift
  local out; out=$(mktemp -d)
  (exec env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u TCONV_OMP_WAIT "${assignments[@]}" \
     "$tconv" train --synthetic --limit 6400 --epochs 1000 --batch 64 --checkpoint-every 0 \
     --out "$out/run" "$@" >"$out/log" 2>&1) &
  local pid=$! env=""
  for _ in $(seq 300); do # up to 30 s: the first line comes after the data (slow under ASan)
    env=$(tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null || true)
    grep -q '^TCONV_OMP_WAIT=\|^OMP_WAIT_POLICY=active' <<<"$env" && grep -q 'OpenMP wait' "$out/log" && break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$(sed -n 's/^GOMP_SPINCOUNT=//p' <<<"$env")" \
       "$(sed -n 's/^OMP_WAIT_POLICY=//p' <<<"$env")" "|" \
       "$(sed -n 's/.*OpenMP wait: //p' "$out/log" | head -1)"
  rm -rf "$out"
}

got=$(train_env -- --threads 2)
case "$got" in
  "10000  | spin 10000 ("*" CPUs idle at start for 2 threads)") ;;
  " passive | passive ("*" CPUs idle at start for 2 threads)") ;;
  *) fail "train's default is '$got'" ;;
esac
echo "ok: train chose by the load, and says so: $got"

loops=()
for _ in $(seq "$(nproc)"); do timeout 30 bash -c 'while :; do :; done' & loops+=($!); done
sleep 0.5
got=$(train_env -- --threads 2)
kill "${loops[@]}" 2>/dev/null || true
wait "${loops[@]}" 2>/dev/null || true
case "$got" in
  " passive | passive ("*" CPUs idle at start for 2 threads)") ;;
  *) fail "with every CPU busy train chose '$got', want passive" ;;
esac
echo "ok: with every CPU busy train waits passively: $got"

got=$(train_env -- --threads 1)
[ "$got" = " passive | passive" ] || fail "one thread: '$got', want passive without a sample"
echo "ok: with one thread train waits passively without sampling"

got=$(train_env OMP_WAIT_POLICY=active -- --threads 2)
[ "$got" = " active | as set by the environment" ] || fail "the user's policy became '$got'"
echo "ok: train keeps the user's OMP_WAIT_POLICY and says so"
