#!/usr/bin/env bash
# Runs issue 13's two image-to-image jobs with tconv and with their PyTorch twins on the same
# machine, one after the other, with the same net file, data, initialization rule,
# optimizer, batch, epochs and thread count, and prints a summary (docs/benchmarks.md,
# "Issue 13 jobs"):
#   sr       tconv train --net examples/nets/fsrcnn.net --pairs sr:2
#            vs tools/reference/fsrcnn_torch.py           (baseline: bicubic x2)
#   denoise  tconv train --net examples/nets/unet.net --pairs noise:0.2
#            vs tools/reference/unet_denoise_torch.py     (baseline: the noisy input)
# For each job: the test PSNR after the last epoch of each, the baseline each computes, the
# PSNR the twin gets from tconv's trained weights (the two networks compute the same
# function if it equals tconv's own), training images/s of each, and the difference.
# The twin trains twice per seed: on its own (PyTorch's initialization, shuffles and noise:
# a statistical comparison), and "paired": from tconv's initial weights (`tconv train
# --max-steps 0`) on tconv's shuffles and noise (--tconv-streams), so that the two runs
# differ only by floating-point rounding.
#   tools/compare-torch-jobs.sh [EPOCHS] [THREADS] [LIMIT] [sr|denoise|both]
# LIMIT: training images (0: all 60000). KEEP=DIR keeps the logs and results.png there.
# SEEDS="1 2 3" trains each side once per seed (default 1) and compares the mean PSNRs:
# at a few epochs, one seed's PSNR moves by about 0.2 dB from another's.
# The twins run with OMP_WAIT_POLICY=passive unless it is set, as `tconv train` runs its own
# OpenMP (docs/training.md): spinning threads on a busy 2-core machine cost torch 8-15x.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-3}
threads=${2:-2}
limit=${3:-0}
which=${4:-both}
seeds=${SEEDS:-1}
case $which in sr|denoise|both) ;; *) echo "compare-torch-jobs.sh: expected sr, denoise or both, got '$which'" >&2; exit 2 ;; esac
need=()
# libopenblas0-pthread: without it Debian's torch runs on the reference BLAS (libblas3),
# 2.5-4x slower in the issue-13 jobs (docs/benchmarks.md), and the images/s would flatter tconv.
for p in python3-torch python3-numpy libopenblas0-pthread dataset-fashion-mnist; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -x build/tconv ] || tools/setup.sh build >/dev/null
if [ -n "${KEEP:-}" ]; then out=$KEEP; mkdir -p "$out"; else out=$(mktemp -d /tmp/tconv_jobs_XXXXXX); fi
limit_args=(); [ "$limit" -gt 0 ] && limit_args=(--limit "$limit")
py=/usr/bin/python3

num() { sed -n "s/$1/\\1/p" "$2" | tail -1; }   # the last capture of a pattern in a log
mean_ips() { grep -o "[0-9]* img/s$2" "$1" | awk '{s+=$1; n++} END {if (n) printf "%.0f", s/n}'; }

run_job() {  # name net pairs twin: tconv and the twin once per seed of $seeds
  local name=$1 net=$2 pairs=$3 twin=$4 seed
  for seed in $seeds; do
    echo "== $name, seed $seed: tconv train --net $net --pairs $pairs --epochs $epochs --threads $threads --seed $seed ${limit_args[*]}"
    build/tconv train --net "$net" --pairs "$pairs" --epochs "$epochs" --threads "$threads" \
      --seed "$seed" "${limit_args[@]}" --out "$out/$name-$seed" --force > "$out/$name-$seed-tconv.log" 2>&1
    grep -E "baseline|noisy input|^epoch [0-9]+: " "$out/$name-$seed-tconv.log"
    build/tconv train --net "$net" --pairs "$pairs" --epochs "$epochs" --threads "$threads" \
      --seed "$seed" "${limit_args[@]}" --out "$out/$name-$seed-init" --max-steps 0 --force \
      >/dev/null 2>"$out/$name-$seed-init.log" || { cat "$out/$name-$seed-init.log" >&2; exit 1; }
    echo "== $name, seed $seed: $twin (PyTorch $($py -c 'import torch; print(torch.__version__)'))"
    OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} $py "$twin" --net "$net" \
      --pairs "$pairs" --threads "$threads" --seed "$seed" "${limit_args[@]}" \
      --weights "$out/$name-$seed/checkpoint.npz" > "$out/$name-$seed-weights.log"
    tail -1 "$out/$name-$seed-weights.log"
    OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} $py "$twin" --net "$net" \
      --pairs "$pairs" --epochs "$epochs" --threads "$threads" --seed "$seed" "${limit_args[@]}" |
      tee "$out/$name-$seed-torch.log"
    echo "== $name, seed $seed: $twin paired (tconv's initial weights, shuffles and noise)"
    OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} $py "$twin" --net "$net" \
      --pairs "$pairs" --epochs "$epochs" --threads "$threads" --seed "$seed" "${limit_args[@]}" \
      --init "$out/$name-$seed-init/checkpoint.npz" --tconv-streams | tee "$out/$name-$seed-paired.log"
  done
}

mean() { awk '{s+=$1; n++} END {if (n) printf "%.2f", s/n}'; }

summary() {  # name baseline-label: per seed, then the means and their difference
  local name=$1 label=$2 seed t p q w tb pb all_t="" all_p="" all_q=""
  for seed in $seeds; do
    local f=$out/$name-$seed
    t=$(num ".*epoch $epochs: test mse [0-9.]*, psnr \\([0-9.]*\\) dB.*" "$f-tconv.log")
    p=$(num "^epoch $epochs: .*psnr \\([0-9.]*\\) dB.*" "$f-torch.log")
    q=$(num "^epoch $epochs: .*psnr \\([0-9.]*\\) dB.*" "$f-paired.log")
    w=$(num ".*: test mse [0-9.]*, psnr \\([0-9.]*\\) dB" "$f-weights.log")
    tb=$(num ".*$label: test PSNR \\([0-9.]*\\) dB.*" "$f-tconv.log")
    pb=$(num ".*$label: test PSNR \\([0-9.]*\\) dB.*" "$f-torch.log")
    printf "%-8s seed %-3s tconv %6s dB  pytorch %6s dB  paired %6s dB  %s: tconv %s / pytorch %s dB  " \
      "$name" "$seed" "$t" "$p" "$q" "$label" "$tb" "$pb"
    printf "twin on tconv's weights %s dB  img/s tconv %s pytorch %s\n" "$w" \
      "$(mean_ips "$f-tconv.log" " took")" "$(mean_ips "$f-torch.log" "")"
    all_t+="$t"$'\n'; all_p+="$p"$'\n'; all_q+="$q"$'\n'
  done
  t=$(printf "%s" "$all_t" | mean); p=$(printf "%s" "$all_p" | mean); q=$(printf "%s" "$all_q" | mean)
  printf "%-8s mean     tconv %6s dB  pytorch %6s dB  difference %+.2f dB  paired %6s dB  difference %+.2f dB\n" \
    "$name" "$t" "$p" "$(echo "$t - $p" | bc -l)" "$q" "$(echo "$t - $q" | bc -l)"
}

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$which" = denoise ] || run_job sr examples/nets/fsrcnn.net sr:2 tools/reference/fsrcnn_torch.py
[ "$which" = sr ] || run_job denoise examples/nets/unet.net noise:0.2 tools/reference/unet_denoise_torch.py
echo "== summary after $epochs epochs, $threads threads, ${limit_args[*]:-all training images}, seeds $seeds"
[ "$which" = denoise ] || summary sr "bicubic x2 baseline"
[ "$which" = sr ] || summary denoise "noisy input"
[ -n "${KEEP:-}" ] || rm -rf "$out"
