#!/usr/bin/env bash
# Bad input: each case must exit 1 with exactly one line "lossgap: error: <file>...: <what>"
# naming the file and the field, and keep what was already written (documents before a bad one
# stay in the store, in full). Usage errors exit 2.
# Usage: bash bad_input.sh LOSSGAP_BINARY SOURCE_DIR SHARED_DIR
set -uo pipefail
BIN=$1 SRC=$2
MODEL=$SRC/tests/fixtures/models/llama_gqa_llama3
if [ ! -f "$MODEL/config.json" ]; then
  echo "SKIP: fixture model $MODEL is absent (tools/make_model_fixtures.py makes it)"
  exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

# expect_error NAME RC PATTERN... -- COMMAND...: the command exits RC, its stderr (progress
# and header lines aside) is one line starting "lossgap: error: " and matching every pattern.
expect_error() {
  local name=$1 want_rc=$2
  shift 2
  local patterns=()
  while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
  shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  grep -v -e '^progress: ' -e '^lossgap score: model' -e '^  policy: ' "$TMP/err" > "$TMP/err.lines"
  local ok=1
  [ $rc -eq "$want_rc" ] || ok=0
  if [ "$want_rc" -eq 1 ]; then
    [ "$(wc -l < "$TMP/err.lines")" -eq 1 ] || ok=0
    grep -q '^lossgap: error: ' "$TMP/err.lines" || ok=0
  fi
  for p in "${patterns[@]}"; do grep -qF -- "$p" "$TMP/err.lines" || ok=0; done
  if [ $ok -eq 1 ]; then
    echo "ok $name: $(head -c 200 "$TMP/err.lines" | head -1)"
  else
    echo "FAIL $name: rc $rc (want $want_rc), stderr:"; sed 's/^/    /' "$TMP/err"
    failures=$((failures + 1))
  fi
}

# scored_docs STORE: the ids of the documents with complete scores.
scored_docs() {
  python3 -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
print(",".join(r[0] for r in c.execute("select d.id from scored_documents s join documents d using(doc_id) order by doc_id")))' "$1"
}
expect_docs() {
  local name=$1 store=$2 want=$3
  local got
  got=$(scored_docs "$store")
  if [ "$got" = "$want" ]; then echo "ok $name: kept documents $got"; else echo "FAIL $name: kept [$got], want [$want]"; failures=$((failures + 1)); fi
}

score() { "$BIN" score "$MODEL" --threads 1 --context 64 "$@"; }

good1='{"id": "a", "text": "The first document is fine."}'
good2='{"id": 2, "text": "So is the second, with a number id.", "domain": "prose"}'

# Invalid UTF-8 on line 3, after two good documents.
{ echo "$good1"; echo "$good2"; printf '{"id": "bad", "text": "caf\xe9 au lait"}\n'; } > "$TMP/utf8.jsonl"
expect_error invalid-utf8 1 "utf8.jsonl:3" 'document "bad"' "invalid UTF-8 at byte" -- \
  score --input "$TMP/utf8.jsonl" --out "$TMP/utf8.sqlite"
expect_docs invalid-utf8-kept "$TMP/utf8.sqlite" "a,2"
"$BIN" export "$TMP/utf8.sqlite" --format csv > "$TMP/utf8.csv" && [ "$(wc -l < "$TMP/utf8.csv")" -gt 10 ] \
  && echo "ok invalid-utf8-export: $(wc -l < "$TMP/utf8.csv") rows" || { echo "FAIL invalid-utf8-export"; failures=$((failures + 1)); }

# An empty document on line 2.
{ echo "$good1"; echo '{"id": "empty", "text": ""}'; echo "$good2"; } > "$TMP/empty.jsonl"
expect_error empty-document 1 "empty.jsonl:2" 'document "empty"' 'field "text" is empty' -- \
  score --input "$TMP/empty.jsonl" --out "$TMP/empty.sqlite"
expect_docs empty-document-kept "$TMP/empty.sqlite" "a"

# A line that is not JSON; a missing text; a duplicate id; an id of the wrong type.
{ echo "$good1"; echo '{"id": "x", "text": "unterminated'; } > "$TMP/badjson.jsonl"
expect_error bad-json-line 1 "badjson.jsonl:2" "not a JSON object" -- \
  score --input "$TMP/badjson.jsonl" --out "$TMP/badjson.sqlite"
expect_docs bad-json-kept "$TMP/badjson.sqlite" "a"
{ echo "$good1"; echo '{"id": "nt", "txt": "typo"}'; } > "$TMP/notext.jsonl"
expect_error missing-text 1 "notext.jsonl:2" 'document "nt"' 'field "text" is missing' -- \
  score --input "$TMP/notext.jsonl" --out "$TMP/notext.sqlite"
{ echo "$good1"; echo "$good2"; echo "$good1"; } > "$TMP/dup.jsonl"
expect_error duplicate-id 1 "dup.jsonl:3" 'duplicate document id "a"' "first seen at $TMP/dup.jsonl:1" -- \
  score --input "$TMP/dup.jsonl" --out "$TMP/dup.sqlite"
expect_docs duplicate-id-kept "$TMP/dup.sqlite" "a,2"
echo '{"id": 1.5, "text": "x"}' > "$TMP/idtype.jsonl"
expect_error id-type 1 "idtype.jsonl:1" 'field "id": expected a string or an integer' -- \
  score --input "$TMP/idtype.jsonl" --out "$TMP/idtype.sqlite"

# A directory corpus with an invalid UTF-8 file (sorted after a good one).
mkdir -p "$TMP/dir/sub"
echo "A good text file." > "$TMP/dir/a.txt"
printf 'bytes \xff\xfe here' > "$TMP/dir/sub/b.txt"
expect_error dir-invalid-utf8 1 "sub/b.txt" 'document "sub/b.txt"' "invalid UTF-8 at byte 6 (0xFF)" -- \
  score --input "$TMP/dir" --out "$TMP/dir.sqlite"
expect_docs dir-invalid-utf8-kept "$TMP/dir.sqlite" "a.txt"

# Missing inputs.
expect_error missing-model-dir 1 "$TMP/no-such-model" "the model directory does not exist" -- \
  "$BIN" score "$TMP/no-such-model" --input "$TMP/dir/a.txt" --out "$TMP/x.sqlite"
expect_error missing-corpus 1 "$TMP/no-such.jsonl" "the corpus does not exist" -- \
  score --input "$TMP/no-such.jsonl" --out "$TMP/x.sqlite"

# A corrupt checkpoint: safetensors cut short, and a header length past the end of the file.
cp -r "$MODEL" "$TMP/trunc"
python3 -c 'import os,sys; p=sys.argv[1]; os.truncate(p, os.path.getsize(p) // 2)' "$TMP/trunc/model.safetensors"
expect_error truncated-safetensors 1 "model.safetensors" -- \
  "$BIN" score "$TMP/trunc" --input "$TMP/dir/a.txt" --out "$TMP/trunc.sqlite"
cp -r "$MODEL" "$TMP/hdr"
python3 -c 'import struct,sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[0:8] = struct.pack("<Q", len(b) * 4)
open(p, "wb").write(b)' "$TMP/hdr/model.safetensors"
expect_error header-past-eof 1 "model.safetensors" -- "$BIN" inspect "$TMP/hdr"
[ ! -e "$TMP/trunc.sqlite" ] && echo "ok corrupt-model-no-store: nothing created" \
  || { echo "FAIL: a store was created for a corrupt model"; failures=$((failures + 1)); }

# Policy errors name the option.
expect_error context-too-long 1 "--context" "max_position_embeddings 1024" -- \
  "$BIN" score "$MODEL" --context 4096 --input "$TMP/dir/a.txt" --out "$TMP/x.sqlite"
expect_error stride-too-large 1 "--stride" "[0, 64)" -- score --stride 64 --input "$TMP/dir/a.txt" --out "$TMP/x.sqlite"

# Stores: not a store, unknown model, newer schema.
echo "not a database" > "$TMP/text.sqlite"
expect_error not-a-store 1 "$TMP/text.sqlite" "not a lossgap run store" -- "$BIN" export "$TMP/text.sqlite" --format csv
expect_error unknown-model 1 "$TMP/utf8.sqlite" 'no model named "nope"' '"llama_gqa_llama3"' -- \
  "$BIN" export "$TMP/utf8.sqlite" --format csv --model nope
expect_error missing-store 1 "$TMP/none.sqlite" "does not exist" -- "$BIN" export "$TMP/none.sqlite" --format jsonl

# Usage errors exit 2.
expect_error usage-missing-input 2 "--input" -- "$BIN" score "$MODEL" --out "$TMP/x.sqlite"
expect_error usage-bad-bos 2 "--bos" -- score --bos sometimes --input "$TMP/dir/a.txt" --out "$TMP/x.sqlite"
expect_error usage-tokenize-both 2 "exactly one of --file FILE or --text STRING" -- "$BIN" tokenize "$MODEL"
expect_error usage-no-command 2 "" -- "$BIN"

if [ $failures -ne 0 ]; then echo "$failures failures"; exit 1; fi
echo "all bad-input cases behave"
