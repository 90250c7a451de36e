#!/usr/bin/env bash
# Trains a model with tconv and its PyTorch twin (tools/reference/MODEL_torch.py) on the
# same machine, one after the other, with the same architecture, initialization rule,
# optimizer, batch, epochs and thread count, and prints both logs and a summary (training
# images/s; for the autoencoder the test MSE after the last epoch, for the DCGAN the last
# epoch's mean losses).
#   tools/compare-torch.sh [EPOCHS] [THREADS] [MODEL] [LIMIT]
# MODEL: autoencoder (default) or dcgan; LIMIT: use only the first LIMIT training images
# (default all). The DCGAN's tconv run draws its sample grid only at the end (its twin draws
# none), so both time the training steps.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-5}
threads=${2:-2}
model=${3:-autoencoder}
limit=${4:-0}
case "$model" in
  autoencoder) extra=() ;;
  dcgan) extra=(--sample-every 1000000000) ;;
  *) echo "compare-torch.sh: MODEL is autoencoder or dcgan, got '$model'" >&2; exit 2 ;;
esac
lim=(); [ "$limit" -gt 0 ] && lim=(--limit "$limit")
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
out=$(mktemp -d /tmp/tconv_compare_XXXXXX)
echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== tconv train --model $model --epochs $epochs --threads $threads ${lim[*]} ${extra[*]}"
start=$(date +%s.%N)
build/tconv train --model "$model" --epochs "$epochs" --threads "$threads" "${lim[@]}" "${extra[@]}" \
  --out "$out/tconv" > "$out/tconv.log" 2>&1 # one open file: stdout and stderr never overwrite each other
tconv_s=$(echo "$(date +%s.%N) - $start" | bc)
grep -E "^tconv train: |^epoch [0-9]+: |img/s took" "$out/tconv.log"
echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
start=$(date +%s.%N)
OMP_NUM_THREADS=$threads /usr/bin/python3 "tools/reference/${model}_torch.py" --epochs "$epochs" \
  --threads "$threads" --limit "$limit" | tee "$out/torch.log"
torch_s=$(echo "$(date +%s.%N) - $start" | bc)
# the last epoch's quality: the autoencoder's test MSE; the DCGAN's "d loss X, g loss Y"
if [ "$model" = dcgan ]; then
  pick='s/.*\(d loss [0-9.]*, g loss [0-9.]*\).*/\1/'
else
  pick='s/.*test mse \([0-9.]*\).*/\1/'
fi
tconv_q=$(grep -E "^epoch $epochs: " "$out/tconv.log" | tail -1 | sed "$pick")
torch_q=$(grep -E "^epoch $epochs: " "$out/torch.log" | tail -1 | sed "$pick")
tconv_ips=$(grep -o "[0-9]* img/s took" "$out/tconv.log" | awk '{s+=$1; n++} END {printf "%.0f", s/n}')
torch_ips=$(grep -o "[0-9]* img/s$" "$out/torch.log" | awk '{s+=$1; n++} END {printf "%.0f", s/n}')
echo "== summary: $model after $epochs epochs, $threads threads"
printf "%-8s %-26s train img/s %-7s wall %.0f s\n" tconv "$tconv_q" "$tconv_ips" "$tconv_s"
printf "%-8s %-26s train img/s %-7s wall %.0f s\n" pytorch "$torch_q" "$torch_ips" "$torch_s"
[ "$model" = autoencoder ] && echo "mse ratio tconv/pytorch: $(echo "scale=3; $tconv_q / $torch_q" | bc)"
echo "speed ratio tconv/pytorch: $(echo "scale=2; $tconv_ips / $torch_ips" | bc)"
rm -rf "$out"
