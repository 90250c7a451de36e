#!/usr/bin/env bash
# bench-records.sh [TCONV] — one command for the benchmark records of docs/benchmarks.md:
# on this machine, `tconv bench` beside the anchors (oneDNN in its three layouts, PyTorch
# NCHW and channels_last) for {2 threads, 1 thread} x {full ISA, AVX2-capped}, and tconv
# NCHW where `tconv bench --format nchw` exists. In each configuration tconv runs before
# the oneDNN run, between it and the PyTorch run, and after the PyTorch run (a shared
# machine drifts within minutes: each anchor has a tconv run right before and after it);
# each tconv cell is the median of those three runs. Prints markdown: the machine (lscpu
# model, family, ISA flags), date, load, then per configuration the per-shape GFLOP/s and
# ratios to oneDNN's best layout for each shape and to PyTorch's best format, geomeans
# and the lowest cell, and a summary table. Not yet timed on a quiet
# machine: one QUICK=1 run took 47 min for three configurations at load 10-15 on the
# 2-vCPU EPYC (tconv NCHW at 1 thread alone took over 3 minutes; now only NCHW_CONFIGS).
#
#   TCONV        the tconv binary (default: build/tconv of this checkout)
#   BENCH_DIR    the anchors (onednn_deconv.c, torch_deconv.py, fma_probe.c; default
#                /work/shared/bench); copied to a temporary directory and built there
#   SHAPES       shapes file (default: tools/shapes.txt)
#   THREADS      thread counts (default "2 1"), ISAS (default "full avx2")
#   QUICK=1      shorter budgets (noisier); REPS tconv's timed calls (default 7, QUICK 4)
#   NCHW_CONFIGS configurations that also time tconv NCHW (default "t2-full"; the direct
#                NCHW kernels take minutes per configuration at 1 thread)
#   KEEP=DIR     keep the raw logs there (default: a temporary directory, removed)
#   PIN_CPU      the CPU that every 1-thread run (tconv and the anchors) is pinned to
#                (default: the first CPU this script may run on; "none": no pinning).
#                On the 2-vCPU Zen 5 VM one process alone ran tconv's few-filter kernels
#                1.2-1.8x faster on CPU 0 than on CPU 1 (taskset, alternating runs), so
#                unpinned 1-thread ratios compared runs on different CPUs.
# AVX2-capped: TCONV_ISA=avx2, ONEDNN_MAX_CPU_ISA=AVX2, and for PyTorch also
# ATEN_CPU_CAPABILITY=avx2 and OPENBLAS_CORETYPE=Haswell.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
TCONV=${1:-${TCONV:-$ROOT/build/tconv}}
BENCH_DIR=${BENCH_DIR:-/work/shared/bench}
SHAPES=$(readlink -f "${SHAPES:-$ROOT/tools/shapes.txt}")
THREADS=${THREADS:-"2 1"}
ISAS=${ISAS:-"full avx2"}
NCHW_CONFIGS=${NCHW_CONFIGS:-t2-full}
PY=/usr/bin/python3 # Debian's python with python3-torch (a pyenv python3 may lack it)
if [[ -n "${QUICK:-}" ]]; then
  REPS=${REPS:-4}; ANCHOR_ARGS="--budget 0.15 --maxreps 10 --minreps 2"
else
  REPS=${REPS:-7}; ANCHOR_ARGS="--budget 0.3 --maxreps 20 --minreps 3"
fi
T0=$(date +%s)
step() { echo "== [$(($(date +%s) - T0))s] $*" >&2; }
die() { echo "bench-records.sh: $*" >&2; exit 2; }

[[ -x $TCONV ]] || die "no tconv binary at '$TCONV' (build first, or pass its path)"
[[ -f $SHAPES ]] || die "no shapes file '$SHAPES'"
[[ -f $BENCH_DIR/onednn_deconv.c ]] || die "no anchors in BENCH_DIR='$BENCH_DIR'"
command -v gcc >/dev/null || die "gcc is needed to build the anchors"

WORK=$(mktemp -d /tmp/bench-records.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
OUTDIR=${KEEP:-$WORK/raw}
mkdir -p "$OUTDIR"
cp -r "$BENCH_DIR"/. "$WORK/bench"
rm -rf "$WORK/bench/build"
mkdir -p "$WORK/bench/build"
step "building the anchors (gcc -O3 -march=native -fopenmp)"
HAVE_DNNL=1
gcc -O3 -march=native -fopenmp -w "$WORK/bench/onednn_deconv.c" -o "$WORK/bench/build/onednn_deconv" \
  -ldnnl 2>"$OUTDIR/build.err" || { HAVE_DNNL=0; echo "oneDNN anchor not built (libdnnl-dev?): skipped" >&2; }
gcc -O3 -march=native -fopenmp -w -shared -fPIC "$WORK/bench/fma_probe.c" \
  -o "$WORK/bench/build/libfmaprobe.so" 2>>"$OUTDIR/build.err" || true
OPENBLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-pthread
HAVE_TORCH=1
$PY -c 'import torch' 2>/dev/null || { HAVE_TORCH=0; echo "no torch in $PY: PyTorch skipped" >&2; }
# Without OpenBLAS Debian's torch falls back to the reference BLAS (libblas3): 1.6-5.8
# GFLOP/s on the 2-vCPU Zen 4, 5-46x below its speed with OpenBLAS (docs/benchmarks.md).
# Such an anchor would flatter tconv, so it is skipped.
if [[ $HAVE_TORCH == 1 && ! -d $OPENBLAS_DIR ]]; then
  HAVE_TORCH=0; echo "no OpenBLAS ($OPENBLAS_DIR; apt-get install libopenblas0-pthread): PyTorch skipped" >&2
fi
PIN_CPU=${PIN_CPU:-$(sed -n 's/^Cpus_allowed_list:[[:space:]]*\([0-9]*\).*/\1/p' /proc/self/status)}
if [[ $PIN_CPU != none ]] && ! command -v taskset >/dev/null; then
  echo "no taskset (util-linux): 1-thread runs not pinned" >&2; PIN_CPU=none
fi
HAVE_NCHW=0
"$TCONV" bench --help 2>&1 | grep -q -- '--format' && HAVE_NCHW=1

{
  echo "date $(date -u '+%F %T UTC')"
  echo "load_start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "lscpu_model $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "lscpu_family $(lscpu | sed -n 's/^CPU family: *//p' | head -1)"
  echo "lscpu_cpus $(nproc)"
  echo "lscpu_flags $(lscpu | sed -n 's/^Flags: *//p' | tr ' ' '\n' | grep -E '^(avx|fma|f16c)' | tr '\n' ' ')"
  echo "pin_cpu_1thread $PIN_CPU"
  echo "caches $(getconf -a 2>/dev/null | awk '/^LEVEL[123]_(D)?CACHE_SIZE/ && $2 {printf "%s=%dKiB ", $1, $2 / 1024}')"
} >"$OUTDIR/meta.txt"

tconv_run() { # cfg tag threads fmt (REPS from the environment of the call)
  "${PIN[@]}" env "${ENVS[@]}" "$TCONV" bench --csv --reps "$REPS" --threads "$3" --format "$4" \
    --shapes "$SHAPES" >"$OUTDIR/$1.tconv-$4-$2.csv"
}

for t in $THREADS; do
  for isa in $ISAS; do
    cfg="t$t-$isa"
    ENVS=(OMP_NUM_THREADS="$t")
    PIN=()
    [[ $t == 1 && $PIN_CPU != none ]] && PIN=(taskset -c "$PIN_CPU")
    [[ $isa == avx2 ]] && ENVS+=(TCONV_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
                                 OPENBLAS_CORETYPE=Haswell)
    step "$cfg: tconv (1/3)"
    tconv_run "$cfg" a "$t" nhwc
    if [[ $HAVE_DNNL == 1 ]]; then
      step "$cfg: oneDNN, layouts any, nhwc, plain"
      # shellcheck disable=SC2086
      (cd "$WORK/bench" && "${PIN[@]}" env "${ENVS[@]}" build/onednn_deconv --shapes "$SHAPES" --layout all \
        $ANCHOR_ARGS) | grep -E '^ONEDNN' >"$OUTDIR/$cfg.onednn.log" || true
    fi
    step "$cfg: tconv (2/3)"
    tconv_run "$cfg" b "$t" nhwc
    if [[ $HAVE_TORCH == 1 ]]; then
      step "$cfg: PyTorch + OpenBLAS, nchw and channels_last"
      # passive OpenMP threads: torch's otherwise spin against OpenBLAS' own (run-anchors.sh)
      # shellcheck disable=SC2086
      (cd "$WORK/bench" && "${PIN[@]}" env "${ENVS[@]}" LD_LIBRARY_PATH=$OPENBLAS_DIR OMP_WAIT_POLICY=PASSIVE \
        $PY torch_deconv.py --shapes "$SHAPES" --tag pt-openblas --formats nchw,cl --threads "$t" \
        $ANCHOR_ARGS) | grep -E '^TORCH' >"$OUTDIR/$cfg.torch.log" || true
    fi
    step "$cfg: tconv (3/3)"
    tconv_run "$cfg" c "$t" nhwc
    if [[ $HAVE_NCHW == 1 && " $NCHW_CONFIGS " == *" $cfg "* ]]; then
      step "$cfg: tconv NCHW (--reps 2)"
      REPS=2 tconv_run "$cfg" a "$t" nchw
    fi
  done
done
{
  echo "load_end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "seconds $(($(date +%s) - T0))"
  echo "reps tconv --reps $REPS, anchors $ANCHOR_ARGS"
} >>"$OUTDIR/meta.txt"
step "tables"
$PY "$ROOT/tools/bench-records.py" "$OUTDIR" "$SHAPES" "$THREADS" "$ISAS"
[[ -n "${KEEP:-}" ]] && echo "raw logs: $OUTDIR" >&2
exit 0
