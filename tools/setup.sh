#!/usr/bin/env bash
# Installs the Debian packages tconv needs (only those missing), then configures and builds.
#   tools/setup.sh [--tests] [BUILD_DIR]
# --tests adds what the test suite needs (Check, clang + libFuzzer, numpy for interchange).
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
if [ "${1:-}" = "--tests" ]; then want_tests=1; shift; fi
build_dir=${1:-build}

packages=(build-essential cmake pkg-config zlib1g-dev libzip-dev libpng-dev libomp-dev
          libopenmpi-dev openmpi-bin
          dataset-fashion-mnist)
if [ "$want_tests" = 1 ]; then
  packages+=(check clang libclang-rt-14-dev python3-numpy)
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
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

tests_flag=OFF
[ "$want_tests" = 1 ] && tests_flag=ON
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTCONV_TESTS="$tests_flag" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
