#!/usr/bin/env python3
"""Per-token log-probabilities from Hugging Face transformers, under lossgap's scoring policy,
for `lossgap import` — how docs/findings.md scored the shared evaluation splits (2.7M tokens)
on the GPU machine, where the 2-core development machine would have needed hours.

Two steps:

  score    (GPU machine: torch, transformers, tokenizers) reads JSONL corpora (.jsonl or
           .jsonl.xz), tokenizes each document with the first model's tokenizer (no special
           tokens), cuts it into windows exactly as `lossgap score` does with no BOS
           (docs/cli.md "The scoring policy": first window [0, min(n, C)), then the next S new
           targets per window, each window ending at its last target and C tokens long), runs
           every model in fp32 (TF32 off) and writes, per input, OUT/<stem>.scores.jsonl.xz:
           a header line, then one line per document
           {"doc", "domain", "source", "text", "ids", "gap", "len", "lp": {model: [log p of
           tokens 1..n-1]}} where token k spans bytes [start_k, start_k + len_k), start_k =
           end_{k-1} + gap_k; "doc" is the input's "id", else "<input stem>:<k>" for its k-th document.
  records  (anywhere, standard library only) turns one such file into the corpus
           (<stem>.corpus.jsonl: "id", "domain", "source", "text") and one `lossgap import`
           records file per model: {"doc", "pos", "token_id", "start", "end", "logprob"} lines.

Not lossgap's scorer: lossgap's own CPU runtime is the reference (tests/cli/score_parity.sh
checks it against transformers); this is the same computation on another engine.

  python3 tools/hf_score_corpus.py score --model DIR [--model DIR ...] --input F [--input F ...]
      --out DIR [--context 1024] [--stride 0] [--batch 32]
  python3 tools/hf_score_corpus.py records SCORES.jsonl.xz --out-dir DIR
"""
import argparse
import hashlib
import json
import lzma
import os
import sys
import time


def windows(n, context, stride):
    """lossgap's windows without BOS: [(start, end_exclusive, first_target)] (docs/cli.md)."""
    if n < 2:
        return []
    out = [(0, min(n, context), 1)]
    nxt = min(n, context)
    while nxt < n:
        last = min(nxt + stride, n) - 1
        out.append((last - context + 1, last + 1, nxt))
        nxt = last + 1
    return out


def read_jsonl(path):
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def byte_spans(text, char_offsets):
    """Character offsets (Python str) -> UTF-8 byte offsets."""
    pos = [0] * (len(text) + 1)
    for i, ch in enumerate(text):
        pos[i + 1] = pos[i] + len(ch.encode("utf-8"))
    return [(pos[a], pos[b]) for a, b in char_offsets]


def cmd_score(a):
    import torch
    import transformers
    import tokenizers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    stride = a.stride or a.context - 1
    tok = AutoTokenizer.from_pretrained(a.model[0])
    names = [os.path.basename(os.path.normpath(m)) for m in a.model]
    models = []
    for m in a.model:
        model = AutoModelForCausalLM.from_pretrained(m, dtype=torch.float32).to(dev).eval()
        models.append(model)
    os.makedirs(a.out, exist_ok=True)
    for path in a.input:
        t0 = time.time()
        docs = read_jsonl(path)
        enc = []
        for d in docs:
            e = tok(d["text"], add_special_tokens=False, return_offsets_mapping=True)
            enc.append((e["input_ids"], byte_spans(d["text"], e["offset_mapping"])))
        # Every window of every document, grouped by length so batches need no padding.
        wins = [(di, s, e, ft) for di, (ids, _) in enumerate(enc) for s, e, ft in windows(len(ids), a.context, stride)]
        by_len = {}
        for w in wins:
            by_len.setdefault(w[2] - w[1], []).append(w)
        lps = [[[0.0] * max(len(ids) - 1, 0) for ids, _ in enc] for _ in models]
        with torch.no_grad():
            for length, group in sorted(by_len.items()):
                for b in range(0, len(group), a.batch):
                    chunk = group[b:b + a.batch]
                    x = torch.tensor([enc[di][0][s:e] for di, s, e, _ in chunk], device=dev)  # [B, T]
                    for mi, model in enumerate(models):
                        logits = model(input_ids=x).logits.float()          # [B, T, V]
                        lp = torch.log_softmax(logits[:, :-1], dim=-1)      # [B, T-1, V]
                        tgt = lp.gather(-1, x[:, 1:, None])[..., 0].cpu()  # [B, T-1]
                        for k, (di, s, e, ft) in enumerate(chunk):
                            row = tgt[k].tolist()
                            for p in range(ft, e):  # document position p is predicted at p-1-s
                                lps[mi][di][p - 1] = row[p - 1 - s]
        stem = os.path.basename(path).split(".")[0]
        out = os.path.join(a.out, stem + ".scores.jsonl.xz")
        header = {"header": True, "input": os.path.basename(path),
                  "input_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
                  "models": names, "context": a.context, "stride": stride, "bos": None,
                  "dtype": "float32", "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu",
                  "torch": torch.__version__, "transformers": transformers.__version__,
                  "tokenizers": tokenizers.__version__, "documents": len(docs),
                  "tokens": sum(len(ids) for ids, _ in enc), "windows": len(wins)}
        with lzma.open(out, "wt", encoding="utf-8", preset=6) as f:
            f.write(json.dumps(header) + "\n")
            for di, (d, (ids, spans)) in enumerate(zip(docs, enc)):
                gap, ln, prev = [], [], 0
                for s, e in spans:
                    gap.append(s - prev)
                    ln.append(e - s)
                    prev = e
                rec = {"doc": str(d.get("id", f"{stem}:{di + 1}")), "domain": d.get("domain", ""),
                       "source": d.get("source", ""), "text": d["text"], "ids": ids, "gap": gap,
                       "len": ln, "lp": {names[mi]: [float("%.7g" % v) for v in lps[mi][di]]
                                         for mi in range(len(models))}}
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")
        print(f"{path}: {len(docs)} documents, {header['tokens']} tokens, {len(wins)} windows, "
              f"{time.time() - t0:.1f} s -> {out} ({os.path.getsize(out) / 1e6:.1f} MB)", flush=True)


def cmd_records(a):
    with lzma.open(a.scores, "rt", encoding="utf-8") as f:
        header = json.loads(f.readline())
        os.makedirs(a.out_dir, exist_ok=True)
        stem = os.path.basename(a.scores).split(".")[0]
        outs = {m: open(os.path.join(a.out_dir, f"{stem}.{m}.records.jsonl"), "w") for m in header["models"]}
        corpus = open(os.path.join(a.out_dir, f"{stem}.corpus.jsonl"), "w", encoding="utf-8")
        n = 0
        for line in f:
            r = json.loads(line)
            corpus.write(json.dumps({"id": r["doc"], "domain": r["domain"], "source": r["source"],
                                     "text": r["text"]}, ensure_ascii=False) + "\n")
            start, end, prev = [], [], 0
            for g, ln in zip(r["gap"], r["len"]):
                start.append(prev + g)
                end.append(prev + g + ln)
                prev = end[-1]
            for m, lps in r["lp"].items():
                o = outs[m]
                for p in range(1, len(r["ids"])):
                    o.write(json.dumps({"doc": r["doc"], "pos": p, "token_id": r["ids"][p], "start": start[p],
                                        "end": end[p], "logprob": lps[p - 1]}) + "\n")
            n += 1
        for o in [corpus, *outs.values()]:
            o.close()
    print(f"{a.scores}: {n} documents -> {corpus.name}, " + ", ".join(o.name for o in outs.values()))
    print(json.dumps({k: header[k] for k in ("context", "stride", "torch", "transformers", "device")}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("score")
    s.add_argument("--model", action="append", required=True)
    s.add_argument("--input", action="append", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--context", type=int, default=1024)
    s.add_argument("--stride", type=int, default=0, help="0 = context - 1 (lossgap's default)")
    s.add_argument("--batch", type=int, default=32)
    r = sub.add_parser("records")
    r.add_argument("scores")
    r.add_argument("--out-dir", required=True)
    a = ap.parse_args()
    if a.cmd == "score":
        cmd_score(a)
    else:
        cmd_records(a)


if __name__ == "__main__":
    sys.exit(main())
