#!/usr/bin/env bash
# The README's first command: installs the Debian packages, builds lossgap, and runs a small
# bundled example end to end — inspect a bundled tiny model, score the bundled texts with it
# (in windows, into a SQLite run store), export the per-token records and print a few.
# The model is a tiny random-weight test checkpoint (tests/fixtures/models/); the trained demo
# pair (models/demo/) replaces it once lossgap runs it. Environment: BUILD_DIR (default build),
# JOBS (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

bash tools/setup.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" --target lossgap -j"$JOBS"
LOSSGAP=$BUILD_DIR/lossgap

MODEL=tests/fixtures/models/llama_gqa_llama3
CORPUS=tools/fixture_texts
OUT=$(mktemp -d)

echo
echo "== lossgap inspect $MODEL"
"$LOSSGAP" inspect "$MODEL"

echo
echo "== lossgap score: every file of $CORPUS is a document; windows of 128 tokens, 64 new per window"
"$LOSSGAP" score "$MODEL" --input "$CORPUS" --out "$OUT/demo.sqlite" --context 128 --stride 64 --threads 1

echo
echo "== lossgap export (CSV), the first rows"
"$LOSSGAP" export "$OUT/demo.sqlite" --format csv --out "$OUT/demo.csv"
head -n 8 "$OUT/demo.csv" | column -s, -t 2>/dev/null || head -n 8 "$OUT/demo.csv"

echo
echo "== mean negative log-likelihood per document (nats/token), from the export"
awk -F, 'NR > 1 { n[$1]++; s[$1] -= $7 } END { for (d in n) printf "%-16s %6d tokens  %.3f nats/token\n", d, n[d], s[d] / n[d] }' \
  "$OUT/demo.csv" | sort

echo
echo "run store: $OUT/demo.sqlite   (schema: docs/store.md; all commands: docs/cli.md)"
