#!/usr/bin/env bash
# Crash safety: `lossgap score` killed with SIGKILL mid-run keeps every committed batch, and
# `--resume` finishes the run so that its export equals a clean run's byte for byte; Ctrl-C
# (SIGINT) stops with exit 130 keeping every complete document, and resumes likewise. Also:
# resuming with another policy is refused, and scoring a name twice without --resume is refused.
# Usage: bash resume_kill.sh LOSSGAP_BINARY SOURCE_DIR SHARED_DIR
set -euo pipefail
BIN=$1 SRC=$2
MODEL=$SRC/tests/fixtures/models/llama_gqa_llama3
if [ ! -f "$MODEL/config.json" ]; then
  echo "SKIP: fixture model $MODEL is absent (tools/make_model_fixtures.py makes it)"
  exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# 400 documents cut from the fixture's texts (different lengths, so windows vary).
python3 - "$MODEL/expected.json" "$TMP/corpus.jsonl" <<'PY'
import json, sys
texts = json.load(open(sys.argv[1]))["texts"]
with open(sys.argv[2], "w") as f:
    for i in range(400):
        t = texts[i % len(texts)]
        a = (i * 37) % (len(t) // 2)
        f.write(json.dumps({"id": i, "text": t[a:a + 200 + (i * 53) % 600]}) + "\n")
PY
count_done() {
  python3 -c 'import sqlite3,sys
try:
    print(sqlite3.connect(sys.argv[1]).execute("select count(*) from scored_documents").fetchone()[0])
except Exception:
    print(0)' "$1"
}

# Clean run.
"$BIN" score "$MODEL" --input "$TMP/corpus.jsonl" --out "$TMP/clean.sqlite" --threads 1 --context 96 --stride 32 \
  --name m 2>/dev/null
"$BIN" export "$TMP/clean.sqlite" --format jsonl --out "$TMP/clean.jsonl"

# Interrupted run: one document per transaction, killed once a few are stored.
"$BIN" score "$MODEL" --input "$TMP/corpus.jsonl" --out "$TMP/run.sqlite" --threads 1 --context 96 --stride 32 \
  --name m --batch 1 2>/dev/null &
pid=$!
for _ in $(seq 1 600); do
  [ "$(count_done "$TMP/run.sqlite")" -ge 5 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.02
done
kill -KILL $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
done_after_kill=$(count_done "$TMP/run.sqlite")
echo "documents stored when killed: $done_after_kill of 400"
if [ "$done_after_kill" -lt 5 ] || [ "$done_after_kill" -ge 400 ]; then
  echo "FAIL: the kill did not land mid-run ($done_after_kill documents stored)"
  exit 1
fi

# Refusals: same name without --resume; --resume with another policy. Exit 1, one line.
set +e
"$BIN" score "$MODEL" --input "$TMP/corpus.jsonl" --out "$TMP/run.sqlite" --threads 1 --context 96 --stride 32 \
  --name m 2>"$TMP/err1"
rc1=$?
"$BIN" score "$MODEL" --input "$TMP/corpus.jsonl" --out "$TMP/run.sqlite" --threads 1 --context 80 --stride 32 \
  --name m --resume 2>"$TMP/err2"
rc2=$?
set -e
if [ $rc1 -ne 1 ] || ! grep -q 'already holds a run of model "m"' "$TMP/err1"; then
  echo "FAIL: rescoring without --resume: rc $rc1: $(cat "$TMP/err1")"; exit 1
fi
if [ $rc2 -ne 1 ] || [ "$(wc -l < "$TMP/err2")" -ne 1 ] || ! grep -q 'context is "96" in the store but "80" now' "$TMP/err2"; then
  echo "FAIL: resuming with another context: rc $rc2: $(cat "$TMP/err2")"; exit 1
fi
[ "$(count_done "$TMP/run.sqlite")" -eq "$done_after_kill" ] || { echo "FAIL: a refused command changed the store"; exit 1; }

# Resume, then the export must equal the clean run's.
"$BIN" score "$MODEL" --input "$TMP/corpus.jsonl" --out "$TMP/run.sqlite" --threads 1 --context 96 --stride 32 \
  --name m --resume 2>"$TMP/resume.log"
grep -q "resuming, $done_after_kill documents done" "$TMP/resume.log" || { echo "FAIL: resume log: $(cat "$TMP/resume.log")"; exit 1; }
"$BIN" export "$TMP/run.sqlite" --format jsonl --out "$TMP/resumed.jsonl"
rows=$(wc -l < "$TMP/clean.jsonl")
if ! cmp -s "$TMP/clean.jsonl" "$TMP/resumed.jsonl"; then
  echo "FAIL: export after kill + resume differs from the clean run"
  diff "$TMP/clean.jsonl" "$TMP/resumed.jsonl" | head -5
  exit 1
fi
[ "$rows" -gt 10000 ] || { echo "FAIL: only $rows rows exported"; exit 1; }
python3 -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
r = c.execute("select sessions, finished is not null, context, stride from runs").fetchone()
assert r == (2, 1, 96, 32), r
print("run header: sessions %d, finished, context %d, stride %d" % (r[0], r[2], r[3]))' "$TMP/run.sqlite"
# Ctrl-C: exit 130, complete documents kept (batches of 1000: nothing was committed before).
"$BIN" score "$MODEL" --input "$TMP/corpus.jsonl" --out "$TMP/int.sqlite" --threads 1 --context 96 --stride 32 \
  --name m --batch 1000 2>"$TMP/int.log" &
pid=$!
for _ in $(seq 1 600); do
  grep -q "lossgap score: model" "$TMP/int.log" && break
  sleep 0.02
done
sleep 0.3
kill -INT $pid
set +e
wait $pid
rc=$?
set -e
int_done=$(count_done "$TMP/int.sqlite")
if [ $rc -ne 130 ] || ! grep -q "interrupted; every complete document is saved" "$TMP/int.log" || [ "$int_done" -lt 1 ]; then
  echo "FAIL: SIGINT: rc $rc, $int_done documents stored: $(cat "$TMP/int.log")"; exit 1
fi
"$BIN" score "$MODEL" --input "$TMP/corpus.jsonl" --out "$TMP/int.sqlite" --threads 1 --context 96 --stride 32 \
  --name m --resume 2>/dev/null
"$BIN" export "$TMP/int.sqlite" --format jsonl --out "$TMP/int.jsonl"
cmp -s "$TMP/clean.jsonl" "$TMP/int.jsonl" || { echo "FAIL: export after Ctrl-C + resume differs"; exit 1; }
echo "ok: Ctrl-C after $int_done documents: exit 130, resumed to the clean run's rows"
echo "ok: killed at $done_after_kill/400 documents, resumed; $rows rows equal to the clean run"
