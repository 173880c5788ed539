#!/usr/bin/env python3
"""Builds lossgap's demo evaluation corpus from Debian packages the demo models never saw.

The demo pair (models/demo/) was trained on Project Gutenberg books, sympy/TheAlgorithms
Python, Stacks-project/HoTT LaTeX and MDN/SICP HTML. This script takes text of the same four
kinds from installed Debian packages (tools/setup.sh installs them) and writes it as labelled
JSONL documents ({"id", "text", "domain", "source", "package"}) plus a manifest (package
versions, every file used with its sha256, the selection parameters, the output's sha256):

  books   the Jargon File 4.4.7 (jargon-text) and the King James Bible (bible-kjv; text printed
          by its `bible` program from bible-kjv-text's data)
  python  the Python 3.11 standard library's source (libpython3.11-stdlib, /usr/lib/python3.11)
  latex   LaTeX package and class sources (texlive-latex-base, texmf-dist/tex/latex)
  html    the Python 3.11 HTML documentation (python3.11-doc)

Selection is deterministic: file lists are sorted, then ordered by sha256 of their relative
path (a fixed shuffle that does not depend on which other files exist), and taken in that order
until a domain's character budget is met. Each document is at most --max-doc-chars characters,
cut at a line end. Same packages and options -> byte-identical output.

With --eval-splits DIR it instead takes a fixed subset of lossgap's shared evaluation splits
(DIR/*-eval.jsonl.xz, which the demo models never trained on): every document is cut into
consecutive pieces of at most --max-doc-chars characters (at line ends), and pieces are taken in
sha256(source@offset) order until each domain's budget is met (docs/findings.md uses this).

Not a tokenizer and not a sampler of the training data: standard library only, no network.

Usage: tools/build_demo_corpus.py --out DIR [--chars-per-domain N] [--max-doc-chars N]
                                  [--eval-splits SHARED_CORPUS_DIR]
Writes DIR/corpus.jsonl and DIR/manifest.json. Exit 1 with one line on stderr when a package
or a file is missing.
"""
import argparse
import gzip
import hashlib
import json
import lzma
import os
import re
import subprocess
import sys

FORMAT_VERSION = 1
PYTHON_DIR = "/usr/lib/python3.11"
PYDOC_DIR = "/usr/share/doc/python3.11/html"
LATEX_DIR = "/usr/share/texlive/texmf-dist/tex/latex"
JARGON_FILE = "/usr/share/doc/jargon-text/jargon.txt.gz"
BIBLE_DATA = "/usr/lib/bible.data"

# The 66 books of the King James Bible, in canonical order, as the `bible` program names them.
KJV_BOOKS = [
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth",
    "1Samuel", "2Samuel", "1Kings", "2Kings", "1Chronicles", "2Chronicles", "Ezra", "Nehemiah",
    "Esther", "Job", "Psalms", "Proverbs", "Ecclesiastes", "Song", "Isaiah", "Jeremiah",
    "Lamentations", "Ezekiel", "Daniel", "Hosea", "Joel", "Amos", "Obadiah", "Jonah", "Micah",
    "Nahum", "Habakkuk", "Zephaniah", "Haggai", "Zechariah", "Malachi", "Matthew", "Mark",
    "Luke", "John", "Acts", "Romans", "1Corinthians", "2Corinthians", "Galatians", "Ephesians",
    "Philippians", "Colossians", "1Thessalonians", "2Thessalonians", "1Timothy", "2Timothy",
    "Titus", "Philemon", "Hebrews", "James", "1Peter", "2Peter", "1John", "2John", "3John",
    "Jude", "Revelation",
]

PACKAGES = {
    "books": ["jargon-text", "bible-kjv", "bible-kjv-text"],
    "python": ["libpython3.11-stdlib"],
    "latex": ["texlive-latex-base"],
    "html": ["python3.11-doc"],
}


def fail(msg):
    print("build_demo_corpus: error: " + msg, file=sys.stderr)
    sys.exit(1)


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def package_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}\t${Version}", pkg],
                       capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.startswith("install ok installed"):
        fail(f"Debian package {pkg} is not installed (run tools/setup.sh)")
    return r.stdout.split("\t", 1)[1]


def shuffled(paths):
    """Sorted, then in sha256(path) order: a fixed selection order independent of other files."""
    return sorted(sorted(paths), key=lambda p: hashlib.sha256(p.encode()).hexdigest())


def cut(text, max_chars):
    """The text's first max_chars characters, cut back to the last line end inside them."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    nl = head.rfind("\n")
    return head[: nl + 1] if nl > 0 else head


def list_files(root, suffixes):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith(suffixes):
                out.append(os.path.relpath(os.path.join(dirpath, f), root))
    return out


class Builder:
    def __init__(self, chars_per_domain, max_doc_chars, min_doc_chars):
        self.budget = chars_per_domain
        self.max_doc = max_doc_chars
        self.min_doc = min_doc_chars
        self.docs = []   # (domain, id, text, source, package)
        self.files = []  # manifest rows: {"path", "sha256", "bytes"}, each source file once
        self.seen = set()

    def take(self, domain, candidates):
        """candidates: iterable of (id, text, source, package (or licence), source file path, its
        bytes)
        in selection order; takes documents until the domain's budget is met."""
        used = 0
        for doc_id, text, source, package, path, raw in candidates:
            if used >= self.budget:
                break
            text = cut(text, min(self.max_doc, self.budget - used + self.min_doc))
            if len(text.strip()) < self.min_doc:
                continue
            self.docs.append((domain, doc_id, text, source, package))
            if path not in self.seen:
                self.seen.add(path)
                self.files.append({"path": path, "sha256": sha256_bytes(raw), "bytes": len(raw)})
            used += len(text)
        if used < self.budget:
            fail(f"domain {domain}: only {used} characters available, {self.budget} asked")
        return used


def read_text(path):
    raw = open(path, "rb").read()
    return raw, raw.decode("utf-8")


def python_candidates():
    # Top-level and package modules of the standard library; not tests, not site-packages, not
    # generated tables (codec maps in encodings/, pydoc_data/topics.py).
    skip = re.compile(r"^(test|idlelib|lib2to3/tests|site-packages|dist-packages|__pycache__|"
                      r"tkinter/test|unittest/test|distutils/tests|ctypes/test|encodings|"
                      r"pydoc_data)(/|$)")
    for rel in shuffled([p for p in list_files(PYTHON_DIR, (".py",)) if not skip.match(p)]):
        path = os.path.join(PYTHON_DIR, rel)
        raw, text = read_text(path)
        yield ("python/stdlib/" + rel, text, "CPython 3.11 standard library", "libpython3.11-stdlib",
               path, raw)


def html_candidates():
    # Sphinx pages; each document starts at the main content (the navigation and <head>
    # boilerplate, identical on every page, would be one long copy).
    rels = [p for p in list_files(PYDOC_DIR, (".html",))
            if not p.startswith(("_", "genindex", "search", "py-modindex"))]
    for rel in shuffled(rels):
        path = os.path.join(PYDOC_DIR, rel)
        raw, text = read_text(path)
        start = text.find('<div class="body" role="main">')
        if start < 0:
            continue
        yield ("html/python-doc/" + rel, text[start:], "Python 3.11 documentation (HTML)",
               "python3.11-doc", path, raw)


def latex_candidates():
    for rel in shuffled(list_files(LATEX_DIR, (".sty", ".cls", ".ltx", ".tex", ".def", ".clo"))):
        path = os.path.join(LATEX_DIR, rel)
        raw = open(path, "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue  # a few font-encoding files are Latin-1; the corpus is UTF-8
        yield ("latex/texlive/" + rel, text, "TeX Live 2022 LaTeX sources", "texlive-latex-base",
               path, raw)


def books_candidates(max_doc):
    """The Jargon File (lexicon and essays, without its index of entry names) in paragraph-cut
    pieces, and the first chapters of each book of the King James Bible, interleaved."""
    raw = open(JARGON_FILE, "rb").read()
    lines = gzip.decompress(raw).decode("utf-8").split("\n")
    # The glossary index (entry names only) runs from the "Glossary" heading to the first
    # lexicon entry ("   :name: ...").
    g = lines.index("Glossary")
    first_entry = next(i for i in range(g, len(lines)) if re.match(r"^   :[^:]+:", lines[i]))
    start = next(i for i, l in enumerate(lines) if re.match(r"^Chapter\s1\.", l))
    body = lines[start:g] + lines[first_entry:]
    jargon, piece = [], []
    size = 0
    for line in body:
        piece.append(line)
        size += len(line) + 1
        if line == "" and size >= max_doc * 3 // 4:
            jargon.append("\n".join(piece).strip("\n") + "\n")
            piece, size = [], 0
    if piece:
        jargon.append("\n".join(piece).strip("\n") + "\n")
    jargon_ids = [f"books/jargon/{i:04d}" for i in range(len(jargon))]
    order = shuffled(jargon_ids)
    by_id = dict(zip(jargon_ids, jargon))
    bible = [(b, books_bible_text(b, max_doc)) for b in KJV_BOOKS]
    bible_raw = open(BIBLE_DATA, "rb").read()
    for k in range(max(len(order), len(bible))):
        if k < len(order):
            yield (order[k], by_id[order[k]], "The Jargon File 4.4.7", "jargon-text", JARGON_FILE, raw)
        if k < len(bible):
            b, text = bible[k]
            yield (f"books/kjv/{b}", text, "King James Bible", "bible-kjv-text", BIBLE_DATA, bible_raw)


def books_bible_text(book, max_doc):
    # Chapters 1-9 are more than any document keeps; -l70 wraps verses as printed books do.
    r = subprocess.run(["bible", "-l70", f"{book}1:1-9:999"], input="", capture_output=True,
                       text=True, env={**os.environ, "COLUMNS": "70"})
    if r.returncode != 0 or not r.stdout.strip():
        fail(f"the bible program printed nothing for {book} (bible-kjv installed?): {r.stderr.strip()}")
    return cut(r.stdout.strip("\n") + "\n", max_doc)


def pieces(text, max_chars):
    """Consecutive pieces of text, each at most max_chars, cut at line ends: (offset, piece)."""
    at = 0
    while at < len(text):
        piece = cut(text[at:], max_chars)
        yield at, piece
        at += len(piece)


def eval_candidates(path, max_doc):
    raw = open(path, "rb").read()
    docs = [json.loads(l) for l in lzma.decompress(raw).decode("utf-8").splitlines() if l.strip()]
    by_id = {}
    for d in docs:
        for off, piece in pieces(d["text"], max_doc):
            by_id[f"{d['domain']}/{d['source']}@{off}"] = (d, piece)
    for doc_id in shuffled(list(by_id)):
        d, piece = by_id[doc_id]
        yield (doc_id, piece, d["source"], d["license"], path, raw)


def build_eval(a):
    """The --eval-splits subset: (builder, characters per domain, manifest's source fields)."""
    b = Builder(a.chars_per_domain, a.max_doc_chars, a.min_doc_chars)
    files = sorted(f for f in os.listdir(a.eval_splits) if f.endswith("-eval.jsonl.xz"))
    if not files:
        fail(f"{a.eval_splits}: no *-eval.jsonl.xz file")
    chars = {}
    for f in files:
        domain = f[: -len("-eval.jsonl.xz")]
        chars[domain] = b.take(domain, eval_candidates(os.path.join(a.eval_splits, f), a.max_doc_chars))
    return b, chars, {"eval_splits": os.path.abspath(a.eval_splits)}


def build_packages(a):
    """The demo corpus from Debian packages: (builder, characters per domain, manifest fields)."""
    versions = {p: package_version(p) for ps in PACKAGES.values() for p in ps}
    b = Builder(a.chars_per_domain, a.max_doc_chars, a.min_doc_chars)
    chars = {
        "books": b.take("books", books_candidates(a.max_doc_chars)),
        "python": b.take("python", python_candidates()),
        "latex": b.take("latex", latex_candidates()),
        "html": b.take("html", html_candidates()),
    }
    return b, chars, {"packages": versions}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory (corpus.jsonl, manifest.json)")
    ap.add_argument("--chars-per-domain", type=int, default=250000,
                    help="characters of text per domain (default 250000: about 87k tokens)")
    ap.add_argument("--max-doc-chars", type=int, default=4000,
                    help="longest document in characters, cut at a line end (default 4000: about "
                         "1250 tokens, a little more than the models' 1024-token context)")
    ap.add_argument("--min-doc-chars", type=int, default=400,
                    help="shortest document kept (default 400)")
    ap.add_argument("--eval-splits", metavar="DIR",
                    help="take a subset of DIR/*-eval.jsonl.xz instead of the Debian packages")
    a = ap.parse_args()
    if a.chars_per_domain < a.min_doc_chars or a.max_doc_chars < a.min_doc_chars:
        fail("--chars-per-domain and --max-doc-chars must be at least --min-doc-chars")

    b, chars, sources = build_eval(a) if a.eval_splits else build_packages(a)
    os.makedirs(a.out, exist_ok=True)
    lines = []
    origin_key = "license" if a.eval_splits else "package"
    for domain, doc_id, text, source, origin in b.docs:
        lines.append(json.dumps({"id": doc_id, "domain": domain, "source": source,
                                 origin_key: origin, "text": text}, ensure_ascii=False))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    corpus = os.path.join(a.out, "corpus.jsonl")
    with open(corpus + ".tmp", "wb") as f:
        f.write(data)
    os.replace(corpus + ".tmp", corpus)
    manifest = {
        "format_version": FORMAT_VERSION,
        "made_by": "tools/build_demo_corpus.py",
        "options": {"chars_per_domain": a.chars_per_domain, "max_doc_chars": a.max_doc_chars,
                    "min_doc_chars": a.min_doc_chars},
        **sources,
        "corpus": {"file": "corpus.jsonl", "sha256": sha256_bytes(data), "bytes": len(data),
                   "documents": len(b.docs)},
        "domains": {d: {"documents": sum(1 for x in b.docs if x[0] == d), "characters": chars[d]}
                    for d in chars},
        "documents": [x[1] for x in b.docs],
        "source_files": b.files,
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"corpus: {len(b.docs)} documents, "
          + ", ".join(f"{d} {chars[d]:,} chars" for d in chars) + f" -> {corpus}")


if __name__ == "__main__":
    main()
