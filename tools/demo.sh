#!/usr/bin/env bash
# The README's first command: installs the Debian packages (tools/setup.sh), builds lossgap,
# builds the demo corpus from Debian packages the demo models never saw
# (tools/build_demo_corpus.py -> $BUILD_DIR/demo-corpus/), then runs `lossgap demo`: the bundled
# transformer (models/demo/olmo3-small) against its hybrid twin (models/demo/olmo-hybrid-small),
# token by token, with progress bars, the summary in the terminal and the HTML report in
# out/demo/report.html. What it shows: docs/demo.md.
# Environment: BUILD_DIR (default build), JOBS (build jobs, default: all cores), THREADS (scoring
# threads, default 0 = all cores), OUT (default out/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
THREADS=${THREADS:-0}
OUT=${OUT:-out/demo}

bash tools/setup.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" --target lossgap -j"$JOBS"
python3 tools/build_demo_corpus.py --out "$BUILD_DIR/demo-corpus"

echo
start=$(date +%s)
"$BUILD_DIR/lossgap" demo --out "$OUT" --threads "$THREADS"
echo "lossgap demo: $(( $(date +%s) - start )) s"
