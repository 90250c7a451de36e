#!/usr/bin/env bash
# bench-dist.sh TCONV [REPEATS] — training throughput of 1 rank x 1 thread, 2 ranks x 1
# thread (mpirun on this machine) and 1 rank x 2 threads, the autoencoder on the synthetic
# set, batch 64 (4 shards). Each configuration runs --max-steps A and B (B < 187, before
# the first epoch's end and its evaluation); images/s is (B - A) * 64 / (T_B - T_A), so
# start-up and the untrained evaluation cancel out, and the same difference of CPU seconds
# (user + system, all ranks, spinning waits included) gives images per CPU-second. The
# configurations alternate within each repeat; docs/distributed.md quotes the medians.
# On a machine shared with other sessions, Linux's autogroup scheduler gives each session
# an equal share of the cores, whatever its number of processes: run the script in a
# session of its own with a high autogroup priority (root) to measure parallel speed-ups,
#   setsid bash -c 'echo -20 > /proc/self/autogroup; tools/bench-dist.sh build/tconv 5'
# (NICE=N also runs each configuration under nice -n N, which only orders this session's
# own processes).
set -euo pipefail
tconv=$1
repeats=${2:-5}
a=20 b=180
common=(--synthetic --batch 64 --epochs 1 --checkpoint-every 0 --seed 3)
work=$(mktemp -d /tmp/tconv_bench_dist_XXXXXX)
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none)

run() { # run CONFIG STEPS -> "wall_seconds cpu_seconds"
  local cmd
  case $1 in
    1x1) cmd=("$tconv" train "${common[@]}" --threads 1) ;;
    2x1) cmd=("${mpi[@]}" -np 2 "$tconv" train "${common[@]}" --threads 1) ;;
    1x2) cmd=("$tconv" train "${common[@]}" --threads 2) ;;
  esac
  /usr/bin/time -f "%e %U %S" -o "$work/time" nice -n "${NICE:-0}" "${cmd[@]}" \
    --max-steps "$2" --out "$work/o" \
    >"$work/log" 2>&1
  awk '{print $1, $2 + $3}' "$work/time"
}

for r in $(seq 1 "$repeats"); do
  for c in 1x1 2x1 1x2; do
    read -r wa ca <<<"$(run "$c" "$a")"
    read -r wb cb <<<"$(run "$c" "$b")"
    n=$(((b - a) * 64))
    printf '%s repeat %d: %.1f img/s %.1f img/cpu-s\n' "$c" "$r" \
      "$(echo "$n / ($wb - $wa)" | bc -l)" "$(echo "$n / ($cb - $ca)" | bc -l)"
  done
done | tee "$work/all"
echo "medians (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
for c in 1x1 2x1 1x2; do
  for f in 4 6; do
    grep "^$c " "$work/all" | awk -v f=$f '{print $f}' | sort -n | awk -v c="$c" -v f=$f \
      '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2;
        printf "%s %.1f %s\n", c, m, f == 4 ? "img/s" : "img/cpu-s"}'
  done
done
