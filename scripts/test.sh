#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through
# ctest: first the release build, then (unless LECTERN_QUICK=1) a clang
# build with AddressSanitizer + UndefinedBehaviorSanitizer that also runs
# the libFuzzer targets for a bounded smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

echo "== build (release, gcc)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
echo "== tests (release)"
(cd build && ctest --output-on-failure --no-tests=error -j"$jobs")

if [ "${LECTERN_QUICK:-0}" != 1 ]; then
  echo "== build (ASan+UBSan and fuzz targets, clang)"
  cmake -S . -B build-san -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DLECTERN_SANITIZE=ON -DLECTERN_FUZZ=ON >/dev/null
  cmake --build build-san -j"$jobs" >/dev/null
  echo "== tests (ASan+UBSan, fuzz smoke)"
  (cd build-san && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure --no-tests=error -j"$jobs")
fi
