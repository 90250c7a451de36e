#!/usr/bin/env bash
# bench_cli.sh TCONV — `tconv bench --dir` times only the kernels asked for: the others read
# nan in CSV and - in the table; a malformed --dir exits 2 naming it, before any timing.
set -uo pipefail
tconv=$1
work=$(mktemp -d /tmp/tconv_bench_XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
echo "tiny 1 4 4 8 8 3 3 2 2 same" > "$work/shapes.txt"

# cells DIR FORMAT: the forward, backward data and backward weights GFLOP/s columns of CSV
cells() {
  "$tconv" bench --shapes "$work/shapes.txt" --reps 1 --threads 1 --csv --dir "$1" \
    --format "$2" > "$work/out" 2>&1 || fail "--dir $1: $(cat "$work/out")"
  grep '^tiny' "$work/out" | head -1 | cut -d, -f3-5
}
number='[0-9]+\.[0-9]+'
[[ $(cells bd nhwc) =~ ^nan,$number,nan$ ]] || fail "--dir bd: $(cat "$work/out")"
[[ $(cells fwd,bw nchw) =~ ^$number,nan,$number$ ]] || fail "--dir fwd,bw: $(cat "$work/out")"
[[ $(cells all nhwc) =~ ^$number,$number,$number$ ]] || fail "--dir all: $(cat "$work/out")"
echo "ok: --dir times only the kernels asked for (CSV)"

"$tconv" bench --shapes "$work/shapes.txt" --reps 1 --threads 1 --dir bw --format both \
  > "$work/out" 2>&1 || fail "--dir bw table: $(cat "$work/out")"
grep -Eq '^tiny +[0-9.]+ \| +- +- +[0-9.]+ \|' "$work/out" || fail "table row: $(cat "$work/out")"
grep -Eq '^ +\| +- +- +[0-9.]+ \| nchw/nhwc' "$work/out" || fail "ratio row: $(cat "$work/out")"
grep -Eq '^geomean +\| +- +- +[0-9.]+ \|' "$work/out" || fail "geomean: $(cat "$work/out")"
echo "ok: the table shows - for the kernels not timed"

for bad in fwd, xx bd,,bw FWD ""; do
  "$tconv" bench --shapes "$work/shapes.txt" --reps 1 --dir "$bad" > "$work/out" 2>&1
  rc=$?
  [ "$rc" -eq 2 ] || fail "--dir '$bad' exited $rc, not 2"
  grep -qF -- "--dir '$bad': expected all, or fwd, bd, bw joined by commas" "$work/out" ||
    fail "--dir '$bad': $(cat "$work/out")"
  ! grep -q '^tiny' "$work/out" || fail "--dir '$bad' timed a shape"
done
echo "ok: a malformed --dir exits 2, naming it"
