#!/usr/bin/env bash
# End to end: `lossgap compare` on two tiny fixture models that share a tokenizer, then
#  - Δ of ALL in the JSON equals the mean per-token difference recomputed from `lossgap export`;
#  - counts add up (copy bins + NO-COPY = ALL; POS content + function + other = ALL; targets);
#  - a second compare reuses the stored scores (no model is scored twice);
#  - `report --baseline` swaps the sign of Δ; `--where` restricts the targets;
#  - CSV tables are written; `export --tags` columns agree with the categories;
#  - a third model makes a second pair;
#  - a model with other tokens (an import of merged token pairs) is paired on words, and says so.
# Usage: bash compare.sh LOSSGAP_BINARY SOURCE_DIR SHARED_DIR
set -euo pipefail
BIN=$1 SRC=$2
MODELS=$SRC/tests/fixtures/models
A=$MODELS/olmo3_sliding_yarn B=$MODELS/olmo2_gqa C=$MODELS/qwen3_gqa_tied W=$MODELS/llama_tied_bias_yarn_bos
for d in "$A" "$B" "$C" "$W"; do
  if [ ! -f "$d/expected.json" ]; then echo "SKIP: fixture model $d missing"; exit 0; fi
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 - "$A/expected.json" "$TMP/corpus.jsonl" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for rep in range(2):  # the texts twice, so there are several documents and repeats
        for i, t in enumerate(e["texts"]):
            f.write(json.dumps({"id": f"t{rep}-{i}", "text": t, "domain": ["prose", "python", "mixed"][i % 3]}) + "\n")
PY
POS=(--pos-model "$SRC/models/pos/en_ud.pos")
"$BIN" compare --model "$A" --model "$B" --input "$TMP/corpus.jsonl" --out "$TMP/run.sqlite" --threads 1 \
  --context 64 --stride 32 --resamples 200 "${POS[@]}" --json "$TMP/ab.json" --csv "$TMP/csv" \
  > "$TMP/summary.txt" 2> "$TMP/log1.txt"
"$BIN" export "$TMP/run.sqlite" --format jsonl --out "$TMP/export.jsonl"
python3 - "$TMP/ab.json" "$TMP/export.jsonl" "$TMP/summary.txt" "$TMP/csv" <<'PY'
import json, sys, os
j = json.load(open(sys.argv[1]))
rows = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    rows.setdefault(r["model"], {})[(r["doc"], r["pos"])] = -r["logprob"]
a, b = j["pairs"][0]["a"], j["pairs"][0]["b"]
keys = sorted(set(rows[a]) & set(rows[b]))
delta = sum(rows[a][k] - rows[b][k] for k in keys) / len(keys)
cats = {c["name"]: c for c in j["pairs"][0]["categories"]}
fail = []
def need(ok, what):
    if not ok: fail.append(what)
need(j["level"] == "token", "level " + j["level"])
need(cats["ALL"]["tokens"] == len(keys) == j["counts"]["targets"], f"ALL tokens {cats['ALL']['tokens']} vs {len(keys)}")
need(abs(cats["ALL"]["delta"] - delta) < 1e-6, f"ALL delta {cats['ALL']['delta']} vs recomputed {delta}")
lo, hi = cats["ALL"]["delta_ci"]["lo"], cats["ALL"]["delta_ci"]["hi"]
need(lo <= cats["ALL"]["delta"] <= hi, "CI does not hold the mean")
copy = cats["NO-COPY"]["tokens"] + sum(cats[k]["tokens"] for k in
       ["COPY-1", "COPY-2-3", "COPY-4-7", "COPY-8-15", "COPY-16-31", "COPY-32+"])
need(copy == cats["ALL"]["tokens"], f"copy bins {copy} != ALL")
pos = cats["CONTENT"]["tokens"] + cats["FUNCTION"]["tokens"] + cats["OTHER"]["tokens"]
need(pos == cats["ALL"]["tokens"], f"content+function+other {pos} != ALL")
need(cats["COPY-5"]["tokens"] > 0, "the repeated documents give COPY-5 tokens")
need(sum(c["tokens"] for c in j["pairs"][0]["by_position"]) == cats["ALL"]["tokens"], "position bins")
losses = {(l["model"], l["filter"]): l for l in j["losses"]}
need(abs(losses[(a, "ALL")]["mean_nll"] - cats["ALL"]["nll_a"]) < 1e-9, "filtered loss ALL == nll_a")
need(j["pairs"][0]["regression"]["error"] is None, "regression fitted")
need(j["models"][0]["policy"]["context"] == 64 and j["models"][0]["policy"]["stride"] == 32, "policy recorded")
s = open(sys.argv[3]).read()
need(all(len(l) <= 100 for l in s.splitlines()), "summary wider than 100 columns")
need("ALL" in s and "CONTENT" in s, "summary rows")
for f in ["models.csv", "losses.csv", "categories.csv", "copy_distance.csv", "position.csv", "regression.csv"]:
    need(os.path.getsize(os.path.join(sys.argv[4], f)) > 0, "csv " + f)
if fail:
    print("FAIL:", *fail, sep="\n  ")
    sys.exit(1)
print(f"ok: ALL delta {delta:.6f} over {len(keys)} tokens")
PY

# export --tags: the tag columns agree with the categories (same tokens and windows).
"$BIN" export "$TMP/run.sqlite" --format jsonl --tags "${POS[@]}" --model "$(basename "$A")" --out "$TMP/tags.jsonl"
python3 - "$TMP/ab.json" "$TMP/tags.jsonl" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
cats = {c["name"]: c["tokens"] for c in j["pairs"][0]["categories"]}
rows = [json.loads(l) for l in open(sys.argv[2])]
got = {"NO-COPY": sum(r["copy_len"] == 0 for r in rows), "COPY-5": sum(r["copy_len"] >= 5 for r in rows),
       "CONTENT": sum(r["pos_class"] == "content" for r in rows),
       "DELIM-OPEN": sum(r["delim"] == "open" for r in rows), "FORM/letters": sum(r["form"] == "letters" for r in rows),
       "DOMAIN/python": sum(r["domain"] == "python" for r in rows)}
bad = [f"{k}: export {v} vs report {cats[k]}" for k, v in got.items() if v != cats[k]]
if bad:
    print("FAIL:", *bad, sep="\n  "); sys.exit(1)
print("ok: export --tags agrees with the categories")
PY

# Resume: compare again with a third model; A and B are not scored again.
"$BIN" compare --model "$A" --model "$B" --model "$C" --input "$TMP/corpus.jsonl" --out "$TMP/run.sqlite" \
  --threads 1 --context 64 --stride 32 --resamples 50 "${POS[@]}" --json "$TMP/abc.json" > /dev/null 2> "$TMP/log2.txt"
grep -q "resuming, 6 documents done" "$TMP/log2.txt" || { echo "FAIL: scores not reused"; cat "$TMP/log2.txt"; exit 1; }
# Same policy needed: another context is refused for the stored models.
if "$BIN" compare --model "$A" --model "$B" --input "$TMP/corpus.jsonl" --out "$TMP/run.sqlite" --threads 1 \
  --context 48 "${POS[@]}" > /dev/null 2> "$TMP/log3.txt"; then
  echo "FAIL: a different policy was accepted"; exit 1
fi
grep -q "context" "$TMP/log3.txt" || { echo "FAIL: refusal does not name the context"; cat "$TMP/log3.txt"; exit 1; }

# report: baseline swap, --where, model selection.
NAME_A=$(basename "$A") NAME_B=$(basename "$B")
"$BIN" report "$TMP/run.sqlite" --model "$NAME_A" --model "$NAME_B" --baseline "$NAME_B" --resamples 50 "${POS[@]}" \
  --json "$TMP/ba.json" > /dev/null 2>&1
"$BIN" report "$TMP/run.sqlite" --model "$NAME_A" --model "$NAME_B" --resamples 50 "${POS[@]}" \
  --where 'domain = python and copy_len = 0' --json "$TMP/where.json" > /dev/null 2>&1
python3 - "$TMP/ab.json" "$TMP/ba.json" "$TMP/where.json" "$TMP/abc.json" <<'PY'
import json, sys
ab, ba, wh, abc = (json.load(open(p)) for p in sys.argv[1:5])
cat = lambda j, n, p=0: next(c for c in j["pairs"][p]["categories"] if c["name"] == n)
fail = []
if abs(cat(ab, "ALL")["delta"] + cat(ba, "ALL")["delta"]) > 1e-9: fail.append("baseline swap does not negate Δ")
if wh["filter"] != "domain = python and copy_len = 0": fail.append("filter not recorded")
py_nc = [c for c in ab["pairs"][0]["categories"] if c["name"] == "DOMAIN/python"][0]
if not (0 < wh["counts"]["targets"] < py_nc["tokens"]): fail.append("filter did not restrict to python NO-COPY")
if cat(wh, "NO-COPY")["tokens"] != wh["counts"]["targets"]: fail.append("filtered tokens are not all NO-COPY")
if len(abc["pairs"]) != 2 or abc["pairs"][1]["b"] != abc["models"][2]["name"]: fail.append("three models: two pairs")
if abs(cat(abc, "ALL")["delta"] - cat(ab, "ALL")["delta"]) > 1e-9: fail.append("first pair changed with a third model")
if fail:
    print("FAIL:", *fail, sep="\n  "); sys.exit(1)
print("ok: baseline swap, filter, three models")
PY

# Another tokenizer: paired on words. The fixture tokenizers all give the same tokens, so the
# other "tokenizer" is B's export with every two consecutive tokens merged (their log-probs
# added), imported in the minimal form.
"$BIN" export "$TMP/run.sqlite" --format jsonl --model "$NAME_B" --out "$TMP/b.jsonl"
python3 - "$TMP/b.jsonl" "$TMP/b_pairs.jsonl" <<'PY'
import json, sys
docs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    docs.setdefault(r["doc"], []).append(r)
with open(sys.argv[2], "w") as f:
    for doc, rows in docs.items():
        for k in range(0, len(rows) - 1, 2):
            a, b = rows[k], rows[k + 1]
            f.write(json.dumps({"doc": doc, "start": a["start"], "end": b["end"],
                                "logprob": a["logprob"] + b["logprob"]}) + "\n")
PY
"$BIN" score "$A" --input "$TMP/corpus.jsonl" --out "$TMP/words.sqlite" --threads 1 --context 64 --stride 32 \
  --name A 2> /dev/null
"$BIN" import "$TMP/b_pairs.jsonl" --input "$TMP/corpus.jsonl" --out "$TMP/words.sqlite" --name B-pairs 2> /dev/null
"$BIN" report "$TMP/words.sqlite" --resamples 50 "${POS[@]}" --json "$TMP/words.json" > "$TMP/words.txt" 2>&1
"$BIN" export "$TMP/words.sqlite" --format jsonl --out "$TMP/words.jsonl"
python3 - "$TMP/words.json" "$TMP/words.txt" "$TMP/words.jsonl" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = open(sys.argv[2]).read()
total = {}
for line in open(sys.argv[3]):
    r = json.loads(line)
    total[r["model"]] = total.get(r["model"], 0.0) - r["logprob"]
fail = []
if j["level"] != "word" or j["unit"] != "nats per word": fail.append("level " + j["level"])
if "level: word" not in s or "nats per word" not in s: fail.append("summary does not say word level")
all_row = j["pairs"][0]["categories"][0]
if not (all_row["name"] == "ALL" and 0 < all_row["tokens"] <= j["counts"]["units"]):
    fail.append("word targets")
# Words only gather tokens: their NLL sums cannot exceed the tokens' (first words, whose first
# token was not scored, are not targets).
for m, key in [("A", "nll_a"), ("B-pairs", "nll_b")]:
    if not (0 < all_row[key] * all_row["tokens"] <= total[m] + 1e-3):
        fail.append(f"{m}: word NLL sum {all_row[key] * all_row['tokens']} vs token sum {total[m]}")
if fail:
    print("FAIL:", *fail, sep="\n  "); sys.exit(1)
print(f"ok: word level, {all_row['tokens']} words")
PY
