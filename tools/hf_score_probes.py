#!/usr/bin/env python3
"""Cross-check `lossgap probe` against Hugging Face transformers.

What it is: an independent second scoring of the probe texts lossgap generated and scored. Two
steps, because the machine that runs lossgap has no torch and the one with torch has no lossgap:

  export  (any machine, Python's standard library only): reads the probe tables of a lossgap run
          store and writes one JSON line per query of every instance: the prefix (the text before
          the query's target), the continuations (target first), and lossgap's log-probability
          and token count for each continuation and model.
  score   (a machine with torch and transformers 5.17): for each model, scores prefix +
          continuation with AutoModelForCausalLM in fp32 (TF32 off), each continuation in its own
          sequence (the plain form, not lossgap's shared-prefix pass), sums the log-probs of the
          tokens whose characters lie at or after the prefix's end, and compares with lossgap's
          numbers: max |delta| per continuation (a sum over its tokens) and per token.

What it is not: a probe generator or a statistics tool; it never changes the store.

Run (from the repository root; models/demo is in the repository, so the GPU machine has it):
    python3 tools/hf_score_probes.py export RUN.sqlite --out .carry/probes/probes.jsonl
    python3 tools/hf_score_probes.py score .carry/probes/probes.jsonl --out hf_probes.json
The exit status of `score` is non-zero when a continuation differs by more than --tolerance
(default 1e-4 nats per token, times its token count) or when a tokenization differs.
"""

import argparse
import json
import sqlite3
import sys
import time


def export(args):
    db = sqlite3.connect(args.store)
    run = args.run
    if run is None:
        run = db.execute("SELECT MAX(probe_run_id) FROM probe_runs").fetchone()[0]
        if run is None:
            sys.exit(f"{args.store}: no probe run")
    models = db.execute(
        "SELECT model_index, name, dir, bos_id FROM probe_models WHERE probe_run_id = ? ORDER BY model_index",
        (run,)).fetchall()
    header = {"format": "lossgap-probe-texts", "version": 1, "store": args.store, "probe_run_id": run,
              "models": [{"index": i, "name": n, "dir": d, "bos_id": b} for i, n, d, b in models]}
    instances = db.execute(
        "SELECT instance_id, task, distance, idx, text FROM probe_instances WHERE probe_run_id = ? "
        "ORDER BY instance_id", (run,)).fetchall()
    per_cell = {}
    n_lines = 0
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(json.dumps(header) + "\n")
        for iid, task, distance, idx, text in instances:
            cell = (task, distance)
            per_cell[cell] = per_cell.get(cell, 0) + 1
            if args.limit and per_cell[cell] > args.limit:
                continue
            raw = text.encode("utf-8")
            queries = db.execute(
                "SELECT q, at FROM probe_queries WHERE probe_run_id = ? AND instance_id = ? ORDER BY q",
                (run, iid)).fetchall()
            for q, at in queries:
                conts = [t for (t,) in db.execute(
                    "SELECT text FROM probe_continuations WHERE probe_run_id = ? AND instance_id = ? AND q = ? "
                    "ORDER BY k", (run, iid, q))]
                scores = {}
                for m, name, _, _ in models:
                    rows = db.execute(
                        "SELECT k, logprob, n_tokens FROM probe_scores WHERE probe_run_id = ? AND instance_id = ? "
                        "AND model_index = ? AND q = ? ORDER BY k", (run, iid, m, q)).fetchall()
                    scores[name] = {"logprob": [r[1] for r in rows], "n_tokens": [r[2] for r in rows]}
                # `at` is a byte offset; the prefix is cut on bytes, then decoded.
                out.write(json.dumps({"instance_id": iid, "task": task, "distance": distance, "idx": idx, "q": q,
                                      "prefix": raw[:at].decode("utf-8"), "continuations": conts,
                                      "lossgap": scores}) + "\n")
                n_lines += 1
    print(f"wrote {n_lines} queries of probe run {run} ({len(models)} models) to {args.out}")


def score(args):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    import transformers

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    with open(args.jsonl, encoding="utf-8") as f:
        header = json.loads(f.readline())
        records = [json.loads(line) for line in f]
    report = {"transformers": transformers.__version__, "torch": torch.__version__, "device": device,
              "probe_run_id": header["probe_run_id"], "tolerance_per_token": args.tolerance, "models": []}
    failed = False
    for model in header["models"]:
        t0 = time.time()
        tok = AutoTokenizer.from_pretrained(model["dir"])
        lm = AutoModelForCausalLM.from_pretrained(model["dir"], dtype=torch.float32,
                                                  attn_implementation="eager").to(device).eval()
        # One sequence per continuation: [BOS] + tokens of prefix + continuation.
        seqs = []  # (ids, first scored index, record index, k)
        token_mismatch = []
        for ri, r in enumerate(records):
            for k, c in enumerate(r["continuations"]):
                text = r["prefix"] + c
                enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
                ids, offs = enc["input_ids"], enc["offset_mapping"]
                start = len(r["prefix"])
                first = next(i for i, (a, b) in enumerate(offs) if b > start)
                if offs[first][0] != start:
                    token_mismatch.append((r["instance_id"], r["q"], k, "a token straddles the prefix's end"))
                n = len(ids) - first
                if n != r["lossgap"][model["name"]]["n_tokens"][k]:
                    token_mismatch.append((r["instance_id"], r["q"], k,
                                           f"{n} tokens, lossgap {r['lossgap'][model['name']]['n_tokens'][k]}"))
                if model["bos_id"] is not None:
                    ids = [model["bos_id"]] + ids
                    first += 1
                seqs.append((ids, first, ri, k))
        # Right padding needs no mask: a causal model's outputs at real positions do not see it.
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i][0]))
        got = [None] * len(seqs)
        with torch.no_grad():
            i = 0
            while i < len(order):
                batch = order[i:i + args.batch]
                i += len(batch)
                T = max(len(seqs[j][0]) for j in batch)
                x = torch.full((len(batch), T), seqs[batch[0]][0][0], dtype=torch.long)
                for b, j in enumerate(batch):
                    x[b, :len(seqs[j][0])] = torch.tensor(seqs[j][0])
                logits = lm(input_ids=x.to(device)).logits.float()
                logp = torch.log_softmax(logits, dim=-1)
                for b, j in enumerate(batch):
                    ids, first, _, _ = seqs[j]
                    tgt = torch.tensor(ids[first:], device=device)
                    pos = torch.arange(first - 1, len(ids) - 1, device=device)
                    got[j] = logp[b, pos, tgt].double().sum().item()
        worst, max_abs, max_per_token, n = None, 0.0, 0.0, 0
        per_task = {}
        for j, (ids, first, ri, k) in enumerate(seqs):
            r = records[ri]
            ours = r["lossgap"][model["name"]]["logprob"][k]
            d = abs(got[j] - ours)
            ntok = len(ids) - first
            n += 1
            per_task[r["task"]] = max(per_task.get(r["task"], 0.0), d)
            max_per_token = max(max_per_token, d / ntok)
            if d > max_abs:
                max_abs = d
                worst = {"instance_id": r["instance_id"], "task": r["task"], "distance": r["distance"], "q": r["q"],
                         "k": k, "transformers": got[j], "lossgap": ours, "tokens": ntok}
            if d > args.tolerance * ntok:
                failed = True
        entry = {"name": model["name"], "dir": model["dir"], "continuations": n, "max_abs_delta": max_abs,
                 "max_abs_delta_per_token": max_per_token, "max_abs_delta_by_task": per_task, "worst": worst,
                 "tokenization_mismatches": token_mismatch[:20], "n_tokenization_mismatches": len(token_mismatch),
                 "seconds": time.time() - t0}
        failed = failed or bool(token_mismatch)
        report["models"].append(entry)
        print(json.dumps(entry))
        del lm
    report["ok"] = not failed
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print("ok" if not failed else "FAILED: see " + args.out)
    return 0 if not failed else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="probe texts and lossgap's scores from a run store, as JSONL")
    e.add_argument("store")
    e.add_argument("--out", required=True)
    e.add_argument("--run", type=int, help="probe run id (default: the latest)")
    e.add_argument("--limit", type=int, default=0, help="at most this many instances per (task, distance)")
    s = sub.add_parser("score", help="score the exported texts with transformers and compare")
    s.add_argument("jsonl")
    s.add_argument("--out", required=True)
    s.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    s.add_argument("--batch", type=int, default=16)
    s.add_argument("--tolerance", type=float, default=1e-4, help="nats per token")
    args = ap.parse_args()
    if args.cmd == "export":
        export(args)
        return 0
    return score(args)


if __name__ == "__main__":
    sys.exit(main())
