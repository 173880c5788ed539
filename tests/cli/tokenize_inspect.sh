#!/usr/bin/env bash
# `lossgap tokenize` gives transformers' ids (expected.json, with its BOS rules) for every
# fixture text, with byte offsets inside the text; `lossgap inspect` reports the fixture's
# parameter count and layer types; --config-only reads the config alone; --version and --help.
# Usage: bash tokenize_inspect.sh LOSSGAP_BINARY SOURCE_DIR SHARED_DIR
set -euo pipefail
BIN=$1 SRC=$2
MODELS=$SRC/tests/fixtures/models

"$BIN" --version | grep -Eq '^lossgap [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-f]+|unknown\)' \
  || { echo "FAIL: --version: $("$BIN" --version)"; exit 1; }
help=$("$BIN" --help)
for c in score export inspect tokenize; do
  grep -q "^  $c " <<<"$help" || { echo "FAIL: --help lacks $c"; exit 1; }
done
"$BIN" score --help | grep -q -- "--stride" || { echo "FAIL: score --help lacks --stride"; exit 1; }
echo "ok --version, --help"

if ! ls "$MODELS"/*/expected.json >/dev/null 2>&1; then
  echo "SKIP: no fixture models under $MODELS (tools/make_model_fixtures.py makes them)"
  exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for dir in "$MODELS"/*/; do
  dir=${dir%/}
  [ -f "$dir/expected.json" ] || continue
  name=$(basename "$dir")
  python3 -c 'import json,sys
e = json.load(open(sys.argv[1]))
for i, t in enumerate(e["texts"]):
    open(f"{sys.argv[2]}.{i}.txt", "w", encoding="utf-8", newline="").write(t)
print(len(e["texts"]))' "$dir/expected.json" "$TMP/$name" >/dev/null
  for f in "$TMP/$name".*.txt; do
    i=${f%.txt}; i=${i##*.}
    "$BIN" tokenize "$dir" --file "$f" --json > "$TMP/$name.$i.json"
  done
  "$BIN" tokenize "$dir" --file "$TMP/$name.0.txt" > "$TMP/$name.table"
  "$BIN" inspect "$dir" > "$TMP/$name.inspect"
  "$BIN" inspect "$dir" --config-only > "$TMP/$name.config"
  python3 - "$dir/expected.json" "$TMP/$name" "$dir" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
base = sys.argv[2]
name = base.rsplit("/", 1)[-1]
fail = []
for i, (text, ids) in enumerate(zip(e["texts"], e["ids"])):
    got = json.load(open(f"{base}.{i}.json"))
    if got["ids"] != ids:
        k = next((j for j, (a, b) in enumerate(zip(got["ids"], ids)) if a != b), min(len(got["ids"]), len(ids)))
        fail.append(f"text {i}: ids differ from transformers at index {k}: {got['ids'][k:k+5]} vs {ids[k:k+5]}")
    n = len(text.encode("utf-8"))
    if len(got["offsets"]) != len(got["ids"]) or any(not (0 <= s <= t <= n) for s, t in got["offsets"]):
        fail.append(f"text {i}: offsets outside the text")
table = open(base + ".table").read().splitlines()
if table[-1] != f"{len(json.load(open(base + '.0.json'))['ids'])} tokens, {len(e['texts'][0].encode('utf-8'))} bytes":
    fail.append(f"table footer: {table[-1]}")
inspect = open(base + ".inspect").read()
params = next(l for l in inspect.splitlines() if l.startswith("parameters")).split()[-1].replace(",", "")
# inspect counts every stored element the model uses; transformers' n_parameters leaves out the
# persistent buffers it stores in the file (Nemotron-H's router e_score_correction_bias).
import glob, struct
def stored_buffer_elements(model_dir):
    n = 0
    for f in glob.glob(model_dir + "/*.safetensors"):
        with open(f, "rb") as fh:
            header = json.loads(fh.read(struct.unpack("<Q", fh.read(8))[0]))
        for key, info in header.items():
            if key.endswith("e_score_correction_bias"):
                size = 1
                for d in info["shape"]:
                    size *= d
                n += size
    return n
hf_params = e["n_parameters"] + stored_buffer_elements(sys.argv[3])
if int(params) != hf_params:
    fail.append(f"inspect parameters {params} != {hf_params} (transformers' parameters + stored buffers)")
# transformers 5.17 calls every recurrent layer "linear_attention" (and Falcon-H1's parallel
# layers "hybrid"); lossgap names the kind by its mixer, so Mamba layers read "mamba".
MAMBA_FAMILIES = {"bamba", "jamba", "mamba", "mamba2", "nemotron_h", "granitemoehybrid"}
def lossgap_kind(hf_kind):
    if e["model_type"] in MAMBA_FAMILIES and hf_kind == "linear_attention":
        return "mamba"
    if e["model_type"] == "falcon_h1" and hf_kind == "hybrid":
        return "parallel_hybrid"
    return hf_kind
kinds = [lossgap_kind(l["layer_type"]) for l in e["layers"]]
runs, i = [], 0
while i < len(kinds):
    j = i
    while j + 1 < len(kinds) and kinds[j + 1] == kinds[i]:
        j += 1
    runs.append(f"{i}-{j} {kinds[i]}" if j > i else f"{i} {kinds[i]}")
    i = j + 1
want_layers = f"layer kinds              {', '.join(runs)}"
if want_layers not in inspect:
    fail.append(f"inspect lacks '{want_layers}'")
if "tensor plan              OK" not in inspect:
    fail.append("inspect: no tensor-plan result")
config = open(base + ".config").read()
if f"model_type               {e['model_type']}" not in config or "not checked (--config-only)" not in config:
    fail.append("inspect --config-only output")
if fail:
    print(f"FAIL {name}:\n  " + "\n  ".join(fail))
    sys.exit(1)
print(f"ok {name}: tokenize ids = transformers on {len(e['texts'])} texts; inspect {params} parameters, {len(kinds)} layers")
PY
done
