#!/usr/bin/env bash
# Import round trip: score two fixture models, `export` one of them, `import` it back under a
# new name (export format with --tokenizer, and the minimal {doc, start, end, logprob} form),
# and check `report` gives the same numbers for the imported model as for the original; the
# minimal form's missing entropy / rank / top-1 are NULL and "not available" in every output.
# Usage: bash import_roundtrip.sh LOSSGAP_BINARY SOURCE_DIR SHARED_DIR
set -euo pipefail
BIN=$1 SRC=$2
MODELS=$SRC/tests/fixtures/models
A=$MODELS/olmo3_sliding_yarn B=$MODELS/olmo2_gqa
for d in "$A" "$B"; do
  if [ ! -f "$d/expected.json" ]; then echo "SKIP: fixture model $d missing"; exit 0; fi
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 - "$A/expected.json" "$TMP/corpus.jsonl" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for rep in range(2):
        for i, t in enumerate(e["texts"]):
            f.write(json.dumps({"id": f"t{rep}-{i}", "text": t}) + "\n")
PY
POS=(--pos-model "$SRC/models/pos/en_ud.pos" --resamples 100)
"$BIN" compare --model "$A" --model "$B" --name A --name B --input "$TMP/corpus.jsonl" --out "$TMP/run.sqlite" \
  --threads 1 --context 64 --stride 32 "${POS[@]}" --json "$TMP/orig.json" > /dev/null 2>&1
"$BIN" export "$TMP/run.sqlite" --format jsonl --model B --out "$TMP/b.jsonl"
# Export format, re-tokenized: same tokens as the store, so the report must be identical.
"$BIN" import "$TMP/b.jsonl" --input "$TMP/corpus.jsonl" --out "$TMP/run.sqlite" --name B2 --tokenizer "$B" \
  --context 64 --stride 32 2> "$TMP/import.log"
"$BIN" report "$TMP/run.sqlite" --model A --model B2 "${POS[@]}" --json "$TMP/imported.json" > /dev/null 2>&1
# Minimal form into a fresh store, A exported in full: token level by identical spans.
"$BIN" export "$TMP/run.sqlite" --format jsonl --model A --out "$TMP/a.jsonl"
python3 - "$TMP/b.jsonl" "$TMP/b_min.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w") as f:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        f.write(json.dumps({"doc": r["doc"], "start": r["start"], "end": r["end"], "logprob": r["logprob"]}) + "\n")
PY
"$BIN" import "$TMP/a.jsonl" --input "$TMP/corpus.jsonl" --out "$TMP/min.sqlite" --name A 2>> "$TMP/import.log"
"$BIN" import "$TMP/b_min.jsonl" --input "$TMP/corpus.jsonl" --out "$TMP/min.sqlite" --name B 2>> "$TMP/import.log"
"$BIN" report "$TMP/min.sqlite" "${POS[@]}" --json "$TMP/min.json" --csv "$TMP/min_csv" --html "$TMP/min.html" \
  > "$TMP/min_summary.txt" 2>&1
"$BIN" export "$TMP/min.sqlite" --format jsonl --model B --out "$TMP/min_b.jsonl"
"$BIN" export "$TMP/min.sqlite" --format csv --model B --out "$TMP/min_b.csv"
python3 - "$TMP/orig.json" "$TMP/imported.json" "$TMP/min.json" "$TMP" <<'PY'
import csv, json, sys
o, i, m = (json.load(open(p)) for p in sys.argv[1:4])
tmp = sys.argv[4]
fail = []
# The minimal form has no entropy, rank or top-1: stored as NULL, and every output says so.
if m["models"][1]["score_fields"] != {"entropy": False, "rank": False, "top1": False}:
    fail.append("minimal import's score_fields: %s" % m["models"][1]["score_fields"])
if m["models"][0]["score_fields"] != {"entropy": True, "rank": True, "top1": True}:
    fail.append("full import's score_fields: %s" % m["models"][0]["score_fields"])
if "scores: log-prob; not available: entropy, rank, top-1" not in open(tmp + "/min_summary.txt").read():
    fail.append("summary does not say entropy/rank/top-1 are not available")
if "not available" not in [r["scores"] for r in csv.DictReader(open(tmp + "/min_csv/models.csv"))][1]:
    fail.append("models.csv does not say entropy/rank/top-1 are not available")
html = open(tmp + "/min.html").read()
if '"top1_available":[true,false]' not in html or "log-prob; not available: entropy, rank, top-1" not in html:
    fail.append("HTML report does not mark B's top-1 as not available")
for r in map(json.loads, open(tmp + "/min_b.jsonl")):
    if any(r[k] is not None for k in ("entropy", "rank", "top1_id", "top1_logprob")):
        fail.append("export of the minimal import has a value for a missing field: %s" % r); break
for r in csv.DictReader(open(tmp + "/min_b.csv")):
    if any(r[k] != "" for k in ("entropy", "rank", "top1_id", "top1_logprob")):
        fail.append("CSV export of the minimal import has a value for a missing field: %s" % r); break
po, pi = o["pairs"][0], i["pairs"][0]
for key in ["categories", "by_copy_distance", "by_position"]:
    if po[key] != pi[key]:
        for x, y in zip(po[key], pi[key]):
            if x != y: fail.append(f"{key} {x['name']}: {x} != {y}"); break
if po["regression"]["terms"] != pi["regression"]["terms"]: fail.append("regression differs")
if i["level"] != "token": fail.append("imported run not paired by token")
# Minimal form: the same targets, so the same ALL Δ (categories differ: the unscored first
# tokens are not in an import without --tokenizer).
ao = next(c for c in po["categories"] if c["name"] == "ALL")
am = next(c for c in m["pairs"][0]["categories"] if c["name"] == "ALL")
if m["level"] != "token": fail.append("minimal import not paired by token: " + m["level_note"])
if ao["tokens"] != am["tokens"] or abs(ao["delta"] - am["delta"]) > 1e-9:
    fail.append(f"minimal ALL {am['tokens']} {am['delta']} vs {ao['tokens']} {ao['delta']}")
if fail:
    print("FAIL:", *fail, sep="\n  "); sys.exit(1)
print(f"ok: import round trip, ALL delta {ao['delta']:.6f}")
PY
# Refusals: unknown document, malformed record, duplicate name.
echo '{"doc": "nope", "start": 0, "end": 1, "logprob": -1}' > "$TMP/bad1.jsonl"
echo '{"doc": "t0-0", "start": 0, "end": 1, "logprob": 0.5}' > "$TMP/bad2.jsonl"
for f in bad1 bad2; do
  if "$BIN" import "$TMP/$f.jsonl" --input "$TMP/corpus.jsonl" --out "$TMP/bad.sqlite" --name X 2> "$TMP/$f.log"; then
    echo "FAIL: $f accepted"; exit 1
  fi
  grep -q "$f.jsonl:1" "$TMP/$f.log" || { echo "FAIL: $f error does not name the line"; cat "$TMP/$f.log"; exit 1; }
done
if "$BIN" import "$TMP/b.jsonl" --input "$TMP/corpus.jsonl" --out "$TMP/run.sqlite" --name B2 2> /dev/null; then
  echo "FAIL: duplicate name accepted"; exit 1
fi
echo "ok: refusals"
