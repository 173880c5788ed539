#!/usr/bin/env bash
# Packs large shipped model files as FILE.tar.xz beside them, byte for byte reproducibly (sorted,
# fixed mtime and owner, single-threaded xz -9e), so the repository carries a third to a quarter
# of their size. The CMake configure step unpacks every models/**/*.tar.xz next to itself
# (CMakeLists.txt); the unpacked files are git-ignored.
# Usage: tools/pack_model_file.sh FILE [FILE ...]
set -euo pipefail
for f in "$@"; do
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$(dirname "$f")" -cf - "$(basename "$f")" \
    | xz -9e -T1 > "$f.tar.xz"
  echo "$f.tar.xz: $(stat -c %s "$f") -> $(stat -c %s "$f.tar.xz") bytes"
done
