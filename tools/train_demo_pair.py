#!/usr/bin/env python3
"""Trains lossgap's bundled demo pair: a small Olmo 3 transformer and its Olmo Hybrid twin.

What it is: the whole recipe of models/demo/ in one script (project issue 6, "The pair"):
data preparation from the corpus train splits, the byte-level BPE tokenizer, both trainings
(same packed sequences in the same order, same batch, optimiser, schedule, steps and seed;
only the sequence mixer differs), evaluation (held-out train documents and the eval splits,
per domain), export (bf16 safetensors + tokenizer files) and MANIFEST.json.
What it is not: part of the C++ build or of CI. It needs torch, transformers 5.17 and
tokenizers, i.e. the GPU machine (docs/demo-models.md says how it was run).

Stages (subcommands):
  probe  checks the transformers classes, the tokenizer, the GDN training path and throughput
         (writes probe.json and the trained tokenizer to --out).
  train  prepares the data, trains (or reuses, --tokenizer) the tokenizer, measures both
         models' step time, picks the step count that fits --budget-s, trains both, evaluates
         and exports them to --out as split tar files plus MANIFEST.json.

Gated DeltaNet training path: without flash-linear-attention, transformers 5.17's olmo_hybrid
runs a pure-torch chunked gated delta rule (batched triangular solves, a loop over 64-token
chunks), fast enough here (probe: ~0.5 M tokens/s at batch 128 on an H200). `train` checks it,
outputs and gradients, against the step-wise recurrence before training and uses it; this
script's own `chunk_gated_delta_rule` (same equations, written independently) is the fallback
if that check fails (--gdn). Exported checkpoints are always evaluated with transformers' code.
"""

import argparse
import hashlib
import io
import json
import lzma
import math
import os
import platform
import re
import subprocess
import sys
import tarfile
import time

SPLIT_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
EOS = "<|endoftext|>"
PAD = "<|pad|>"
TRAIN_DOMAINS = ["books", "python", "latex", "html"]
EVAL_DOMAINS = ["books", "python", "latex", "html", "wiki", "science"]

# Every setting that changes the result. The manifest records this dict as used.
HP = {
    "seed": 20261126,
    "tokenizer": {
        "model": "BPE (byte-level, HF tokenizers BpeTrainer)",
        "vocab_size": 8192,
        "min_frequency": 2,
        "special_tokens": [EOS, PAD],
        "pre_tokenizer": "Sequence[Split(cl100k-style regex, behavior=removed, invert=true), "
                         "ByteLevel(add_prefix_space=false, trim_offsets=true, use_regex=false)]",
        "split_regex": SPLIT_REGEX,
        "decoder": "ByteLevel",
        "post_processor": None,
        "bos": None,
        "training_chars_per_domain": 12_000_000,
    },
    "data": {
        "train_domains": TRAIN_DOMAINS,
        "eval_domains": EVAL_DOMAINS,
        "heldout_fraction_of_chars": 0.01,
        "heldout_min_chars": 100_000,
        "document_separator": EOS + " appended after every document (no BOS)",
        "seq_len": 1024,
        "packing": "documents shuffled (seed), concatenated with EOS, cut into non-overlapping "
                   "1024-token sequences; sequence order reshuffled (seed) every epoch",
    },
    "model_common": {
        "vocab_size": 8192,
        "hidden_size": 256,
        "intermediate_size": 512,
        "num_hidden_layers": 8,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "hidden_act": "silu",
        "max_position_embeddings": 1024,
        "initializer_range": 0.02,
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
        "attention_bias": False,
        "attention_dropout": 0.0,
    },
    "olmo3": {
        "sliding_window": 512,
        "layer_types": (["sliding_attention"] * 3 + ["full_attention"]) * 2,
        "rope": "config default (rope_type default, rope_theta 500000, both layer types)",
    },
    "olmo_hybrid": {
        "layer_types": (["linear_attention"] * 3 + ["full_attention"]) * 2,
        "rope_parameters": {"rope_type": "default", "rope_theta": None},
        "linear_num_key_heads": 2,
        "linear_num_value_heads": 2,
        "linear_key_head_dim": 64,
        "linear_value_head_dim": 128,
        "linear_conv_kernel_dim": 4,
        "linear_allow_neg_eigval": True,
    },
    "optim": {
        "optimizer": "AdamW (torch, fused)",
        "batch_sequences": 128,
        "peak_lr": 3e-3,
        "betas": [0.9, 0.95],
        "eps": 1e-8,
        "weight_decay": 0.1,
        "weight_decay_applies_to": "matrices and conv kernels (ndim >= 2) except embed_tokens; "
                                   "not to norms, A_log, dt_bias, embeddings",
        "grad_clip_norm": 1.0,
        "schedule": "WSD: linear warmup, constant, linear decay to 0",
        "warmup_fraction": 0.05,
        "decay_fraction": 0.2,
        "precision": "fp32 master weights, bf16 autocast (torch.autocast cuda bfloat16)",
        "max_epochs": 4.0,
        "gdn_chunk_size": 64,
    },
}


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------

PART_RE = re.compile(r"[#,]part-(\d+)-of-(\d+)$")


def read_documents(path):
    """Documents of one corpus file, in file order, with split parts joined back.

    Returns a list of dicts {source, domain, text}; `source` has the part fragment removed.
    """
    docs = []
    with lzma.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            m = PART_RE.search(rec["source"])
            base = rec["source"][: m.start()] if m else rec["source"]
            if m and int(m.group(1)) > 1:
                prev = docs[-1]
                if prev["source"] != base:
                    raise ValueError(f"{path}: part {m.group(0)} of {base} does not follow its "
                                     f"previous part")
                prev["text"] += rec["text"]
            else:
                docs.append({"source": base, "domain": rec["domain"], "text": rec["text"]})
    return docs


def split_heldout(docs, seed, fraction, min_chars):
    """Holds out whole documents: those first in sha256(seed:source) order until the held-out
    text reaches max(fraction * domain chars, min_chars). Returns (train, heldout), each in the
    original order."""
    total = sum(len(d["text"]) for d in docs)
    target = max(fraction * total, min_chars)
    ranked = sorted(range(len(docs)),
                    key=lambda i: hashlib.sha256(f"{seed}:{docs[i]['source']}".encode()).hexdigest())
    held, n = set(), 0
    for i in ranked:
        if n >= target:
            break
        held.add(i)
        n += len(docs[i]["text"])
    return ([d for i, d in enumerate(docs) if i not in held],
            [d for i, d in enumerate(docs) if i in held])


def load_corpus(data_dir):
    """All train and eval documents: {"train": {dom: docs}, "heldout": {...}, "eval": {...}},
    plus the sha256 and size of every file read."""
    files = {}
    out = {"train": {}, "heldout": {}, "eval": {}}
    for dom in TRAIN_DOMAINS:
        p = os.path.join(data_dir, f"{dom}-train.jsonl.xz")
        docs = read_documents(p)
        files[os.path.basename(p)] = {"sha256": sha256_file(p), "bytes": os.path.getsize(p),
                                      "documents": len(docs)}
        tr, ho = split_heldout(docs, HP["seed"], HP["data"]["heldout_fraction_of_chars"],
                               HP["data"]["heldout_min_chars"])
        out["train"][dom], out["heldout"][dom] = tr, ho
    for dom in EVAL_DOMAINS:
        p = os.path.join(data_dir, f"{dom}-eval.jsonl.xz")
        docs = read_documents(p)
        files[os.path.basename(p)] = {"sha256": sha256_file(p), "bytes": os.path.getsize(p),
                                      "documents": len(docs)}
        out["eval"][dom] = docs
    return out, files


def corpus_summary(corpus):
    s = {}
    for split, by_dom in corpus.items():
        s[split] = {dom: {"documents": len(d), "chars": sum(len(x["text"]) for x in d),
                          "utf8_bytes": sum(len(x["text"].encode()) for x in d)}
                    for dom, d in by_dom.items()}
    s["heldout_sources"] = {dom: [d["source"] for d in docs]
                            for dom, docs in corpus["heldout"].items()}
    return s


# ----------------------------------------------------------------------------------------
# Tokenizer
# ----------------------------------------------------------------------------------------

def tokenizer_sample(corpus):
    """The tokenizer's training text: each domain's train documents in file order, up to
    training_chars_per_domain characters (html has fewer: all of it)."""
    cap = HP["tokenizer"]["training_chars_per_domain"]
    texts = []
    for dom in TRAIN_DOMAINS:
        n = 0
        for d in corpus["train"][dom]:
            if n >= cap:
                break
            t = d["text"][: cap - n]
            texts.append(t)
            n += len(t)
    return texts


def train_tokenizer(texts):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_REGEX), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=HP["tokenizer"]["vocab_size"], min_frequency=HP["tokenizer"]["min_frequency"],
        special_tokens=HP["tokenizer"]["special_tokens"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tok


def save_tokenizer(tok, out_dir):
    """tokenizer.json + tokenizer_config.json, loadable by AutoTokenizer (no BOS added)."""
    try:
        from transformers import PreTrainedTokenizerFast
    except ImportError:  # transformers v5 may only name it TokenizersBackend
        from transformers import TokenizersBackend as PreTrainedTokenizerFast
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD,
                                 model_max_length=HP["data"]["seq_len"],
                                 clean_up_tokenization_spaces=False)
    hf.save_pretrained(out_dir)
    # transformers writes a TemplateProcessing post-processor that adds nothing; keep the
    # tokenizer's own file instead (post_processor null, as Olmo's tokenizer.json).
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    return sorted(os.listdir(out_dir))


def load_tokenizer(tok_dir):
    from tokenizers import Tokenizer
    return Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))


def token_byte_lengths(tok):
    """UTF-8 bytes each id stands for (0 for special tokens): for bits per byte."""
    # ByteLevel's printable mapping (GPT-2 bytes_to_unicode), inverted.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    char_to_byte = {chr(c): b for b, c in zip(bs, cs)}
    special = set(HP["tokenizer"]["special_tokens"])
    lens = [0] * tok.get_vocab_size()
    for piece, i in tok.get_vocab().items():
        lens[i] = 0 if piece in special else len(piece)
        if piece not in special:
            assert all(ch in char_to_byte for ch in piece), piece
    return lens


def encode_documents(tok, docs, batch=256):
    """Token ids of each document (no special tokens), as numpy uint16 arrays."""
    import numpy as np
    out = []
    encode = getattr(tok, "encode_batch_fast", tok.encode_batch)
    for i in range(0, len(docs), batch):
        encs = encode([d["text"] for d in docs[i: i + batch]],
                                     add_special_tokens=False)
        out.extend(np.asarray(e.ids, dtype=np.uint16) for e in encs)
    return out


def pack(token_docs, eos_id, seq_len):
    """Concatenates documents (each followed by EOS) and cuts [N, seq_len] sequences; the
    incomplete tail is dropped. Returns (int64 tensor, tokens dropped)."""
    import numpy as np
    import torch
    eos = np.asarray([eos_id], dtype=np.uint16)
    stream = np.concatenate([x for d in token_docs for x in (d, eos)])
    n = len(stream) // seq_len
    return torch.from_numpy(stream[: n * seq_len].astype(np.int64).reshape(n, seq_len)), \
        len(stream) - n * seq_len


# ----------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------

def build_configs(vocab_size, eos_id, pad_id):
    from transformers import Olmo3Config, OlmoHybridConfig
    common = dict(HP["model_common"], vocab_size=vocab_size, eos_token_id=eos_id,
                  pad_token_id=pad_id, bos_token_id=None)
    o3 = Olmo3Config(**common, sliding_window=HP["olmo3"]["sliding_window"],
                     layer_types=list(HP["olmo3"]["layer_types"]))
    hy_keys = {k: v for k, v in HP["olmo_hybrid"].items() if k != "rope_parameters"}
    # Olmo Hybrid's release has no RoPE. transformers 5.17 fills a null rope_parameters with
    # rope_theta 10000 (RotaryEmbeddingConfigMixin), which would turn RoPE on; its model builds
    # no rotary embedding when rope_parameters["rope_theta"] is None, and that survives
    # save/reload, so this is how NoPE is written down (probe checks the round trip).
    try:
        hy = OlmoHybridConfig(**common, **hy_keys,
                              rope_parameters=dict(HP["olmo_hybrid"]["rope_parameters"]))
    except Exception as e:  # a validator that rejects rope_theta None: say so and stop
        raise RuntimeError(f"OlmoHybridConfig rejects rope_theta None: {e}") from e
    if (hy.rope_parameters or {}).get("rope_theta") is not None:
        raise RuntimeError(f"OlmoHybridConfig has rope_parameters={hy.rope_parameters}; "
                           f"expected no rope_theta (NoPE)")
    return {"olmo3": o3, "olmo_hybrid": hy}


def build_model(name, config, seed):
    import torch
    from transformers import Olmo3ForCausalLM, OlmoHybridForCausalLM
    torch.manual_seed(seed)
    cls = Olmo3ForCausalLM if name == "olmo3" else OlmoHybridForCausalLM
    model = cls(config)
    if name == "olmo_hybrid" and model.model.rotary_emb is not None:
        raise RuntimeError("olmo_hybrid model has a rotary embedding; expected NoPE")
    return model


def param_counts(model):
    emb = model.model.embed_tokens.weight.numel()
    head = model.lm_head.weight.numel()
    total = sum(p.numel() for p in model.parameters())
    mixer = 0
    for n, p in model.named_parameters():
        if ".self_attn." in n or ".linear_attn." in n:
            mixer += p.numel()
    return {"total": total, "embed_tokens": emb, "lm_head": head, "non_embedding": total - emb - head,
            "sequence_mixers": mixer}


def l2norm(x, eps=1e-6):
    import torch
    return x * torch.rsqrt((x * x).sum(dim=-1, keepdim=True) + eps)


def chunk_gated_delta_rule(query, key, value, g, beta, chunk_size=64, initial_state=None,
                           output_final_state=False, use_qk_l2norm_in_kernel=False, **kwargs):
    """Chunked gated delta rule (Yang et al. 2024, "Gated Delta Networks", §3; the WY form of
    transformers' torch_chunk_gated_delta_rule), in fp32 with the intra-chunk inverse
    (I + A)^-1 done by one batched unit-lower-triangular solve.

    query, key: [B, T, H, dk]; value: [B, T, H, dv]; g (log decay), beta: [B, T, H].
    Returns ([B, T, H, dv] in query's dtype, final state [B, H, dk, dv] or None).
    """
    import torch
    import torch.nn.functional as F
    out_dtype = query.dtype
    with torch.autocast("cuda", enabled=False):
        q, k, v, b, gg = [x.transpose(1, 2).float() for x in (query, key, value, beta, g)]
        if use_qk_l2norm_in_kernel:
            q, k = l2norm(q), l2norm(k)
        B, H, T, dk = k.shape
        dv = v.shape[-1]
        C = chunk_size
        pad = (C - T % C) % C
        q, k, v = [F.pad(x, (0, 0, 0, pad)) for x in (q, k, v)]  # [B, H, Tp, d]
        b, gg = F.pad(b, (0, pad)), F.pad(gg, (0, pad))  # [B, H, Tp]
        n = (T + pad) // C
        q = q * dk ** -0.5
        q, k, v = [x.reshape(B, H, n, C, x.shape[-1]) for x in (q, k, v)]  # [B, H, n, C, d]
        b, gg = b.reshape(B, H, n, C), gg.reshape(B, H, n, C)
        gc = gg.cumsum(-1)  # [B, H, n, C] cumulative log decay inside each chunk
        lower = torch.ones(C, C, dtype=torch.bool, device=q.device).tril()
        # decay[i, j] = exp(gc_i - gc_j) for j <= i, else 0: [B, H, n, C, C]
        decay = torch.where(lower, gc.unsqueeze(-1) - gc.unsqueeze(-2), float("-inf")).exp()
        kb = k * b.unsqueeze(-1)
        vb = v * b.unsqueeze(-1)
        strict = torch.ones(C, C, dtype=torch.bool, device=q.device).tril(-1)
        A = ((kb @ k.transpose(-1, -2)) * decay).masked_fill(~strict, 0.0)  # [B, H, n, C, C]
        eye = torch.eye(C, dtype=A.dtype, device=A.device)
        rhs = torch.cat([vb, kb * gc.exp().unsqueeze(-1)], dim=-1)  # [B, H, n, C, dv + dk]
        sol = torch.linalg.solve_triangular(A + eye, rhs, upper=False, unitriangular=True)
        u, w = sol[..., :dv], sol[..., dv:]  # u: [B, H, n, C, dv], w: [B, H, n, C, dk]
        qk = (q @ k.transpose(-1, -2)) * decay  # [B, H, n, C, C], causal incl. diagonal
        q_dec = q * gc.exp().unsqueeze(-1)  # [B, H, n, C, dk]
        k_dec = k * (gc[..., -1:] - gc).exp().unsqueeze(-1)  # [B, H, n, C, dk]
        chunk_decay = gc[..., -1].exp()  # [B, H, n]
        S = (torch.zeros(B, H, dk, dv, dtype=torch.float32, device=q.device)
             if initial_state is None else initial_state.float())  # [B, H, dk, dv]
        outs = []
        for i in range(n):
            v_new = u[:, :, i] - w[:, :, i] @ S  # [B, H, C, dv]
            outs.append(q_dec[:, :, i] @ S + qk[:, :, i] @ v_new)
            S = S * chunk_decay[:, :, i, None, None] + k_dec[:, :, i].transpose(-1, -2) @ v_new
        o = torch.stack(outs, dim=2).reshape(B, H, n * C, dv)[:, :, :T]
        o = o.transpose(1, 2).contiguous().to(out_dtype)  # [B, T, H, dv]
    return o, (S if output_final_state else None)


def gdn_check(T):
    """Transformers' chunked GDN fallback and this script's chunk_gated_delta_rule against the
    step-wise recurrence (transformers' torch_recurrent_gated_delta_rule): max abs differences
    of the output and of the gradients of every input, fp32, TF32 off, B=2, H=2, dk=64, dv=128."""
    import torch
    import torch.nn.functional as F
    from transformers.models.olmo_hybrid import modeling_olmo_hybrid as mh
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    gen = torch.Generator(device="cuda").manual_seed(0)
    B, H, dk, dv = 2, 2, 64, 128

    def rnd(*shape):
        return torch.randn(*shape, device="cuda", generator=gen)

    base = [rnd(B, T, H, dk), rnd(B, T, H, dk), rnd(B, T, H, dv),
            -torch.rand(H, device="cuda", generator=gen).mul(3).exp() * F.softplus(rnd(B, T, H)),
            2 * torch.rand(B, T, H, device="cuda", generator=gen)]
    w = rnd(B, T, H, dv)
    got = {}
    for nm, fn in (("recurrent", mh.torch_recurrent_gated_delta_rule),
                   ("transformers_chunk", mh.torch_chunk_gated_delta_rule),
                   ("script_chunk", chunk_gated_delta_rule)):
        ins = [t.clone().requires_grad_(True) for t in base]
        o, _ = fn(ins[0], ins[1], ins[2], g=ins[3], beta=ins[4], use_qk_l2norm_in_kernel=True)
        (o * w).sum().backward()
        got[nm] = [o.detach()] + [t.grad.detach() for t in ins]
    torch.backends.cuda.matmul.allow_tf32 = tf32
    names = ["out", "d_q", "d_k", "d_v", "d_g", "d_beta"]
    res = {"T": T, "max_abs_reference": {n: got["recurrent"][i].abs().max().item()
                                         for i, n in enumerate(names)}}
    for nm in ("transformers_chunk", "script_chunk"):
        res[nm + "_vs_recurrent"] = {n: (got[nm][i] - got["recurrent"][i]).abs().max().item()
                                     for i, n in enumerate(names)}
    return res


def use_script_gdn():
    """Routes transformers' olmo_hybrid GDN layers through chunk_gated_delta_rule (the layer's
    forward calls the module-level torch_chunk_gated_delta_rule). Training only."""
    from transformers.models.olmo_hybrid import modeling_olmo_hybrid as mh
    mh.torch_chunk_gated_delta_rule = chunk_gated_delta_rule


# ----------------------------------------------------------------------------------------
# Training and evaluation
# ----------------------------------------------------------------------------------------

def lr_at(step, steps, peak):
    warm = max(1, round(HP["optim"]["warmup_fraction"] * steps))
    decay = max(1, round(HP["optim"]["decay_fraction"] * steps))
    if step < warm:
        return peak * (step + 1) / warm
    if step < steps - decay:
        return peak
    return peak * (steps - step) / decay


def make_optimizer(model):
    import torch
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if p.ndim >= 2 and "embed_tokens" not in n else no_decay).append(p)
    o = HP["optim"]
    return torch.optim.AdamW([{"params": decay, "weight_decay": o["weight_decay"]},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=o["peak_lr"], betas=tuple(o["betas"]), eps=o["eps"], fused=True)


def train_step(model, opt, x, lr):
    import torch
    import torch.nn.functional as F
    for grp in opt.param_groups:
        grp["lr"] = lr
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logits = model(input_ids=x, use_cache=False).logits  # [B, T, V]
    loss = F.cross_entropy(logits[:, :-1].float().flatten(0, 1), x[:, 1:].flatten())
    loss.backward()
    gn = torch.nn.utils.clip_grad_norm_(model.parameters(), HP["optim"]["grad_clip_norm"])
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss.detach(), gn.detach()


def time_steps(name, config, data, batch, n_warm=3, n_timed=8):
    """Seconds per training step of a throwaway model on real batches."""
    import torch
    model = build_model(name, config, HP["seed"]).cuda()
    opt = make_optimizer(model)
    for i in range(n_warm):
        train_step(model, opt, data[i * batch:(i + 1) * batch].cuda(), 1e-4)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(n_timed):
        train_step(model, opt, data[i * batch:(i + 1) * batch].cuda(), 1e-4)
    torch.cuda.synchronize()
    dt = (time.perf_counter() - t0) / n_timed
    mem = torch.cuda.max_memory_allocated() / 2**30
    del model, opt
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return dt, mem


def evaluate(model, seqs, byte_lens, batch=32, autocast=True):
    """Mean next-token NLL (nats) over every position of packed sequences [N, T] (the first
    token of a sequence is never a target) and bits per UTF-8 byte of the targets."""
    import torch
    import torch.nn.functional as F
    if len(seqs) == 0:
        return None
    model.eval()
    table = torch.tensor(byte_lens, dtype=torch.float64, device="cuda")  # [V]
    nll, ntok, nbytes = 0.0, 0, 0.0
    with torch.no_grad():
        for i in range(0, len(seqs), batch):
            x = seqs[i:i + batch].cuda()
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
                logits = model(input_ids=x, use_cache=False).logits
            tgt = x[:, 1:]
            nll += F.cross_entropy(logits[:, :-1].float().flatten(0, 1), tgt.flatten(),
                                   reduction="sum").item()
            ntok += tgt.numel()
            nbytes += table[tgt].sum().item()
    model.train()
    return {"loss": nll / ntok, "tokens": ntok, "bytes": int(nbytes),
            "bits_per_byte": nll / math.log(2) / nbytes if nbytes else None}


def versions():
    import tokenizers
    import torch
    import transformers
    v = {"python": platform.python_version(), "torch": torch.__version__,
         "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
         "cuda": torch.version.cuda,
         "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    try:
        import numpy
        v["numpy"] = numpy.__version__
    except ImportError:
        pass
    try:
        from transformers.utils.import_utils import is_flash_linear_attention_available
        v["flash_linear_attention"] = bool(is_flash_linear_attention_available())
    except ImportError:
        v["flash_linear_attention"] = None
    return v


def export_checkpoint(name, model, tok, out_dir):
    """Writes config.json, generation_config.json, model.safetensors (bf16) and the tokenizer
    files. The model's parameters become bf16 in place (buffers such as RoPE inv_freq stay fp32).

    transformers 5.17 loads Olmo Hybrid's separate q/k/v_conv1d tensors into one fused conv1d
    and, on save_pretrained, splits it back into three EQUAL parts (e.g. 171/171/170 channels
    instead of 128/128/256) and renames the GDN layers' norms. So the olmo_hybrid weights file
    is written here in the released checkpoints' layout (hf-architectures.md §2.5): q_conv1d
    [Hk*dk, 1, K], k_conv1d [Hk*dk, 1, K], v_conv1d [Hv*dv, 1, K], module names otherwise.
    Returns a one-line description of the layout written."""
    import torch
    from safetensors.torch import save_file
    with torch.no_grad():
        for p in model.parameters():
            p.data = p.data.to(torch.bfloat16)
    model.save_pretrained(out_dir)
    layout = "transformers save_pretrained"
    if name == "olmo_hybrid":
        c = model.config
        kd = c.linear_num_key_heads * c.linear_key_head_dim
        vd = c.linear_num_value_heads * c.linear_value_head_dim
        tensors = {}
        for k, v in model.state_dict().items():
            v = v.detach().to("cpu").contiguous()
            if k.endswith(".linear_attn.conv1d.weight"):
                stem = k[: -len("conv1d.weight")]
                q, kk, vv = torch.split(v, [kd, kd, vd], dim=0)  # conv channels in [q | k | v] order
                tensors[stem + "q_conv1d.weight"] = q.contiguous()
                tensors[stem + "k_conv1d.weight"] = kk.contiguous()
                tensors[stem + "v_conv1d.weight"] = vv.contiguous()
            else:
                tensors[k] = v
        for f in os.listdir(out_dir):
            if f.endswith(".safetensors") or f.endswith(".safetensors.index.json"):
                os.remove(os.path.join(out_dir, f))
        save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
        layout = ("released Olmo-Hybrid layout written by this script (q/k/v_conv1d split "
                  f"{kd}/{kd}/{vd}; module names otherwise)")
    save_tokenizer(tok, out_dir)
    return layout


def safetensors_index(path):
    """{tensor name: [dtype, shape]} from a safetensors header."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    return {k: [v["dtype"], v["shape"]] for k, v in header.items() if k != "__metadata__"}


def write_parts(src_dir, out_dir, name, part_bytes=15 * 2**20):
    """tar of src_dir written as name.tar.part-00, -01, ... (the device returns files of at
    most 16 MiB)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        tf.add(src_dir, arcname=name)
    data = buf.getvalue()
    parts = []
    for i in range(0, len(data), part_bytes):
        p = os.path.join(out_dir, f"{name}.tar.part-{i // part_bytes:02d}")
        with open(p, "wb") as f:
            f.write(data[i:i + part_bytes])
        parts.append(os.path.basename(p))
    return {"parts": parts, "tar_sha256": hashlib.sha256(data).hexdigest(), "tar_bytes": len(data)}


# ----------------------------------------------------------------------------------------
# Stages
# ----------------------------------------------------------------------------------------

def stage_probe(args):
    """Checks before training (under a minute on an H200): classes and configs, NoPE spelling,
    tokenizer training and AutoTokenizer parity, GDN chunk paths vs the recurrence, export and
    reload, step times."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.models.olmo_hybrid import modeling_olmo_hybrid as mh
    t_start = time.time()
    res = {"versions": versions()}
    log("versions", res["versions"])
    os.makedirs(args.out, exist_ok=True)

    corpus, files = load_corpus(args.data)
    res["files"] = files
    res["corpus"] = {k: v for k, v in corpus_summary(corpus).items() if k != "heldout_sources"}
    log("corpus read", time.time() - t_start)

    t0 = time.time()
    tok = train_tokenizer(tokenizer_sample(corpus))
    res["tokenizer_train_s"] = time.time() - t0
    tok_dir = os.path.join(args.out, "tokenizer")
    res["tokenizer_files"] = save_tokenizer(tok, tok_dir)
    log("tokenizer trained", res["tokenizer_train_s"], "vocab", tok.get_vocab_size())
    with open(os.path.join(tok_dir, "tokenizer_config.json")) as f:
        res["tokenizer_config"] = json.load(f)
    with open(os.path.join(tok_dir, "tokenizer.json")) as f:
        tj = json.load(f)
    res["tokenizer_json_head"] = {k: tj[k] for k in ("normalizer", "pre_tokenizer", "post_processor",
                                                     "decoder", "added_tokens")}
    res["tokenizer_json_model"] = {k: v for k, v in tj["model"].items() if k not in ("vocab", "merges")}
    auto = AutoTokenizer.from_pretrained(tok_dir)
    res["auto_tokenizer_class"] = type(auto).__name__
    samples = [d["text"][:3000] for dom in EVAL_DOMAINS for d in corpus["eval"][dom][:3]]
    samples += ["Hello world", "I'll've 12345 don't\r\n\n  x", "  leading\tspaces\u00a0é漢字 🙂"]
    mism = 0
    for s in samples:
        a = auto(s)["input_ids"]
        b = tok.encode(s, add_special_tokens=False).ids
        mism += a != b
        if auto.decode(a) != s:
            mism += 1
    res["auto_tokenizer_mismatches"] = mism
    res["auto_tokenizer_hello"] = auto("Hello world")["input_ids"]
    res["special_ids"] = {"eos": tok.token_to_id(EOS), "pad": tok.token_to_id(PAD)}
    # Bytes per token on 2 MB of each train domain, to size the data.
    bpt = {}
    for dom in TRAIN_DOMAINS:
        docs, n = [], 0
        for d in corpus["train"][dom]:
            docs.append(d)
            n += len(d["text"].encode())
            if n > 2_000_000:
                break
        ids = encode_documents(tok, docs)
        bpt[dom] = n / sum(len(x) for x in ids)
    res["bytes_per_token"] = bpt
    res["est_train_tokens"] = sum(res["corpus"]["train"][d]["utf8_bytes"] / bpt[d] for d in TRAIN_DOMAINS)
    log("bytes/token", bpt, "est tokens", res["est_train_tokens"])

    # How each way of writing "no RoPE" comes out of OlmoHybridConfig, and after a JSON round trip.
    from transformers import OlmoHybridConfig
    common = dict(HP["model_common"], vocab_size=tok.get_vocab_size(), eos_token_id=0, pad_token_id=1)
    variants = {"rope_parameters_theta_none": {"rope_parameters": {"rope_type": "default",
                                                                   "rope_theta": None}},
                "rope_theta_kwarg_none": {"rope_parameters": None, "rope_theta": None},
                "rope_parameters_none": {"rope_parameters": None}}
    res["nope_variants"] = {}
    for vn, kw in variants.items():
        try:
            c = OlmoHybridConfig(**common, layer_types=list(HP["olmo_hybrid"]["layer_types"]), **kw)
            c2 = OlmoHybridConfig.from_dict(json.loads(c.to_json_string()))
            res["nope_variants"][vn] = {"rope_parameters": c.rope_parameters,
                                        "after_json_round_trip": c2.rope_parameters}
        except Exception as e:
            res["nope_variants"][vn] = {"error": repr(e)}
    log("nope variants", res["nope_variants"])

    res["gdn_check"] = gdn_check(T=130)
    log("gdn check", res["gdn_check"])

    # Configs and models.
    try:
        cfgs = build_configs(tok.get_vocab_size(), tok.token_to_id(EOS), tok.token_to_id(PAD))
    except RuntimeError as e:
        res["build_configs_error"] = repr(e)
        with open(os.path.join(args.out, "probe.json"), "w") as f:
            json.dump(res, f, indent=1, default=str)
        raise
    res["configs"] = {k: json.loads(c.to_json_string()) for k, c in cfgs.items()}
    models = {k: build_model(k, c, HP["seed"]) for k, c in cfgs.items()}
    res["param_counts"] = {k: param_counts(m) for k, m in models.items()}
    res["olmo3_rotary"] = {n: list(b.shape) for n, b in models["olmo3"].model.rotary_emb.named_buffers()}
    res["olmo3_attn_impl"] = models["olmo3"].config._attn_implementation
    res["hybrid_rotary_is_none"] = models["olmo_hybrid"].model.rotary_emb is None
    log("params", res["param_counts"])

    # Export / reload round trip (config keys, NoPE kept, tensor layout, logits equal).
    rt = {}
    x = torch.randint(0, tok.get_vocab_size(), (2, 300))
    for k, m in models.items():
        d = os.path.join("/tmp/probe_rt", k)
        layout = export_checkpoint(k, m, tok, d)
        for p in m.parameters():  # the exported (bf16-rounded) weights, computed in fp32
            p.data = p.data.float()
        r, loading = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, output_loading_info=True)
        with torch.no_grad():
            diff = (m(input_ids=x, use_cache=False).logits - r(input_ids=x, use_cache=False).logits)
        st = os.path.join(d, "model.safetensors")
        rt[k] = {"layout": layout, "files": sorted(os.listdir(d)), "class": type(r).__name__,
                 "loading_info": {n: [str(v) for v in vals] for n, vals in dict(loading).items()},
                 "max_logit_diff": diff.abs().max().item(),
                 "rotary_none": getattr(r.model, "rotary_emb", "absent") is None,
                 "config_json": json.load(open(os.path.join(d, "config.json"))),
                 "safetensors_bytes": os.path.getsize(st), "tensors": safetensors_index(st)}
    res["roundtrip"] = rt
    log("roundtrip", {k: (v["max_logit_diff"], v["rotary_none"], v["safetensors_bytes"])
                      for k, v in rt.items()})

    # Step times on real packed data.
    docs = [d for dom in TRAIN_DOMAINS for d in corpus["train"][dom][:40]]
    seqs, _ = pack(encode_documents(tok, docs), tok.token_to_id(EOS), HP["data"]["seq_len"])
    log("timing data", seqs.shape)
    timing = {}
    hf_chunk = mh.torch_chunk_gated_delta_rule
    for nm, batch, gdn in (("olmo3", 64, None), ("olmo_hybrid", 64, "transformers"),
                           ("olmo_hybrid", 64, "script"), ("olmo3", 128, None),
                           ("olmo_hybrid", 128, "transformers")):
        if (batch * 11) > len(seqs):
            continue
        mh.torch_chunk_gated_delta_rule = chunk_gated_delta_rule if gdn == "script" else hf_chunk
        dt, mem = time_steps(nm, cfgs[nm], seqs, batch)
        key = f"{nm}_b{batch}" + (f"_gdn_{gdn}" if gdn else "")
        timing[key] = {"s_per_step": dt, "tok_per_s": batch * HP['data']['seq_len'] / dt, "max_mem_gib": mem}
        log("timing", key, timing[key])
    mh.torch_chunk_gated_delta_rule = hf_chunk
    res["timing"] = timing
    res["wall_s"] = time.time() - t_start
    res["transformers_file"] = transformers.__file__
    with open(os.path.join(args.out, "probe.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    log("probe done", res["wall_s"])


def stage_train(args):
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM
    t_start = time.time()
    deadline = t_start + args.budget_s
    from transformers.models.olmo_hybrid import modeling_olmo_hybrid as mh
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    os.makedirs(args.out, exist_ok=True)
    hf_chunk = mh.torch_chunk_gated_delta_rule
    man = {"script": "tools/train_demo_pair.py", "command": " ".join(sys.argv),
           "hyperparameters": HP, "versions": versions()}
    try:
        head = subprocess.run(["git", "rev-parse", "--verify", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        man["script_git_commit"] = head if re.fullmatch(r"[0-9a-f]{40}", head) else None
    except OSError:
        man["script_git_commit"] = None
    man["script_sha256"] = sha256_file(__file__)
    log("versions", man["versions"])
    man["gdn_check"] = gdn_check(T=200)
    log("gdn check", man["gdn_check"])
    ok = {p: max(man["gdn_check"][p + "_chunk_vs_recurrent"].values()) <= 1e-4
          for p in ("transformers", "script")}
    gdn = args.gdn if args.gdn != "auto" else ("transformers" if ok["transformers"] else "script")
    if not ok[gdn]:
        raise RuntimeError(f"the {gdn} GDN chunk path differs from the recurrence: {man['gdn_check']}")
    if gdn == "script":
        use_script_gdn()
    gdn_path = {"transformers": "transformers' torch_chunk_gated_delta_rule (torch fallback, no fla)",
                "script": "this script's chunk_gated_delta_rule"}[gdn]
    man["gdn_training_path"] = gdn_path

    # Data.
    corpus, files = load_corpus(args.data)
    man["data_files"] = files
    man["corpus"] = corpus_summary(corpus)
    log("corpus read", round(time.time() - t_start, 1))
    if args.tokenizer:
        tok = load_tokenizer(args.tokenizer)
        man["tokenizer_origin"] = ("reused from the probe stage of this script (same sample and "
                                   "settings): " + args.tokenizer)
    else:
        t0 = time.time()
        tok = train_tokenizer(tokenizer_sample(corpus))
        man["tokenizer_origin"] = f"trained in this run ({time.time() - t0:.1f} s)"
    tok_dir = os.path.join("/tmp/demo_tokenizer")
    save_tokenizer(tok, tok_dir)
    man["tokenizer_json_sha256"] = sha256_file(os.path.join(tok_dir, "tokenizer.json"))
    eos_id, pad_id = tok.token_to_id(EOS), tok.token_to_id(PAD)
    byte_lens = token_byte_lengths(tok)
    seq_len = HP["data"]["seq_len"]

    t0 = time.time()
    train_docs = [d for dom in TRAIN_DOMAINS for d in corpus["train"][dom]]
    rng = np.random.default_rng(HP["seed"])
    perm = rng.permutation(len(train_docs))
    train_ids = encode_documents(tok, [train_docs[i] for i in perm])
    train_seqs, dropped = pack(train_ids, eos_id, seq_len)
    val, evals, data_stats = {}, {}, {"train_tokens_packed": int(train_seqs.numel()),
                                      "train_sequences": int(train_seqs.shape[0]),
                                      "train_tokens_dropped_tail": int(dropped),
                                      "train_tokens_by_domain": {}}
    for dom in TRAIN_DOMAINS:
        data_stats["train_tokens_by_domain"][dom] = int(sum(
            len(train_ids[j]) for j, i in enumerate(perm) if train_docs[i]["domain"] == dom))
        val[dom], _ = pack(encode_documents(tok, corpus["heldout"][dom]), eos_id, seq_len)
    for dom in EVAL_DOMAINS:
        evals[dom], _ = pack(encode_documents(tok, corpus["eval"][dom]), eos_id, seq_len)
    data_stats["heldout_sequences"] = {d: int(v.shape[0]) for d, v in val.items()}
    data_stats["eval_sequences"] = {d: int(v.shape[0]) for d, v in evals.items()}
    data_stats["tokenize_s"] = time.time() - t0
    man["data"] = data_stats
    del corpus, train_ids, train_docs
    log("data", data_stats)
    val_mix = torch.cat([v[:16] for v in val.values()])  # periodic check during training

    cfgs = build_configs(tok.get_vocab_size(), eos_id, pad_id)
    batch = HP["optim"]["batch_sequences"]
    gpu_seqs = train_seqs.cuda()

    # Dry run: step time of each model, then the common step count (or --steps as given).
    reserve = args.reserve_s
    avail = deadline - time.time() - reserve
    steps_epochs = int(HP["optim"]["max_epochs"] * train_seqs.shape[0] / batch)
    if args.steps:
        steps, limited_by, dry = args.steps, "given (--steps)", None
    else:
        dry = {}
        for nm in ("olmo3", "olmo_hybrid"):
            dt, mem = time_steps(nm, cfgs[nm], train_seqs, batch)
            dry[nm] = {"s_per_step": dt, "max_mem_gib": mem}
        avail = deadline - time.time() - reserve
        per_pair = sum(dry[nm]["s_per_step"] for nm in args.models)
        steps_time = int(0.92 * avail / per_pair)
        steps = min(steps_time, steps_epochs)
        limited_by = "time" if steps == steps_time else "epochs"
    man["dry_run"] = dry
    man["steps"] = {"steps": steps, "limited_by": limited_by,
                    "budget_s": args.budget_s, "reserve_s": reserve, "available_s": avail,
                    "tokens_per_step": batch * seq_len, "tokens": steps * batch * seq_len,
                    "epochs": steps * batch / train_seqs.shape[0]}
    log("dry run", dry, "steps", man["steps"])

    # Data order: one list of sequence indices, the same for both models.
    n_seq = train_seqs.shape[0]
    order_rng = np.random.default_rng(HP["seed"] + 1)
    need = steps * batch
    order = np.concatenate([order_rng.permutation(n_seq) for _ in range(need // n_seq + 1)])[:need]
    order_t = torch.from_numpy(order).cuda()
    man["data_order_sha256"] = hashlib.sha256(order.astype(np.int64).tobytes()).hexdigest()

    man["models"] = {}
    out_names = {"olmo3": "olmo3-small", "olmo_hybrid": "olmo-hybrid-small"}
    for nm in args.models:
        info = {}
        model = build_model(nm, cfgs[nm], HP["seed"]).cuda()
        if nm == "olmo_hybrid":
            info["gdn_training_path"] = gdn_path
        info["param_counts"] = param_counts(model)
        opt = make_optimizer(model)
        curve, val_curve = [], []
        acc = torch.zeros((), device="cuda")
        acc_n = 0
        every = max(1, steps // 100)
        val_every = max(1, steps // 8)
        torch.cuda.synchronize()
        t0 = time.time()
        for step in range(steps):
            x = gpu_seqs[order_t[step * batch:(step + 1) * batch]]
            loss, gn = train_step(model, opt, x, lr_at(step, steps, HP["optim"]["peak_lr"]))
            acc += loss
            acc_n += 1
            if (step + 1) % every == 0 or step == steps - 1:
                curve.append({"step": step + 1, "loss": (acc / acc_n).item(), "grad_norm": gn.item(),
                              "lr": lr_at(step, steps, HP["optim"]["peak_lr"]),
                              "t": time.time() - t0})
                acc.zero_()
                acc_n = 0
                if not math.isfinite(curve[-1]["loss"]):
                    raise RuntimeError(f"{nm}: loss is not finite at step {step + 1}")
            if (step + 1) % val_every == 0 or step == steps - 1:
                val_curve.append({"step": step + 1, **evaluate(model, val_mix, byte_lens)})
                log(nm, "step", step + 1, "train", round(curve[-1]["loss"], 4),
                    "val", round(val_curve[-1]["loss"], 4), "t", round(time.time() - t0, 1))
        torch.cuda.synchronize()
        info["train_wall_s"] = time.time() - t0
        tail = curve[-max(1, len(curve) // 20):]
        info["final_train_loss"] = sum(c["loss"] * 1 for c in tail) / len(tail)
        info["final_train_loss_definition"] = (f"mean of the last {len(tail)} logged train losses "
                                               f"(each the mean over {every} steps)")
        info["curve"] = curve
        info["val_curve_mixed_subset"] = val_curve
        info["val_training_view"] = {d: evaluate(model, v, byte_lens) for d, v in val.items()}

        # Export in bf16, then evaluate the exported checkpoint with transformers' own code in fp32.
        out_dir = os.path.join("/tmp/demo_export", out_names[nm])
        del opt
        mh.torch_chunk_gated_delta_rule = hf_chunk
        info["checkpoint_layout"] = export_checkpoint(nm, model, tok, out_dir)
        info["checkpoint_tensors"] = safetensors_index(os.path.join(out_dir, "model.safetensors"))
        torch.cuda.empty_cache()
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        for p in model.parameters():  # the exported (bf16-rounded) weights, computed in fp32
            p.data = p.data.float()
        rel, loading = AutoModelForCausalLM.from_pretrained(out_dir, dtype=torch.float32,
                                                            output_loading_info=True)
        rel = rel.cuda()
        loading = dict(loading) if isinstance(loading, dict) else {"info": [str(loading)]}
        info["reload_loading_info"] = {k: [str(x) for x in v] for k, v in loading.items()}
        x = val_mix[:4].cuda()
        with torch.no_grad():
            diff = (model(input_ids=x, use_cache=False).logits
                    - rel(input_ids=x, use_cache=False).logits).abs().max().item()
        info["reload_max_logit_diff_vs_trained_weights"] = diff
        if any(loading.get(k) for k in ("missing_keys", "unexpected_keys", "mismatched_keys")) or diff > 1e-4:
            log(nm, "RELOAD CHECK FAILED", info["reload_loading_info"], diff)
        del model
        if nm == "olmo_hybrid" and rel.model.rotary_emb is not None:
            raise RuntimeError("exported olmo_hybrid reloads with RoPE")
        info["reloaded_class"] = type(rel).__name__
        info["heldout"] = {d: evaluate(rel, v, byte_lens, autocast=False) for d, v in val.items()}
        info["eval_splits"] = {d: evaluate(rel, v, byte_lens, autocast=False) for d, v in evals.items()}
        for key in ("heldout", "eval_splits"):
            tot = sum(r["loss"] * r["tokens"] for r in info[key].values())
            ntok = sum(r["tokens"] for r in info[key].values())
            info[key + "_all"] = {"loss": tot / ntok, "tokens": ntok}
        info["evaluation"] = ("exported bf16 checkpoint reloaded by AutoModelForCausalLM in fp32, "
                              "transformers' own forward (torch GDN fallback), TF32 off")
        del rel
        torch.cuda.empty_cache()
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        if gdn == "script":
            use_script_gdn()
        info["files"] = {f: {"bytes": os.path.getsize(os.path.join(out_dir, f)),
                             "sha256": sha256_file(os.path.join(out_dir, f))}
                         for f in sorted(os.listdir(out_dir))}
        info["transfer"] = write_parts(out_dir, args.out, out_names[nm])
        man["models"][out_names[nm]] = info
        log(nm, "done: heldout", {d: round(r["loss"], 4) for d, r in info["heldout"].items()},
            "eval", {d: round(r["loss"], 4) for d, r in info["eval_splits"].items()})
        with open(os.path.join(args.out, "MANIFEST.json"), "w") as f:
            json.dump(man, f, indent=1)
    man["total_wall_s"] = time.time() - t_start
    with open(os.path.join(args.out, "MANIFEST.json"), "w") as f:
        json.dump(man, f, indent=1)
    log("all done", man["total_wall_s"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="stage", required=True)
    p = sub.add_parser("probe", help="checks and timings (device call 1)")
    p.add_argument("--data", required=True, help="folder with the corpus *.jsonl.xz files")
    p.add_argument("--out", required=True)
    t = sub.add_parser("train", help="data, tokenizer, both trainings, evaluation, export")
    t.add_argument("--data", required=True, help="folder with the corpus *.jsonl.xz files")
    t.add_argument("--out", required=True)
    t.add_argument("--tokenizer", help="folder with a tokenizer.json made by the probe stage")
    t.add_argument("--budget-s", type=float, default=540.0,
                   help="wall-clock budget of the whole stage; the step count is fitted to it")
    t.add_argument("--reserve-s", type=float, default=70.0,
                   help="seconds kept for evaluation and export of both models")
    t.add_argument("--gdn", choices=["auto", "transformers", "script"], default="auto",
                   help="GDN chunked path for training; auto: transformers' unless it fails the "
                        "check against the recurrence (evaluation always uses transformers')")
    t.add_argument("--steps", type=int, default=0,
                   help="train exactly this many steps (0: fit the step count to --budget-s)")
    t.add_argument("--models", nargs="+", choices=["olmo3", "olmo_hybrid"],
                   default=["olmo3", "olmo_hybrid"], help="which of the pair to train, in order")
    args = ap.parse_args()
    {"probe": stage_probe, "train": stage_train}[args.stage](args)


if __name__ == "__main__":
    main()
