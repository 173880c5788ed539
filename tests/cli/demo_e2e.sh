#!/usr/bin/env bash
# End to end on the bundled pair (models/demo/): builds a small slice of the demo corpus from
# the Debian packages tools/setup.sh installs (tools/build_demo_corpus.py), runs `lossgap
# compare` olmo3-small vs olmo-hybrid-small on it with --json and --report, and checks the
# contents against independent computations from the run store (Python's sqlite3):
#  - the JSON has both models, the four domains, categories with bootstrap CIs holding Δ;
#  - Δ of ALL = mean NLL of A − mean NLL of B over the paired targets, and each model's mean NLL
#    equals the store's; per-domain Δ likewise; token counts agree;
#  - the HTML report holds the charts (inline SVG), the viewer and its data, and no external URL
#    (scripts, stylesheets, images);
#  - `lossgap demo --corpus SLICE` prints the summary and writes the same numbers.
# Usage: bash demo_e2e.sh LOSSGAP_BINARY SOURCE_DIR SHARED_DIR
set -euo pipefail
BIN=$1 SRC=$2
MODELS=$SRC/models/demo
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

python3 "$SRC/tools/build_demo_corpus.py" --out "$TMP/corpus" --chars-per-domain 2500 --max-doc-chars 1500
CORPUS=$TMP/corpus/corpus.jsonl

"$BIN" compare --model "$MODELS/olmo3-small" --model "$MODELS/olmo-hybrid-small" --input "$CORPUS" \
  --out "$TMP/run.sqlite" --threads 2 --resamples 200 --json "$TMP/summary.json" --report "$TMP/report.html" \
  > "$TMP/compare.out"

python3 - "$TMP/summary.json" "$TMP/run.sqlite" "$TMP/report.html" "$CORPUS" <<'EOF'
import json, re, sqlite3, sys
summary, store, html, corpus = sys.argv[1:]
r = json.load(open(summary))
fails = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)

names = [m["name"] for m in r["models"]]
check(names == ["olmo3-small", "olmo-hybrid-small"], f"both models, baseline first: {names}")
check(r["level"] == "token", "token level (shared tokenizer)")
check([m["model_type"] for m in r["models"]] == ["olmo3", "olmo_hybrid"], "model types olmo3, olmo_hybrid")
docs = [json.loads(l) for l in open(corpus) if l.strip()]
check(r["counts"]["documents"] == len(docs), f"documents analysed {r['counts']['documents']} == corpus {len(docs)}")

pair = r["pairs"][0]
rows = {c["name"]: row for c, row in zip(r["categories"], pair["categories"])}
groups = {c["name"]: c["group"] for c in r["categories"]}
for d in ["books", "python", "latex", "html"]:
    check(any(groups[n] == "domain" and d in n.lower() for n in rows), f"a domain category for {d}")
for name in ["ALL", "CONTENT", "FUNCTION", "NO-COPY", "COPY-5"]:
    check(name in rows, f"category {name} present")
with_ci = [n for n, row in rows.items() if row["tokens"] >= 50 and row["delta"] is not None]
bad_ci = [n for n in with_ci
          if not (row := rows[n])["delta_ci"]["valid"] > 0
          or not row["delta_ci"]["lo"] <= row["delta"] <= row["delta_ci"]["hi"]]
check(len(with_ci) >= 10 and not bad_ci, f"{len(with_ci)} categories with >= 50 tokens have a CI holding Δ {bad_ci}")

# Independent computation from the run store: paired targets of the two models.
db = sqlite3.connect(store)
q = """SELECT d.domain, -sa.logprob, -sb.logprob
       FROM scores sa JOIN scores sb ON sa.doc_id = sb.doc_id AND sa.pos = sb.pos
       JOIN documents d ON d.doc_id = sa.doc_id
       JOIN models ma ON ma.model_id = sa.model_id JOIN models mb ON mb.model_id = sb.model_id
       WHERE ma.name = 'olmo3-small' AND mb.name = 'olmo-hybrid-small'"""
pairs = db.execute(q).fetchall()
n = len(pairs)
check(n == rows["ALL"]["tokens"], f"ALL targets {rows['ALL']['tokens']} == paired scores in the store {n}")
na = sum(p[1] for p in pairs) / n
nb = sum(p[2] for p in pairs) / n
tol = 1e-6 * max(1.0, abs(na))
check(abs(rows["ALL"]["nll_a"] - na) < tol and abs(rows["ALL"]["nll_b"] - nb) < tol,
      f"mean NLLs {rows['ALL']['nll_a']:.6f} / {rows['ALL']['nll_b']:.6f} == store {na:.6f} / {nb:.6f}")
check(abs(rows["ALL"]["delta"] - (na - nb)) < tol,
      f"Δ(ALL) {rows['ALL']['delta']:.6f} == mean NLL_A − mean NLL_B {na - nb:.6f}")
losses = {(l["model"], l["filter"]): l for l in r["losses"]}
check(abs(losses[("olmo3-small", "ALL")]["mean_nll"] - na) < tol and
      abs(losses[("olmo-hybrid-small", "ALL")]["mean_nll"] - nb) < tol, "filtered losses ALL == store means")
for d in ["books", "python", "latex", "html"]:
    sel = [p for p in pairs if p[0] == d]
    name = next(k for k in rows if groups[k] == "domain" and d in k.lower())
    dd = sum(p[1] - p[2] for p in sel) / len(sel)
    check(rows[name]["tokens"] == len(sel) and abs(rows[name]["delta"] - dd) < tol,
          f"{name}: {rows[name]['tokens']} targets, Δ {rows[name]['delta']:.6f} == store {len(sel)}, {dd:.6f}")
win = sum(1 for p in pairs if p[2] < p[1]) / n
check(abs(rows["ALL"]["win_rate"] - win) < 1e-9, f"win rate {rows['ALL']['win_rate']:.4f} == store {win:.4f}")

page = open(html, encoding="utf-8").read()
check(page.count("<svg") >= 3, f"HTML: {page.count('<svg')} inline SVG charts (>= 3)")
check("olmo3-small" in page and "olmo-hybrid-small" in page, "HTML names both models")
for cat in ["CONTENT", "NO-COPY", "COPY-5"]:
    check(cat in page, f"HTML shows category {cat}")
ext = re.findall(r'(?:src|href)\s*=\s*["\'](?:https?:)?//[^"\']+', page)
check(not ext, f"HTML loads nothing from outside {ext[:3]}")
check(re.search(r"<script[^>]*>", page) is not None and "viewer" in page.lower(), "HTML has the viewer script")
viewed = [d["id"] for d in docs if json.dumps(d["id"])[1:-1] in page]
check(len(viewed) >= 1, f"HTML embeds viewer documents ({len(viewed)} corpus ids found)")
if fails:
    sys.exit(f"{len(fails)} check(s) failed")
EOF

# The demo command on the same slice: its summary on stdout, the same numbers in its JSON.
"$BIN" demo --corpus "$CORPUS" --out "$TMP/demo" --threads 2 > "$TMP/demo.out"
grep -q "ALL" "$TMP/demo.out" || { echo "FAIL demo: no summary on stdout"; cat "$TMP/demo.out"; exit 1; }
for f in demo.sqlite summary.json report.html; do
  [ -s "$TMP/demo/$f" ] || { echo "FAIL demo: $TMP/demo/$f missing"; exit 1; }
done
python3 - "$TMP/summary.json" "$TMP/demo/summary.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
ra, rb = a["pairs"][0]["categories"][0], b["pairs"][0]["categories"][0]
same = ra["tokens"] == rb["tokens"] and abs(ra["delta"] - rb["delta"]) < 1e-9
print(("ok   " if same else "FAIL ") + f"demo Δ(ALL) {rb['delta']:.6f} == compare {ra['delta']:.6f}")
sys.exit(0 if same else 1)
EOF
echo "demo_e2e: all checks passed"
