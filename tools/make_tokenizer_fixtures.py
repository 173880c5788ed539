#!/usr/bin/env python3
"""Reference ids and offsets for lossgap's tokenizer tests, from Hugging Face.

Runs where transformers (5.x) and tokenizers are installed (the GPU machine):

    python3 tools/make_tokenizer_fixtures.py --shared .carry/tok --out $OUT/tokfix

1. Trains small tokenizers that follow each family's recipe where no genuine tokenizer.json is
   at hand (Llama-3 regex + ignore_merges + BOS template, Qwen2 NFC + regex, Qwen3.5 regex with
   \\p{M}, Metaspace + byte_fallback with BOS/EOS flags, BOS/EOS flag variants, and pipelines
   that use every supported normalizer / pre-tokenizer / added-token option). They are written
   to OUT/trained/<name>/ and committed as tests/fixtures/tokenizers/trained/<name>/.
2. For every genuine tokenizer directory under --shared and every trained one, encodes each
   text of tools/tokenizer_texts/ with
     - transformers: AutoTokenizer.from_pretrained(dir)(text, return_offsets_mapping=True)
       (the reference lossgap must match), with and without special tokens, and decode();
     - tokenizers: Tokenizer.from_file(dir/tokenizer.json).encode(text) (the raw pipeline of the
       file, without transformers' loading rules).
   Python offsets are character offsets; they are converted to UTF-8 byte offsets here.
   Writes OUT/expected/<name>.json with the library versions.
"""
import argparse
import glob
import json
import os
import platform
import sys

import tokenizers
import transformers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers, processors, trainers
from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
TEXTS = os.path.join(HERE, "tokenizer_texts")

LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
             r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
            r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN35_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}|"
             r" ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def read_texts():
    out = []
    for p in sorted(glob.glob(os.path.join(TEXTS, "*"))):
        if os.path.basename(p) == "README.md":
            continue
        with open(p, "rb") as f:
            out.append((os.path.basename(p), f.read().decode("utf-8")))
    return out


def training_corpus(texts):
    """The hard texts plus Python's own standard library sources: code and English prose that
    every machine with python3 has, so training is reproducible without downloads."""
    lines = []
    for _, t in texts:
        lines.extend(t.splitlines(keepends=True))
    libdir = os.path.dirname(os.__file__)
    total = 0
    for p in sorted(glob.glob(os.path.join(libdir, "*.py"))):
        with open(p, encoding="utf-8", errors="replace") as f:
            s = f.read()
        lines.extend(s.splitlines(keepends=True))
        total += len(s)
        if total > 3_000_000:
            break
    return lines


def added_markers():
    return [AddedToken("<sw>", single_word=True, special=False, normalized=False),
            AddedToken("[L]", lstrip=True, special=False, normalized=False),
            AddedToken("[R]", rstrip=True, special=False, normalized=False),
            AddedToken("normtok", normalized=True, special=False),
            AddedToken("<special>", special=True, normalized=False)]


def byte_level(regex, normalizer, specials, corpus, ignore_merges=False, vocab=3000):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=vocab, special_tokens=specials, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return tok


def metaspace_byte_fallback(corpus):
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=2500, special_tokens=["<unk>", "<s>", "</s>"], limit_alphabet=150,
        show_progress=False))
    # SentencePiece BPE files keep the 256 byte pieces <0x00>..<0xFF> right after the specials.
    j = json.loads(tok.to_str())
    old = sorted(j["model"]["vocab"].items(), key=lambda kv: kv[1])
    names = [k for k, _ in old[:3]] + ["<0x%02X>" % b for b in range(256)] + [k for k, _ in old[3:]]
    j["model"]["vocab"] = {k: i for i, k in enumerate(names)}
    j["added_tokens"] = [dict(a, id=j["model"]["vocab"][a["content"]]) for a in j["added_tokens"]]
    tok = Tokenizer.from_str(json.dumps(j))
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                     decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B:1", special_tokens=[("<s>", 1)])
    return tok


def plain_bpe(normalizer, pre, corpus, **model_kw):
    tok = Tokenizer(models.BPE(unk_token="[UNK]", **model_kw))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tkw = {k: v for k, v in model_kw.items() if k in ("continuing_subword_prefix", "end_of_word_suffix")}
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=2000, special_tokens=["[UNK]"], show_progress=False, **tkw))
    tok.add_tokens(added_markers())
    tok.add_special_tokens([AddedToken("<special>", special=True, normalized=False)])
    return tok


def train_all(texts, out_dir):
    corpus = training_corpus(texts)
    made = {}

    def save(name, tok, config):
        d = os.path.join(out_dir, "trained", name)
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump(config, f, indent=1, ensure_ascii=False)
        made[name] = d

    # Llama 3: regex split, ByteLevel, ignore_merges, BOS template in the file.
    t = byte_level(LLAMA3_RE, None, ["<|begin_of_text|>", "<|end_of_text|>",
                                     "<|reserved_special_token_0|>", "<|eot_id|>"], corpus,
                   ignore_merges=True)
    bos = t.token_to_id("<|begin_of_text|>")
    t.post_processor = processors.Sequence([
        processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True),
        processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                      pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    save("llama3", t, {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
                       "clean_up_tokenization_spaces": True,
                       "tokenizer_class": "PreTrainedTokenizerFast"})

    # Qwen2/3: NFC + single-digit regex, no BOS, class Qwen2Tokenizer.
    t = byte_level(QWEN2_RE, normalizers.NFC(), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], corpus)
    t.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    save("qwen2", t, {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
                      "add_prefix_space": False, "errors": "replace", "split_special_tokens": False,
                      "clean_up_tokenization_spaces": False, "tokenizer_class": "Qwen2Tokenizer"})

    # Qwen3.5: the regex with \p{M}; generic backend class.
    t = byte_level(QWEN35_RE, normalizers.NFC(), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], corpus)
    t.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    save("qwen35", t, {"bos_token": None, "eos_token": "<|endoftext|>",
                       "tokenizer_class": "TokenizersBackend"})

    # SentencePiece-style BPE (Mistral / Llama 2 recipe) with add_bos_token and add_eos_token.
    t = metaspace_byte_fallback(corpus)
    save("metaspace_bf", t, {"tokenizer_class": "LlamaTokenizer", "add_bos_token": True,
                             "add_eos_token": True, "bos_token": "<s>", "eos_token": "</s>",
                             "unk_token": "<unk>", "legacy": False})
    # The same file read without a class rebuild: Metaspace as written, file template.
    save("metaspace_raw", t, {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>",
                              "eos_token": "</s>", "unk_token": "<unk>"})

    # GPT-2-style ByteLevel(use_regex) with BOS/EOS flags from the config.
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    t.decoder = decoders.ByteLevel()
    t.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=1500, special_tokens=["<|bos|>", "<|eos|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    t.post_processor = processors.ByteLevel(trim_offsets=True)
    save("bos_eos_flags", t, {"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": True,
                              "add_eos_token": True, "bos_token": "<|bos|>", "eos_token": "<|eos|>"})
    save("bos_null", t, {"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": True,
                         "bos_token": None, "eos_token": "<|eos|>"})
    save("bytelevel_trim", t, {"tokenizer_class": "PreTrainedTokenizerFast",
                               "bos_token": "<|bos|>", "eos_token": "<|eos|>"})
    t2 = Tokenizer.from_str(t.to_str())
    t2.post_processor = processors.TemplateProcessing(
        single="<|bos|> $A <|eos|>", pair="<|bos|> $A <|eos|> $B:1 <|eos|>:1",
        special_tokens=[("<|bos|>", t.token_to_id("<|bos|>")), ("<|eos|>", t.token_to_id("<|eos|>"))])
    t2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    save("template_prefix_space", t2, {"tokenizer_class": "PreTrainedTokenizerFast",
                                       "bos_token": "<|bos|>", "eos_token": "<|eos|>"})

    # Every other normalizer and pre-tokenizer, with the added-token options.
    t = plain_bpe(normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(),
                                        normalizers.Lowercase(), normalizers.Strip(),
                                        normalizers.Replace(Regex(r"\s+"), " ")]),
                  pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                           pre_tokenizers.Punctuation("isolated"),
                                           pre_tokenizers.Digits(individual_digits=True)]),
                  corpus, continuing_subword_prefix="##", end_of_word_suffix="</w>")
    t.decoder = decoders.BPEDecoder(suffix="</w>")
    save("misc_nfkd_lower", t, {"tokenizer_class": "PreTrainedTokenizerFast"})

    t = plain_bpe(normalizers.NFKC(),
                  pre_tokenizers.Sequence([pre_tokenizers.Whitespace(),
                                           pre_tokenizers.Split(Regex(r"\d"), "merged_with_previous"),
                                           pre_tokenizers.Split("-", "merged_with_next"),
                                           pre_tokenizers.Punctuation("contiguous")]),
                  corpus)
    save("misc_nfkc_whitespace", t, {"tokenizer_class": "PreTrainedTokenizerFast"})

    t = plain_bpe(normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(),
                                        normalizers.Replace("\t", "    "),
                                        normalizers.Prepend("▁")]),
                  pre_tokenizers.Sequence([pre_tokenizers.Metaspace(prepend_scheme="always", split=True),
                                           pre_tokenizers.Split(Regex(r"[a-z]+"), "contiguous", invert=True),
                                           pre_tokenizers.Digits(individual_digits=False)]),
                  corpus)
    t.decoder = decoders.Metaspace(prepend_scheme="always")
    save("misc_nfd_metaspace", t, {"tokenizer_class": "PreTrainedTokenizerFast"})

    t = plain_bpe(normalizers.NFC(),
                  pre_tokenizers.Sequence([pre_tokenizers.BertPreTokenizer(),
                                           pre_tokenizers.CharDelimiterSplit("x"),
                                           pre_tokenizers.Split(Regex(r"(?i:th)"), "removed", invert=False)]),
                  corpus)
    save("misc_bert_delim", t, {"tokenizer_class": "PreTrainedTokenizerFast"})

    t = plain_bpe(normalizers.Strip(left=False, right=True),
                  pre_tokenizers.Sequence([pre_tokenizers.Metaspace(prepend_scheme="never", split=False),
                                           pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)]),
                  corpus)
    save("misc_metaspace_never_bytelevel", t, {"tokenizer_class": "PreTrainedTokenizerFast"})
    return made


def byte_offsets(text, offsets):
    b = [0]
    for ch in text:
        b.append(b[-1] + len(ch.encode("utf-8")))
    return [[b[s], b[e]] for s, e in offsets]


def effective_pipeline(tok):
    j = json.loads(tok.to_str())
    j["model"].pop("vocab", None)
    j["model"].pop("merges", None)
    return j


def reference(name, tdir, kind, texts):
    auto = AutoTokenizer.from_pretrained(tdir)
    raw = Tokenizer.from_file(os.path.join(tdir, "tokenizer.json"))
    cases = []
    for fname, text in texts:
        enc = auto(text, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        nos = list(auto(text, add_special_tokens=False)["input_ids"])
        r = raw.encode(text)
        rn = raw.encode(text, add_special_tokens=False)
        cases.append({
            "text_file": fname,
            "ids": ids,
            "offsets": byte_offsets(text, enc["offset_mapping"]),
            "ids_no_special": nos,
            "decode": auto.decode(ids),
            "decode_skip_special": auto.decode(ids, skip_special_tokens=True),
            "raw_ids": list(r.ids),
            "raw_offsets": byte_offsets(text, r.offsets),
            "raw_ids_no_special": list(rn.ids),
            "raw_decode": raw.decode(list(r.ids), skip_special_tokens=False),
        })
    return {
        "generator": "tools/make_tokenizer_fixtures.py",
        "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "python": platform.python_version()},
        "tokenizer": {"kind": kind, "name": name},
        "auto_class": type(auto).__name__,
        "effective_pipeline": effective_pipeline(auto.backend_tokenizer),
        "cases": cases,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", required=True, help="folder of genuine tokenizer dirs (data/tokenizers)")
    ap.add_argument("--out", required=True, help="output folder (trained/ and expected/)")
    args = ap.parse_args()
    texts = read_texts()
    made = train_all(texts, args.out)
    os.makedirs(os.path.join(args.out, "expected"), exist_ok=True)
    todo = [(n, os.path.join(args.shared, n), "shared")
            for n in sorted(os.listdir(args.shared))
            if os.path.isfile(os.path.join(args.shared, n, "tokenizer.json"))]
    todo += [(n, d, "trained") for n, d in sorted(made.items())]
    for name, d, kind in todo:
        try:
            ref = reference(name, d, kind, texts)
        except Exception as e:  # record and go on: one odd file must not cost the whole run
            ref = {"tokenizer": {"kind": kind, "name": name}, "error": repr(e)}
            print(f"{name}: {e!r}", file=sys.stderr)
        with open(os.path.join(args.out, "expected", name + ".json"), "w") as f:
            json.dump(ref, f, ensure_ascii=False)
        print(name, ref.get("auto_class", "ERROR"), file=sys.stderr)


if __name__ == "__main__":
    main()
