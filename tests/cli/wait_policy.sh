#!/usr/bin/env bash
# wait_policy.sh TCONV — the command runs with OMP_WAIT_POLICY=passive unless the user chose
# a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT): it sets the variable and executes itself
# again, so the running process's environment shows it (tools/omp_wait.c).
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
