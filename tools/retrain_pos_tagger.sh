#!/usr/bin/env bash
# Retrains the shipped part-of-speech model (models/pos/en_ud.pos, shipped packed as
# en_ud.pos.tar.xz) with the default options, packs it again and shows whether it changed.
# Training and packing are deterministic, so on unchanged code and data the diff is empty.
# Usage: tools/retrain_pos_tagger.sh [BUILD_DIR] [UD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
ud="${2:-$root/../shared/data/ud}"
"$build/lossgap" train-tagger --ud "$ud" --out "$root/models/pos/en_ud.pos"
"$root/tools/pack_model_file.sh" "$root/models/pos/en_ud.pos"
git -C "$root" diff --stat -- models/pos/en_ud.pos.tar.xz
