#!/usr/bin/env bash
# End to end: `lossgap score` + `export` on every fixture model (tests/fixtures/models/*) must
# give transformers' token ids and log-probs (expected.json, made by tools/make_model_fixtures.py)
# within 1e-4 (BOS as transformers added it: --bos always/never); windows smaller than the text
# must score every token once and agree with the full-context run on the first window; --bos
# auto must follow the tokenizer (`lossgap tokenize`), never/always drop/add position 0.
# Usage: bash score_parity.sh LOSSGAP_BINARY SOURCE_DIR SHARED_DIR
set -euo pipefail
BIN=$1 SRC=$2
MODELS=$SRC/tests/fixtures/models
if ! ls "$MODELS"/*/expected.json >/dev/null 2>&1; then
  echo "SKIP: no fixture models under $MODELS (tools/make_model_fixtures.py makes them)"
  exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

n_models=0
for dir in "$MODELS"/*/; do
  dir=${dir%/}
  [ -f "$dir/expected.json" ] || continue
  name=$(basename "$dir")
  n_models=$((n_models + 1))
  # The corpus: the fixture's texts, one JSONL document each.
  python3 - "$dir/expected.json" "$TMP/$name.jsonl" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for i, t in enumerate(e["texts"]):
        f.write(json.dumps({"id": f"text{i}", "text": t, "domain": "fixture"}) + "\n")
PY
  # Full context (every text fits in one window), BOS as transformers added it: its numbers.
  hf_bos=$(python3 -c 'import json,sys; print("always" if json.load(open(sys.argv[1]))["bos_added"] else "never")' "$dir/expected.json")
  "$BIN" score "$dir" --input "$TMP/$name.jsonl" --out "$TMP/$name.sqlite" --threads 1 --context 1000 \
    --force-context --bos "$hf_bos" 2>"$TMP/$name.log"
  # --bos auto: whatever the tokenizer's post-processor prepends.
  "$BIN" score "$dir" --input "$TMP/$name.jsonl" --out "$TMP/$name.sqlite" --threads 1 --context 1000 \
    --force-context --name bos_auto 2>>"$TMP/$name.log"
  "$BIN" tokenize "$dir" --text "x" --json > "$TMP/$name.tok.json"
  # Small windows with overlap, and the two BOS overrides, into the same store.
  "$BIN" score "$dir" --input "$TMP/$name.jsonl" --out "$TMP/$name.sqlite" --threads 1 --context 64 \
    --stride 24 --bos "$hf_bos" --name windows 2>>"$TMP/$name.log"
  "$BIN" score "$dir" --input "$TMP/$name.jsonl" --out "$TMP/$name.sqlite" --threads 1 --context 1000 \
    --force-context --bos never --name bos_never 2>>"$TMP/$name.log"
  "$BIN" score "$dir" --input "$TMP/$name.jsonl" --out "$TMP/$name.sqlite" --threads 1 --context 1000 \
    --force-context --bos always --name bos_always 2>>"$TMP/$name.log"
  "$BIN" export "$TMP/$name.sqlite" --format jsonl --out "$TMP/$name.out.jsonl"
  "$BIN" export "$TMP/$name.sqlite" --format csv --model windows > "$TMP/$name.windows.csv"
  python3 - "$dir/expected.json" "$TMP/$name.out.jsonl" "$TMP/$name.windows.csv" "$name" "$TMP/$name.tok.json" <<'PY'
import csv, json, sys
e = json.load(open(sys.argv[1]))
name = sys.argv[4]
tok = json.load(open(sys.argv[5]))
tokenizer_prepends = tok["offsets"][0] == [0, 0]
rows = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    rows.setdefault(r["model"], {}).setdefault(r["doc"], []).append(r)
fail = []
texts = [t.encode("utf-8") for t in e["texts"]]
bos = e["bos_added"]
for i, (ids, lps) in enumerate(zip(e["ids"], e["logprobs"])):
    doc = f"text{i}"
    full = rows[name][doc]
    # HF scores ids[1:]; with a BOS, ids[0] is the BOS and document position p is ids[p + 1].
    doc_ids = ids[1:] if bos else ids
    want_pos = list(range(0, len(doc_ids))) if bos else list(range(1, len(doc_ids)))
    got_pos = [r["pos"] for r in full]
    if got_pos != want_pos:
        fail.append(f"{doc}: positions {got_pos[:5]}... != {want_pos[:5]}...")
        continue
    for r, want_lp in zip(full, lps):
        if r["token_id"] != doc_ids[r["pos"]]:
            fail.append(f"{doc} pos {r['pos']}: token {r['token_id']} != HF {doc_ids[r['pos']]}")
            break
        if abs(r["logprob"] - want_lp) > 1e-4:
            fail.append(f"{doc} pos {r['pos']}: logprob {r['logprob']} vs HF {want_lp}")
            break
        if not (0 <= r["start"] <= r["end"] <= len(texts[i])):
            fail.append(f"{doc} pos {r['pos']}: span {r['start']},{r['end']} outside the text")
            break
        if not (r["rank"] >= 1 and r["top1_logprob"] >= r["logprob"] - 1e-6 and r["entropy"] >= 0):
            fail.append(f"{doc} pos {r['pos']}: inconsistent rank/top1/entropy {r}")
            break
    # Spans are in text order (byte-level pieces of one character may share its span).
    if any(a["start"] < b["start"] or a["end"] < b["end"] for b, a in zip(full, full[1:])):
        fail.append(f"{doc}: spans out of order")
    # Windows of 64 with stride 24: the same targets, each once; the first window agrees with
    # the full-context run; later targets see a shorter prefix than in the full run.
    win = rows["windows"][doc]
    if [r["pos"] for r in win] != got_pos:
        fail.append(f"{doc}: windowed run scored positions {len(win)} != {len(got_pos)}")
    first_window = 63 if bos else 64
    for a, b in zip(win, full):
        if a["pos"] < first_window and abs(a["logprob"] - b["logprob"]) > 1e-4:
            fail.append(f"{doc} pos {a['pos']}: first window {a['logprob']} vs full {b['logprob']}")
            break
    if len(full) > 200 and all(abs(a["logprob"] - b["logprob"]) <= 1e-4 for a, b in zip(win, full)):
        fail.append(f"{doc}: 64-token windows gave exactly the full-context numbers (windows not applied?)")
    # BOS overrides: never drops position 0; always adds it.
    never = [r["pos"] for r in rows["bos_never"][doc]]
    always = [r["pos"] for r in rows["bos_always"][doc]]
    if never[0] != 1 or always[0] != 0 or len(always) != len(never) + 1:
        fail.append(f"{doc}: BOS overrides: never starts at {never[0]}, always at {always[0]}")
    auto = [r["pos"] for r in rows["bos_auto"][doc]]
    if auto != (always if tokenizer_prepends else never):
        fail.append(f"{doc}: --bos auto starts at {auto[0]} but the tokenizer {'prepends' if tokenizer_prepends else 'adds no'} BOS")
csv_rows = list(csv.DictReader(open(sys.argv[3])))
if len(csv_rows) != sum(len(v) for v in rows["windows"].values()) or csv_rows[0]["model"] != "windows":
    fail.append("csv export of --model windows does not match the jsonl rows")
if fail:
    print(f"FAIL {name}:\n  " + "\n  ".join(fail[:10]))
    print("regenerate fixtures: see tests/fixtures/models/MANIFEST.json")
    sys.exit(1)
n = sum(len(v) for v in rows[name].values())
print(f"ok {name}: {n} tokens match transformers within 1e-4; windows and BOS auto/never/always consistent")
PY
done
echo "checked $n_models fixture models"
[ "$n_models" -gt 0 ]
