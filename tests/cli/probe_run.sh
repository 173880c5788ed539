#!/usr/bin/env bash
# `lossgap probe` end to end on two tiny fixture models (different architectures, tokenizers, BOS
# policies): the table, the JSON summary and the probe tables agree; the same seed gives the same
# numbers; distances that do not fit are left out with a note (defaults) or refused (asked for);
# --max-distance; bad arguments exit 1 with one line naming the option.
# Usage: bash probe_run.sh LOSSGAP_BINARY SOURCE_DIR SHARED_DIR
set -uo pipefail
BIN=$1 SRC=$2
A=$SRC/tests/fixtures/models/olmo3_linear_layer_types
B=$SRC/tests/fixtures/models/llama_tied_bias_yarn_bos
for m in "$A" "$B"; do
  if [ ! -f "$m/config.json" ]; then
    echo "SKIP: fixture model $m is absent (tools/make_model_fixtures.py makes it)"
    exit 0
  fi
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

run() {  # run OUT_STEM: one small probe run into $TMP/OUT_STEM.{sqlite,json,txt}
  "$BIN" probe --model "$A" --model "$B" --n 6 --distances 32,64 --task pronoun,closure-latex,copy,recall \
    --seed 11 --resamples 200 --threads 2 --out "$TMP/$1.sqlite" --json "$TMP/$1.json" \
    --report "$TMP/$1.html" >"$TMP/$1.txt" 2>"$TMP/$1.err"
}

run first || { fail "probe run exited $?"; cat "$TMP/first.err"; }
# A store holding probe tables of the format before multi-query probes is refused, not mixed.
cp "$TMP/first.sqlite" "$TMP/old.sqlite"
python3 -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("DROP TABLE probe_queries")' "$TMP/old.sqlite"
run second || fail "second probe run exited $?"

# JSON: 4 tasks x 2 distances, 2 models each, the baseline without deltas, n = 6; recall has
# several queries per instance.
python3 - "$TMP/first.json" <<'EOF' || fail "JSON summary"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["format"] == "lossgap-probes" and j["version"] == 2
assert j["left_out"] == []
cells = j["cells"]
assert len(cells) == 8, len(cells)
assert {c["task"] for c in cells} == {"pronoun", "closure-latex", "copy", "recall"}
for c in cells:
    assert c["n"] == 6 and len(c["models"]) == 2
    assert (c["n_queries"] > 1) == (c["task"] == "recall"), c
    assert c["models"][0]["delta_logprob"] is None
    d = c["models"][1]["delta_logprob"]
    a, b = c["models"][0]["logprob"]["value"], c["models"][1]["logprob"]["value"]
    assert abs(d["value"] - (b - a)) < 1e-9, (d, a, b)
    assert d["lo"] <= d["value"] <= d["hi"]
    assert c["models"][0]["mean_distance"] >= c["distance"]
    assert 0 <= c["models"][0]["accuracy"]["value"] <= 1
print("ok json")
EOF

# --report: a self-contained page with each task's curves and a table row per cell and model
# holding the JSON's accuracy and mean log-prob.
python3 - "$TMP/first.json" "$TMP/first.html" <<'EOF' || fail "HTML report"
import json, sys
j = json.load(open(sys.argv[1]))
page = open(sys.argv[2], encoding="utf-8").read()
assert "default-src 'none'" in page and "http://" not in page and "https://" not in page
for c in j["cells"]:
    assert f"{c['task']}: accuracy" in page, c["task"]
    for m in c["models"]:
        acc, lp = m["accuracy"]["value"], m["logprob"]["value"]
        row = (f"<tr><td>{c['task']}</td><td class=\"num\">{c['distance']}</td><td>{m['model']}</td>"
               f"<td class=\"num\">{c['n']}</td>")
        assert row in page, row
        assert f"<td class=\"num\">{acc:.3f} [" in page and f"<td class=\"num\">{lp:.3f} [" in page, (c, m)
print("ok html")
EOF

# `lossgap report` on a store holding only probe results: --report writes the same probe page;
# without it, one line naming --report and exit 1.
if "$BIN" report "$TMP/first.sqlite" --report "$TMP/report.html" 2>"$TMP/report.err"; then
  cmp -s "$TMP/report.html" "$TMP/first.html" && echo "ok report probe page" || fail "report's probe page differs from probe --report's"
else
  fail "report --report on a probe-only store exited $?"; cat "$TMP/report.err"
fi
"$BIN" report "$TMP/first.sqlite" >/dev/null 2>"$TMP/report2.err"
rc=$?
{ [ $rc = 1 ] && grep -q -- "--report" "$TMP/report2.err" && [ "$(wc -l <"$TMP/report2.err")" = 1 ]; } \
  && echo "ok report probe-only refusal" || { fail "report without --report on a probe-only store: rc $rc"; cat "$TMP/report2.err"; }

# The store holds every instance, continuation score and summary row; the summary matches the
# scores (mean target log-prob recomputed in SQL).
if command -v sqlite3 >/dev/null; then
  db=$TMP/first.sqlite
  [ "$(sqlite3 "$db" 'SELECT COUNT(*) FROM probe_instances')" = 48 ] || fail "probe_instances count"
  [ "$(sqlite3 "$db" 'SELECT COUNT(*) FROM probe_summary')" = 16 ] || fail "probe_summary count"
  [ "$(sqlite3 "$db" "SELECT COUNT(DISTINCT q) FROM probe_queries JOIN probe_instances USING (probe_run_id, instance_id)
        WHERE task = 'recall'")" -gt 1 ] || fail "recall has one query per instance"
  bad=$(sqlite3 "$db" "SELECT COUNT(*) FROM probe_summary s WHERE ABS(s.logprob - (SELECT AVG(sc.logprob)
        FROM probe_scores sc JOIN probe_instances i USING (probe_run_id, instance_id)
        WHERE sc.k = 0 AND sc.model_index = s.model_index AND i.task = s.task AND i.distance = s.distance)) > 1e-9")
  [ "$bad" = 0 ] || fail "summary logprob differs from the stored scores in $bad rows"
  echo "ok store"
fi

# Deterministic: the same seed prints the same table.
cmp -s "$TMP/first.txt" "$TMP/second.txt" && echo "ok deterministic" || fail "two runs with one seed differ"

# Default distances that do not fit the context are left out with a note naming each, never
# silently; --max-distance gives the doubling list up to it.
"$BIN" probe --model "$A" --n 1 --task pronoun --context 200 --resamples 10 --threads 2 --out "$TMP/short.sqlite" \
  --json "$TMP/short.json" >/dev/null 2>"$TMP/short.err" || fail "short-context run exited $?"
grep -q "left out: pronoun at distance 256 needs [0-9]* tokens .* context of 200 tokens (--context)" "$TMP/short.err" \
  && echo "ok left-out note" || { fail "no left-out note"; cat "$TMP/short.err"; }
python3 - "$TMP/short.json" <<'EOF' || fail "left_out in JSON"
import json, sys
j = json.load(open(sys.argv[1]))
assert [c["distance"] for c in j["cells"]] == [32, 64, 128], j["cells"]
assert [(l["task"], l["distance"]) for l in j["left_out"]] == [("pronoun", 256), ("pronoun", 512), ("pronoun", 1024)]
assert all(l["tokens_needed"] > 200 and l["context"] == 200 for l in j["left_out"])
print("ok left_out json")
EOF
"$BIN" probe --model "$A" --n 1 --task closure-bracket --max-distance 100 --context 256 --resamples 10 --threads 2 \
  --out "$TMP/max.sqlite" --json "$TMP/max.json" >/dev/null 2>&1 || fail "--max-distance run exited $?"
python3 -c 'import json,sys; d=[c["distance"] for c in json.load(open(sys.argv[1]))["cells"]]; assert d == [32, 64, 100], d' \
  "$TMP/max.json" && echo "ok max-distance" || fail "--max-distance distances"

expect_error() {  # NAME PATTERN -- COMMAND...: exit 1, one line naming PATTERN
  local name=$1 pattern=$2
  shift 3
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  grep -v '^lossgap probe: ' "$TMP/err" > "$TMP/err.lines"
  if [ $rc -eq 1 ] && [ "$(wc -l < "$TMP/err.lines")" -eq 1 ] && grep -qF -- "$pattern" "$TMP/err.lines"; then
    echo "ok $name"
  else
    fail "$name: rc $rc"; cat "$TMP/err"
  fi
}
expect_error unknown-task "--task" -- "$BIN" probe --model "$A" --task brackets --out "$TMP/x.sqlite"
expect_error too-far "--distances" -- "$BIN" probe --model "$A" --distances 2000 --out "$TMP/x.sqlite"
expect_error no-fit "needs" -- "$BIN" probe --model "$A" --task recall --distances 100 --context 128 --out "$TMP/x.sqlite"
expect_error max-distance "--max-distance" -- "$BIN" probe --model "$A" --max-distance 300 --context 256 --out "$TMP/x.sqlite"
expect_error old-store "probe_queries" -- "$BIN" probe --model "$A" --n 1 --out "$TMP/old.sqlite"
expect_error bad-n "--n" -- "$BIN" probe --model "$A" --n 0 --out "$TMP/x.sqlite"
expect_error names "--name" -- "$BIN" probe --model "$A" --model "$B" --name one --out "$TMP/x.sqlite"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all ok"
