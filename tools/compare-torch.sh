#!/usr/bin/env bash
# Trains the default autoencoder with tconv and its PyTorch twin
# (tools/reference/autoencoder_torch.py) on the same machine, one after the other, with the
# same architecture, initialization rule, optimizer, batch, epochs and thread count, and
# prints both logs and a summary (test MSE after the last epoch, training images/s).
#   tools/compare-torch.sh [EPOCHS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-5}
threads=${2:-2}
need=()
for p in python3-torch python3-numpy dataset-fashion-mnist; do
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
echo "== tconv train --epochs $epochs --threads $threads"
start=$(date +%s.%N)
build/tconv train --epochs "$epochs" --threads "$threads" --out "$out/tconv" 2> "$out/tconv.log" | tee -a "$out/tconv.log" >/dev/null
tconv_s=$(echo "$(date +%s.%N) - $start" | bc)
grep -E "^epoch [0-9]+: |img/s took" "$out/tconv.log"
echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
start=$(date +%s.%N)
OMP_NUM_THREADS=$threads /usr/bin/python3 tools/reference/autoencoder_torch.py --epochs "$epochs" --threads "$threads" | tee "$out/torch.log"
torch_s=$(echo "$(date +%s.%N) - $start" | bc)
tconv_mse=$(grep -E "^epoch $epochs: test mse" "$out/tconv.log" | sed 's/.*test mse \([0-9.]*\).*/\1/')
torch_mse=$(grep -E "^epoch $epochs:" "$out/torch.log" | sed 's/.*test mse \([0-9.]*\).*/\1/')
tconv_ips=$(grep -o "[0-9]* img/s took" "$out/tconv.log" | awk '{s+=$1; n++} END {printf "%.0f", s/n}')
torch_ips=$(grep -o "[0-9]* img/s$" "$out/torch.log" | awk '{s+=$1; n++} END {printf "%.0f", s/n}')
echo "== summary after $epochs epochs, $threads threads"
printf "%-8s test MSE %-10s train img/s %-7s wall %.0f s\n" tconv "$tconv_mse" "$tconv_ips" "$tconv_s"
printf "%-8s test MSE %-10s train img/s %-7s wall %.0f s\n" pytorch "$torch_mse" "$torch_ips" "$torch_s"
echo "mse ratio tconv/pytorch: $(echo "scale=3; $tconv_mse / $torch_mse" | bc), speed ratio: $(echo "scale=2; $tconv_ips / $torch_ips" | bc)"
rm -rf "$out"
