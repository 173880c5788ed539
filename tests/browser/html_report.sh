#!/usr/bin/env bash
# Browser test of the HTML report (label `browser`, not in the default test run; run it with
# tools/test-browser.sh, which installs Debian's chromium). Makes a report from two fixture
# models (the study's pair in miniature: olmo3 transformer A vs olmo_hybrid B) on a corpus that
# holds markup and "</script>", with probe results in the store, then loads it in headless
# Chromium with the page's self-test (?selftest: draws the viewer, hovers a token, filters a
# category, clicks a span, sorts a table) and requires:
#  - the self-test's "lossgap-selftest: ok" console line, and no other console message or error;
#  - the DOM after scripts ran holds the charts, the viewer's tokens and the tooltip;
#  - no request leaves the page: its Content-Security-Policy (default-src 'none') refuses any,
#    and a refusal is a console message, which fails the test;
#  - two screenshots, OUT/report-top.png (header, charts) and OUT/report-viewer.png (viewer);
#    OUT also keeps the run store (run.sqlite) and the report (report.html).
# Usage: bash html_report.sh LOSSGAP_BINARY SOURCE_DIR OUT_DIR
set -euo pipefail
BIN=$1 SRC=$2 OUT=$3
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then echo "FAIL: no chromium (tools/test-browser.sh installs Debian's)"; exit 1; fi
MODELS=$SRC/tests/fixtures/models
A=$MODELS/olmo3_sliding_yarn B=$MODELS/olmo_hybrid_rope
for d in "$A" "$B"; do
  if [ ! -f "$d/expected.json" ]; then echo "FAIL: fixture model $d missing"; exit 1; fi
done
mkdir -p "$OUT"
rm -f "$OUT/run.sqlite" "$OUT/run.sqlite-wal" "$OUT/run.sqlite-shm"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

python3 - "$A/expected.json" "$TMP/corpus.jsonl" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
docs = []
for rep in range(2):
    for i, t in enumerate(e["texts"]):
        docs.append({"id": f"t{rep}-{i}", "text": t, "domain": ["prose", "python", "mixed"][i % 3]})
docs.append({"id": "markup<&>", "domain": "markup",
             "text": "<p>A <b>bold</b> claim & a </script><script>alert('x')</script> tag, "
                     "\"quoted\" 'text' <!-- comment --> and the claim again: <b>bold</b>.</p>\n"})
with open(sys.argv[2], "w") as f:
    for d in docs:
        f.write(json.dumps(d) + "\n")
PY
POS=(--pos-model "$SRC/models/pos/en_ud.pos")
"$BIN" compare --model "$A" --model "$B" --name olmo3 --name olmo_hybrid --input "$TMP/corpus.jsonl" \
  --out "$OUT/run.sqlite" --threads 2 --context 64 --stride 32 --resamples 200 "${POS[@]}" > "$TMP/summary.txt"
"$BIN" probe --model "$A" --model "$B" --name olmo3 --name olmo_hybrid --out "$OUT/run.sqlite" \
  --task pronoun,closure-bracket --distances 16,64 --n 24 --resamples 100 --context 256 --threads 2 > /dev/null
"$BIN" report "$OUT/run.sqlite" "${POS[@]}" --resamples 200 --html "$OUT/report.html" > /dev/null
echo "report: $(wc -c < "$OUT/report.html") bytes"

fail=0
# One Chromium run: URL, screenshot file, window height. Console messages go to the log.
shoot() {
  local url=$1 png=$2 height=$3 profile
  profile=$(mktemp -d "$TMP/profile.XXXX")
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 \
    --hide-scrollbars --window-size=1400,"$height" --virtual-time-budget=8000 \
    --screenshot="$png" "$url" 2> "$profile/stderr.txt" > /dev/null || true
  grep -h "CONSOLE" "$profile/stderr.txt" >> "$TMP/console.txt" || true
  grep -hiE "Uncaught|SyntaxError|TypeError|ReferenceError" "$profile/stderr.txt" >> "$TMP/errors.txt" || true
  if [ ! -s "$png" ]; then echo "FAIL: no screenshot $png"; fail=1; fi
}
shoot "file://$OUT/report.html?selftest" "$OUT/report-top.png" 2600
# Headless Chromium paints nothing for a scrolled viewport (a #viewer fragment gives a blank
# image), so the viewer is shot from a copy whose other sections are hidden.
sed 's|</head>|<style>#run, #charts, #tables { display: none; }</style></head>|' "$OUT/report.html" \
  > "$OUT/report-viewer-only.html"
shoot "file://$OUT/report-viewer-only.html?selftest" "$OUT/report-viewer.png" 1100

ok=$(grep -c "lossgap-selftest: ok" "$TMP/console.txt" || true)
if [ "$ok" -ne 2 ]; then echo "FAIL: the self-test did not pass in both loads ($ok)"; fail=1; fi
if grep -v "lossgap-selftest: ok" "$TMP/console.txt" | grep -q .; then
  echo "FAIL: console messages:"; grep -v "lossgap-selftest: ok" "$TMP/console.txt"; fail=1
fi
if [ -s "$TMP/errors.txt" ]; then echo "FAIL: script errors:"; cat "$TMP/errors.txt"; fail=1; fi

# The DOM after the scripts ran.
profile=$(mktemp -d "$TMP/profile.XXXX")
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --virtual-time-budget=8000 --dump-dom "file://$OUT/report.html?selftest" \
  > "$TMP/dom.html" 2> /dev/null || true
python3 - "$TMP/dom.html" <<'PY' || fail=1
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
need = {
    "charts": len(re.findall(r"<svg ", dom)) >= 6,
    "probe charts": "pronoun: accuracy" in dom,
    "viewer tokens": len(re.findall(r'<span class="u', dom)) > 50,
    "coloured tokens": "background-color: rgba(" in dom,
    "tooltip shown": re.search(r'<div id="tooltip" role="tooltip"( style="[^"]*")?>', dom) is not None,
    "span lists": len(re.findall(r"<li><span class=\"sum\">", dom)) >= 2,
    # The markup document's "</script><script>alert('x')" stays data: still two script elements.
    "document text inert": '"id":"markup\\u003c\\u0026\\u003e"' in dom and dom.lower().count("<script") == 2,
}
bad = [k for k, v in need.items() if not v]
if bad:
    print("FAIL: DOM lacks", ", ".join(bad))
    sys.exit(1)
print("DOM ok:", ", ".join(need))
PY
if [ "$fail" -ne 0 ]; then exit 1; fi
echo "ok: $(grep -o 'lossgap-selftest: ok[^"]*' "$TMP/console.txt" | head -1)"
echo "screenshots: $OUT/report-top.png $OUT/report-viewer.png"
