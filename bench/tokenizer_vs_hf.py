#!/usr/bin/env python3
"""Tokenizer encoding throughput: lossgap (bench_tokenizer_encode) next to HF tokenizers,
single-threaded, on the same few MB of mixed text and the same CPU, in one run.

    python3 bench/tokenizer_vs_hf.py --bin PATH/bench_tokenizer_encode --tokdirs DIR [DIR ...] \
        --corpus /tmp/corpus.txt

The corpus is built here, deterministically: tools/tokenizer_texts/* (many scripts, emoji,
code, whitespace) repeated, interleaved with Python's standard-library sources (code and
English prose). Prints one JSON object: per tokenizer, MB/s of both and lossgap/HF ratios.
"""
import os

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers is imported
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import tokenizers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def build_corpus(path, target=4_000_000):
    hard = []
    for p in sorted(glob.glob(os.path.join(HERE, "..", "tools", "tokenizer_texts", "*"))):
        if not p.endswith("README.md"):
            hard.append(open(p, encoding="utf-8", newline="").read())
    hard = "".join(hard)
    srcs = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))
    parts, total, i = [], 0, 0
    while total < target:
        s = open(srcs[i % len(srcs)], encoding="utf-8", errors="replace").read()
        parts.append(s)
        parts.append(hard)
        total += len(s.encode()) + len(hard.encode())
        i += 1
    text = "".join(parts)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return text


def timed(runs, f):
    f()
    ts = []
    for _ in range(runs):
        a = time.perf_counter()
        f()
        ts.append(time.perf_counter() - a)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--tokdirs", nargs="+", required=True)
    ap.add_argument("--corpus", default="/tmp/lossgap_tok_corpus.txt")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    text = build_corpus(args.corpus)
    lines = text.splitlines(keepends=True)
    mb = len(text.encode()) / 1e6
    out = {"tokenizers_version": tokenizers.__version__, "bytes": len(text.encode()),
           "lines": len(lines), "threads": 1, "cpu": open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t"),
           "results": []}
    for d in args.tokdirs:
        tok = tokenizers.Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        t_long = timed(args.runs, lambda: tok.encode(text))
        t_batch = timed(args.runs, lambda: tok.encode_batch(lines))
        hf = {"long_text_mb_per_s": mb / t_long, "line_batch_mb_per_s": mb / t_batch}
        r = subprocess.run([args.bin, d, args.corpus, str(args.runs)], capture_output=True, text=True)
        if r.returncode != 0:
            out["results"].append({"tokenizer": os.path.basename(d), "hf": hf, "lossgap_error": r.stderr})
            continue
        lg = json.loads(r.stdout)
        out["results"].append({
            "tokenizer": os.path.basename(d.rstrip("/")),
            "hf": hf,
            "lossgap": {"long_text_mb_per_s": lg["long_text"]["mb_per_s"],
                        "line_batch_mb_per_s": lg["line_batch"]["mb_per_s"]},
            "ratio_long_text": lg["long_text"]["mb_per_s"] / hf["long_text_mb_per_s"],
            "ratio_line_batch": lg["line_batch"]["mb_per_s"] / hf["line_batch_mb_per_s"],
            "same_token_count_long_text": lg["long_text"]["tokens"] == len(tok.encode(text).ids),
        })
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
