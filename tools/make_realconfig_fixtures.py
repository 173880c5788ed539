#!/usr/bin/env python3
"""Expected tensor names and shapes of the real released checkpoints whose config.json files sit
in ../shared/data/configs/<org>__<model>/, for tests/unit/model_realconfigs.cpp.

For each config: transformers (5.17 on the GPU machine) builds the model on the meta device
(`with torch.device("meta"): AutoModelForCausalLM.from_config(cfg)`, no memory, no weights), takes
its state_dict, and maps it back to the checkpoint layout with transformers' own
`revert_weight_conversion` (what `save_pretrained` does): 5.17 fuses MoE experts into [E, ...]
tensors and renames some prefixes when it loads; the released files store one tensor per expert
under the released names. Names that repeat per expert are folded: `.experts.<e>.` becomes
`.experts.{e}.` with the number of experts recorded once per name. Not a loader test: nothing is
read but config.json.

Run on a machine with transformers (no network needed):
  python3 tools/make_realconfig_fixtures.py --configs ../shared/data/configs \
      --out tests/fixtures/realconfigs/expected.json
"""
import argparse
import hashlib
import json
import pathlib
import re
import sys
import traceback

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

EXPERT = re.compile(r"\.experts\.(\d+)\.")


def revert(model, sd):
    """The checkpoint layout of a state dict, as save_pretrained writes it (None if this
    transformers has no such function)."""
    for mod in ("transformers.core_model_loading", "transformers.modeling_utils"):
        try:
            fn = getattr(__import__(mod, fromlist=["revert_weight_conversion"]),
                         "revert_weight_conversion")
        except (ImportError, AttributeError):
            continue
        return fn(model, sd), mod + ".revert_weight_conversion"
    return None, None


def fold(tensors):
    """{name: shape} with per-expert names folded to .experts.{e}. (and the expert count)."""
    out, counts = {}, {}
    for name, shape in tensors.items():
        m = EXPERT.search(name)
        if not m:
            out[name] = shape
            continue
        key = EXPERT.sub(".experts.{e}.", name, count=1)
        if key in out and out[key] != shape:
            raise SystemExit(f"{name}: experts of different shapes {out[key]} vs {shape}")
        out[key] = shape
        counts.setdefault(key, set()).add(int(m.group(1)))
    n_experts = {}
    for key, ids in counts.items():
        if ids != set(range(len(ids))):
            raise SystemExit(f"{key}: expert ids not 0..n-1: {sorted(ids)[:5]}...")
        n_experts[key] = len(ids)
    return out, n_experts


def one(folder):
    cfg_file = folder / "config.json"
    cfg = AutoConfig.from_pretrained(str(folder))
    # The class the checkpoint was saved from (config "architectures"), else the causal-LM auto
    # class: qwen3_5's released files come from Qwen3_5ForConditionalGeneration (text decoder
    # under model.language_model., vision tower under model.visual.).
    archs = getattr(cfg, "architectures", None) or []
    cls = getattr(transformers, archs[0], None) if archs else None
    fallback = None
    with torch.device("meta"):
        try:
            model = cls._from_config(cfg) if cls is not None else AutoModelForCausalLM.from_config(cfg)
        except Exception as exc:
            fallback = f"{archs[0]}: {type(exc).__name__}: {exc}"
            model = AutoModelForCausalLM.from_config(cfg)
    sd = model.state_dict()
    internal = {k: list(v.shape) for k, v in sd.items()}
    reverted, how = revert(model, sd)
    saved = {k: list(v.shape) for k, v in reverted.items()} if reverted is not None else internal
    tensors, n_experts = fold(saved)
    entry = {
        "config_sha256": hashlib.sha256(cfg_file.read_bytes()).hexdigest(),
        "model_type": cfg.model_type,
        "class": type(model).__name__,
        "architectures": archs,
        "class_fallback_because": fallback,
        "reverted_by": how,
        "tied_word_embeddings": bool(getattr(model.config.get_text_config(), "tie_word_embeddings", False)),
        "n_tensors_in_memory": len(internal),
        "n_tensors_in_checkpoint_layout": len(saved),
        "tensors": dict(sorted(tensors.items())),
        "n_experts": dict(sorted(n_experts.items())),
    }
    if reverted is not None and set(internal) != set(saved):
        # A few in-memory names, to show what 5.17 changes at load.
        changed = sorted(set(internal) - set(saved))
        entry["in_memory_only_examples"] = changed[:8]
    return entry


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", required=True, help="folder of <org>__<model>/config.json")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = {
        "generator": "tools/make_realconfig_fixtures.py",
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "configs": {},
        "errors": {},
    }
    for folder in sorted(pathlib.Path(args.configs).iterdir()):
        if not (folder / "config.json").exists():
            continue
        try:
            out["configs"][folder.name] = one(folder)
            e = out["configs"][folder.name]
            print(f"{folder.name}: {e['class']}, {e['n_tensors_in_memory']} in memory, "
                  f"{e['n_tensors_in_checkpoint_layout']} in the checkpoint layout", flush=True)
        except Exception as exc:  # recorded, so one config does not hide the others
            out["errors"][folder.name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
