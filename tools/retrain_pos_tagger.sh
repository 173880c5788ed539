#!/usr/bin/env bash
# Retrains the shipped part-of-speech model (models/pos/en_ud.pos) with the default options
# and shows whether it changed. Training is deterministic, so on unchanged code and data the
# diff is empty. Usage: tools/retrain_pos_tagger.sh [BUILD_DIR] [UD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
ud="${2:-$root/../shared/data/ud}"
"$build/lossgap" train-tagger --ud "$ud" --out "$root/models/pos/en_ud.pos"
git -C "$root" diff --stat -- models/pos/en_ud.pos
