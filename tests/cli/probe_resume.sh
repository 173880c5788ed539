#!/usr/bin/env bash
# Crash safety of `lossgap probe`: a run killed with SIGKILL keeps every instance it committed, and
# `--resume` finishes it without scoring those again, with the same table, JSON numbers and
# stored scores as a clean run. Resuming with other options, or with nothing to resume, is
# refused with one line naming --resume.
# Usage: bash probe_resume.sh LOSSGAP_BINARY SOURCE_DIR SHARED_DIR
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

common=(probe --model "$A" --model "$B" --n 12 --distances 32,96 --task pronoun,recall,copy --resamples 200 --threads 1)
args=("${common[@]}" --seed 5)
count() {
  python3 -c 'import sqlite3,sys
try:
    print(sqlite3.connect(sys.argv[1]).execute("select count(*) from probe_instances").fetchone()[0])
except Exception:
    print(0)' "$1"
}

"$BIN" "${args[@]}" --out "$TMP/clean.sqlite" --json "$TMP/clean.json" >"$TMP/clean.txt" 2>/dev/null \
  || fail "clean run exited $?"
total=$(count "$TMP/clean.sqlite")

"$BIN" "${args[@]}" --out "$TMP/run.sqlite" --json "$TMP/run.json" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 1500); do
  [ "$(count "$TMP/run.sqlite")" -ge 10 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.02
done
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
stored=$(count "$TMP/run.sqlite")
echo "instances stored when killed: $stored of $total"
if [ "$stored" -lt 10 ] || [ "$stored" -ge "$total" ]; then
  fail "the kill did not land mid-run ($stored of $total instances stored)"
fi

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
# Other options than the interrupted run's: refused, and nothing is written.
expect_error other-seed "--resume" -- "$BIN" "${common[@]}" --seed 6 --resume --out "$TMP/run.sqlite"
[ "$(count "$TMP/run.sqlite")" = "$stored" ] || fail "a refused resume wrote instances"

"$BIN" "${args[@]}" --resume --out "$TMP/run.sqlite" --json "$TMP/run.json" >"$TMP/run.txt" 2>"$TMP/run.err" \
  || { fail "resume exited $?"; cat "$TMP/run.err"; }
# Every instance stored before the kill was taken from the store, none scored again.
reused=$(grep -o '[0-9]* stored before' "$TMP/run.err" | awk '{s += $1} END {print s + 0}')
[ "$reused" = "$stored" ] && echo "ok reused $reused" || fail "resume reused $reused instances, $stored were stored"
[ "$(count "$TMP/run.sqlite")" = "$total" ] || fail "resumed store holds $(count "$TMP/run.sqlite") instances, not $total"

cmp -s "$TMP/clean.txt" "$TMP/run.txt" && echo "ok same table" || { fail "tables differ"; diff "$TMP/clean.txt" "$TMP/run.txt"; }
python3 - "$TMP/clean.json" "$TMP/run.json" <<'EOF' || fail "JSON summaries differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for j in (a, b):
    del j["run"]["store"]
assert a == b
print("ok same json")
EOF
python3 - "$TMP/clean.sqlite" "$TMP/run.sqlite" <<'EOF' || fail "stored scores differ"
import sqlite3, sys
q = """SELECT i.task, i.distance, i.idx, i.text, s.model_index, s.q, s.k, s.logprob, s.n_tokens, s.distance
       FROM probe_scores s JOIN probe_instances i USING (probe_run_id, instance_id)
       ORDER BY i.task, i.distance, i.idx, s.model_index, s.q, s.k"""
a, b = (sqlite3.connect(p).execute(q).fetchall() for p in sys.argv[1:3])
assert len(a) > 0 and a == b, (len(a), len(b))
f = "SELECT COUNT(*) FROM probe_runs WHERE finished IS NOT NULL"
assert [sqlite3.connect(p).execute(f).fetchone()[0] for p in sys.argv[1:3]] == [1, 1]
print("ok same scores,", len(a), "rows")
EOF
expect_error nothing-to-resume "--resume" -- "$BIN" "${args[@]}" --resume --out "$TMP/run.sqlite"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all ok"
