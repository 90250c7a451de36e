#!/usr/bin/env bash
# Installs the Debian packages tconv needs (only those missing), then configures and builds.
#   tools/setup.sh [--tests] [BUILD_DIR]
# --tests adds what the test suite needs (Check, clang + libFuzzer, numpy for interchange,
# `file` for CPack's .deb). It says which packages it installs and shows apt's output; when
# another apt or dpkg holds the lock (unattended-upgrades, a second setup), it waits for it
# (up to 10 minutes) instead of failing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
if [ "${1:-}" = "--tests" ]; then want_tests=1; shift; fi
build_dir=${1:-build}

packages=(build-essential cmake pkg-config zlib1g-dev libzip-dev libpng-dev libomp-dev
          libopenmpi-dev openmpi-bin
          dataset-fashion-mnist)
if [ "$want_tests" = 1 ]; then
  packages+=(check clang libclang-rt-14-dev python3-numpy file)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  apt_get=("${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
  # DPkg::Lock::Timeout covers install's dpkg lock; update's lists lock has no timeout, so
  # retry while another apt holds it (any other failure stops here).
  log=$(mktemp)
  for try in $(seq 60); do
    if "${apt_get[@]}" update -q 2>&1 | tee "$log"; then break; fi
    grep -q "Could not get lock" "$log" && [ "$try" -lt 60 ] || { rm -f "$log"; exit 1; }
    echo "setup: another apt holds the package lists' lock; waiting ($try/60)"
    sleep 10
  done
  rm -f "$log"
  "${apt_get[@]}" install -y -q --no-install-recommends "${missing[@]}"
  echo "setup: installed ${missing[*]}"
else
  echo "setup: all ${#packages[@]} packages already installed"
fi

tests_flag=OFF
[ "$want_tests" = 1 ] && tests_flag=ON
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTCONV_TESTS="$tests_flag" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
