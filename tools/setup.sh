#!/usr/bin/env bash
# Installs every build and test dependency of lossgap from Debian 12 packages.
# Run as root (or with sudo available). Nothing is downloaded at build or run time.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libpcre2-dev          # tokenizer pre-tokenizer regexes (Unicode properties, lookahead, JIT)
  libutf8proc-dev       # Unicode normalisation (NFC/NFKC/NFD/NFKD) and lowercase for tokenizers
  nlohmann-json3-dev    # config.json, tokenizer.json, safetensors headers, JSONL corpora
  libsqlite3-dev        # the run store
  libopenblas-openmp-dev # sgemm for the CPU backend (OpenMP build: shares threads with our loops)
  libcli11-dev          # command-line parsing
  libssl-dev            # SHA-256 for model and corpus identity hashes
  libgtest-dev libgmock-dev # unit tests
  libbenchmark-dev      # micro-benchmarks in bench/
  python3               # fixture-checking helpers in tests (standard library only)
  # Text for the demo's evaluation corpus (tools/build_demo_corpus.py), none of it in the demo
  # models' training data; the Python standard library's source comes with python3 above.
  jargon-text           # demo corpus, books: the Jargon File 4.4.7 (public domain)
  bible-kjv             # demo corpus, books: the King James Bible (its `bible` program prints bible-kjv-text)
  texlive-latex-base    # demo corpus, latex: LaTeX package and class sources (.sty, .cls, .ltx)
  python3.11-doc        # demo corpus, html: the Python 3.11 HTML documentation
)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s "${packages[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi
