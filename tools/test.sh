#!/usr/bin/env bash
# The whole test suite: set up dependencies, build (warnings as errors), run ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLOSSGAP_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)" --label-exclude "browser|large"
