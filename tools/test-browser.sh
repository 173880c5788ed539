#!/usr/bin/env bash
# The browser test of the HTML report: installs Debian's chromium (and the build dependencies),
# builds lossgap, and runs the ctest label `browser` (tests/browser/html_report.sh). The report,
# its run store and two screenshots are left in build/browser/html_report/.
# Run as root (or with sudo available). Not part of tools/test.sh, which needs no browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
if ! dpkg -s chromium >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLOSSGAP_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)" --target lossgap
ctest --test-dir build --output-on-failure -L browser
