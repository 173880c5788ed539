#!/usr/bin/env python3
"""Make the transformers-parity fixture models in tests/fixtures/models/.

What it is: the one script that writes every tiny random-weight checkpoint the golden parity test
(tests/golden/run_model_parity.cpp) scores, together with transformers' own per-token log-probs
for them. It needs torch, transformers 5.17 and tokenizers (the GPU machine has them; no internet
and no downloaded weights are needed: the models are random, the tokenizer is trained here).
What it is not: a benchmark or a model zoo. The models are tiny and meaningless; they only have
to exercise every feature the C++ runtime must reproduce.

Steps
1. Train ONE byte-level BPE tokenizer (Llama-3/cl100k Split regex + ByteLevel, ~480 merges-and-bytes
   plus 3 added special tokens) on tools/fixture_texts/*.txt, written in three variants (see
   write_tokenizer): no BOS; BOS from the tokenizer.json post-processor; add_bos_token in
   tokenizer_config.json. Whether transformers prepends BOS is recorded, not assumed.
2. For each row of CASES: build the config from the row (HF config field names, legacy
   rope_theta/rope_scaling keys as released checkpoints write them), instantiate the model in fp32
   with a fixed seed, re-initialise every tensor (see init_weights), scale the final norm so the
   mean predictive entropy is TARGET_ENTROPY nats (random tiny models are near-uniform otherwise
   and hide errors), cast to the row's storage dtype, save (sharded where the row says so), and
   write tokenizer files.
3. Reload the saved directory with AutoModelForCausalLM/AutoTokenizer in fp32 on the CPU (eager
   attention, TF32 off), check it equals the cast in-memory model, and record for each scored
   text: the token ids of tokenizer(text), log p(ids[t+1] | ids[..t]) and the predictive entropy
   at every position, the rotary inv_freq buffers, and per layer which RoPE table, which RoPE
   attention scaling and which attention window transformers actually used (read from the
   arguments each attention module received, so version-dependent behaviour is recorded, not
   assumed).

Run (from the repository root, on a machine with torch + transformers 5.17):
    python3 tools/make_model_fixtures.py --out tests/fixtures/models
Any failed self-check is listed at the end and makes the exit status non-zero.
"""

import argparse
import copy
import json
import math
import os
import platform
import re
import shutil
import sys
import traceback
from pathlib import Path

import torch
import tokenizers
import transformers
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

SEED = 1234
TARGET_ENTROPY = 1.5  # nats, mean over all scored positions, reached by scaling the final norm
# The fixtures decide a 1e-4 per-token tolerance between two fp32 computations. That is only
# meaningful where fp32 rounding itself moves the reference by much less: each case's reference is
# recomputed in fp64 and must lie within REFERENCE_NOISE_LIMIT of it on every token (half the
# tolerance, so two fp32 computations each that close to the truth stay within 1e-4 of each other).
REFERENCE_NOISE_LIMIT = 5e-5
EXPECTED_TRANSFORMERS = "5.17"
REGENERATE = "python3 tools/make_model_fixtures.py --out tests/fixtures/models"

REPO = Path(__file__).resolve().parent.parent
TEXT_DIR = REPO / "tools" / "fixture_texts"
SCORED_TEXTS = ["prose.txt", "code.txt", "mixed.txt"]  # every *.txt there trains the tokenizer

# The Llama-3 / cl100k pre-tokenizer regex as written in Llama-3's tokenizer.json.
SPLIT_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
BPE_VOCAB = 480  # 256 byte symbols + merges; the added special tokens come after
EOS, BOS, PAD = "<|endoftext|>", "<|begin_of_text|>", "<|pad|>"

# One row per fixture. `config`: HF config fields of that model_type (legacy rope keys
# rope_theta/rope_scaling, as released config.json files have them). `config_form`: "legacy"
# keeps those keys in the saved config.json; "v5" keeps what transformers' save_pretrained writes
# (rope_parameters). `vocab_pad`: rows added to lm_head/embeddings beyond the tokenizer's size.
# `dtype`: storage dtype of the safetensors. `shard`: max_shard_size for a sharded save, or None.
# `tokenizer`: the write_tokenizer variant.
CASES = [
    dict(
        name="llama_gqa_llama3",
        model_type="llama",
        exercises="GQA 4 q / 2 kv heads; head_dim 24 != hidden/heads 16; llama3 RoPE scaling; "
        "untied lm_head; F32 weights; legacy rope_theta/rope_scaling config keys",
        dtype="float32", shard=None, config_form="legacy", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=24, rms_norm_eps=1e-5, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, attention_bias=False,
            mlp_bias=False, rope_theta=10000.0,
            rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                              high_freq_factor=4.0, original_max_position_embeddings=128),
        ),
    ),
    dict(
        name="llama_tied_bias_yarn_bos",
        model_type="llama",
        exercises="tied embeddings; attention_bias (q,k,v,o) and mlp_bias; yarn RoPE (default "
        "attention factor); one kv head (MQA); BOS added by the tokenizer.json post-processor "
        "(Llama-3 style); "
        "padded vocab (512 rows > tokenizer size); BF16 weights",
        dtype="bfloat16", shard=None, config_form="v5", tokenizer="bos_template", vocab_pad=512,
        config=dict(
            hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=1, rms_norm_eps=1e-5, hidden_act="silu",
            max_position_embeddings=512, tie_word_embeddings=True, attention_bias=True,
            mlp_bias=True, rope_theta=10000.0,
            rope_scaling=dict(rope_type="yarn", factor=4.0, original_max_position_embeddings=128),
        ),
    ),
    dict(
        name="qwen3_gqa_tied",
        model_type="qwen3",
        exercises="per-head q/k RMSNorm before RoPE; GQA 4/2; head_dim 32 != hidden/heads 16; "
        "tied embeddings; F16 weights",
        dtype="float16", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=32, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=True, attention_bias=False,
            rope_theta=1000000.0,
        ),
    ),
    dict(
        name="qwen3_sliding_sharded",
        model_type="qwen3",
        exercises="use_sliding_window with sliding_window 48 < text length on layers >= "
        "max_window_layers (1), full attention on layer 0; untied; BF16 weights saved in several "
        "shards with model.safetensors.index.json",
        dtype="bfloat16", shard="100KB", config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, attention_bias=False,
            use_sliding_window=True, sliding_window=48, max_window_layers=1, rope_theta=10000.0,
        ),
    ),
    dict(
        name="olmo2_gqa",
        model_type="olmo2",
        exercises="q/k RMSNorm over the whole projection (k_norm of size kv_heads*head_dim); "
        "post-norm blocks (no input norm); GQA 4/2; padded vocab; F16 weights; tokenizer_config "
        "add_bos_token true over a tokenizer.json that adds nothing (what transformers then does "
        "is recorded as bos_added)",
        dtype="float16", shard=None, config_form="v5", tokenizer="bos_config", vocab_pad=512,
        config=dict(
            hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, attention_bias=False,
            rope_theta=500000.0,
        ),
    ),
    dict(
        name="olmo3_sliding_yarn",
        model_type="olmo3",
        exercises="default layer_types (3 sliding : 1 full) with sliding_window 40 < text length; "
        "yarn rope_scaling with an explicit attention_factor, as Olmo-3 long-context configs "
        "write it (which layers get it is recorded per layer); legacy config keys; F32 weights",
        dtype="float32", shard=None, config_form="legacy", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=4, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=512, tie_word_embeddings=False, attention_bias=False,
            sliding_window=40, rope_theta=500000.0,
            rope_scaling=dict(rope_type="yarn", factor=4.0, original_max_position_embeddings=128,
                              attention_factor=1.25, beta_fast=32.0, beta_slow=1.0),
        ),
    ),
    dict(
        name="olmo3_linear_layer_types",
        model_type="olmo3",
        exercises="explicit layer_types [full, sliding, sliding, full] with sliding_window 56; "
        "linear rope_scaling (factor 2); GQA 4/2; rope_parameters as transformers 5 saves them; "
        "BF16 weights",
        dtype="bfloat16", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, attention_bias=False,
            sliding_window=56,
            layer_types=["full_attention", "sliding_attention", "sliding_attention",
                         "full_attention"],
            rope_theta=500000.0, rope_scaling=dict(rope_type="linear", factor=2.0),
        ),
    ),
    # Gated DeltaNet families (issue 4; docs/recurrent.md). Texts are longer than the chunk of 64
    # tokens, so transformers' chunked rule and lossgap's chunked form both cross chunk borders.
    dict(
        name="olmo_hybrid_nope_gqa",
        model_type="olmo_hybrid",
        exercises="GDN with more value heads than key heads (1 k / 2 v heads), dk 16 != dv 24; "
        "linear_allow_neg_eigval (beta = 2 sigmoid); NoPE via rope_parameters.rope_theta null "
        "(the demo and released form); default layer_types (3 GDN : 1 attention, post-norm "
        "attention, pre-norm GDN); attention GQA 4/2; released conv layout q/k/v_conv1d; BF16",
        dtype="bfloat16", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, attention_bias=False,
            rope_parameters=dict(rope_type="default", rope_theta=None),
            linear_num_key_heads=1, linear_num_value_heads=2, linear_key_head_dim=16,
            linear_value_head_dim=24, linear_conv_kernel_dim=4, linear_allow_neg_eigval=True,
        ),
    ),
    dict(
        name="olmo_hybrid_rope",
        model_type="olmo_hybrid",
        exercises="olmo_hybrid with RoPE (rope_theta 10000) on its attention layers only; null "
        "linear_* sizes (defaults: Hk = Hv = heads, dk = int(0.75 hidden / Hk), dv = 2 dk); "
        "linear_allow_neg_eigval false; explicit layer_types [GDN, attn, GDN, attn]; F32",
        dtype="float32", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=4, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, attention_bias=False,
            rope_parameters=dict(rope_type="default", rope_theta=10000.0),
            layer_types=["linear_attention", "full_attention", "linear_attention",
                         "full_attention"],
            linear_conv_kernel_dim=4, linear_allow_neg_eigval=False,
        ),
    ),
    dict(
        name="qwen3_next_moe",
        model_type="qwen3_next",
        exercises="Qwen3-Next: GDN with grouped in_proj_qkvz/in_proj_ba (2 k / 4 v heads); MoE "
        "with 4 experts, top-2, renormalised, shared expert with sigmoid gate; layer 1 dense via "
        "mlp_only_layers; gated attention (q_proj [query | gate] per head), (1 + w) norms and "
        "per-head q/k norms; partial RoPE 0.25 of head_dim 32; GQA 4/2; BF16",
        dtype="bfloat16", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, head_dim=32, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, attention_bias=False,
            rope_theta=10000.0, partial_rotary_factor=0.25,
            linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16,
            linear_value_head_dim=16, linear_conv_kernel_dim=4,
            num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
            shared_expert_intermediate_size=48, norm_topk_prob=True, decoder_sparse_step=1,
            mlp_only_layers=[1],
        ),
    ),
    dict(
        name="qwen3_5_text_dense",
        model_type="qwen3_5_text",
        exercises="Qwen3.5 text decoder: GDN with contiguous in_proj_qkv / in_proj_z / in_proj_b / "
        "in_proj_a (2 k / 4 v heads, dk 24 > dv 16); dense SwiGLU; gated attention, (1 + w) norms; "
        "interleaved M-RoPE keys (equal to partial RoPE for text); MQA (1 kv head); F32",
        dtype="float32", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=1, head_dim=32, rms_norm_eps=1e-5, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, attention_bias=False,
            rope_parameters=dict(rope_type="default", rope_theta=10000.0,
                                 partial_rotary_factor=0.25, mrope_section=[2, 1, 1],
                                 mrope_interleaved=True),
            linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=24,
            linear_value_head_dim=16, linear_conv_kernel_dim=4,
        ),
    ),
    # Mamba families (issue 4; docs/ssm.md). Texts are longer than the SSD chunk (64 tokens in
    # lossgap; mamba_chunk_size in transformers), so both chunked forms cross chunk borders.
    dict(
        name="nemotron_h_pattern",
        model_type="nemotron_h",
        exercises="hybrid_override_pattern M-M*M- (Mamba-2, relu2 MLP and NoPE attention as "
        "separate single-mixer layers); n_groups 2 with the grouped gated norm G3; torch-path dt "
        "clamp at time_step_min 0.1 (active); GQA 4/2 head_dim 16; released backbone.* names; F32",
        dtype="float32", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, hybrid_override_pattern="M-M*M-",
            num_attention_heads=4, num_key_value_heads=2, head_dim=16, mamba_num_heads=8,
            mamba_head_dim=8, n_groups=2, ssm_state_size=16, conv_kernel=4, chunk_size=16,
            use_conv_bias=True, use_bias=False, mlp_hidden_act="relu2", time_step_min=0.1,
            layer_norm_epsilon=1e-5, tie_word_embeddings=False, use_mamba_kernels=False,
            max_position_embeddings=1024,
        ),
    ),
    dict(
        name="nemotron_h_block_types",
        model_type="nemotron_h",
        exercises="layers_block_type list form [linear_attention, full_attention, mlp, "
        "linear_attention]; n_groups 4 (group size 16 of d_inner 64), use_bias (in/out_proj "
        "biases); BF16",
        dtype="bfloat16", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96,
            layers_block_type=["linear_attention", "full_attention", "mlp", "linear_attention"],
            num_attention_heads=4, num_key_value_heads=4, head_dim=16, mamba_num_heads=8,
            mamba_head_dim=8, n_groups=4, ssm_state_size=8, conv_kernel=4, chunk_size=32,
            use_conv_bias=True, use_bias=True, mlp_hidden_act="relu2", layer_norm_epsilon=1e-5,
            tie_word_embeddings=False, use_mamba_kernels=False, max_position_embeddings=1024,
        ),
    ),
    dict(
        name="falcon_h1_multipliers",
        model_type="falcon_h1",
        exercises="parallel Mamba-2 + attention in every layer; every multiplier non-trivial "
        "(embedding, lm_head, key, attention in/out, ssm in/out, the 5-section mup_vector, mlp "
        "gate/down); mamba_rms_norm with norm after gate (G4, 2 groups); head_dim 16 != hidden / "
        "heads; RoPE theta 1e4; mamba_d_ssm 64; F32",
        dtype="float32", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-5, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, rope_theta=10000.0,
            mamba_d_ssm=64, mamba_n_heads=8, mamba_d_head=8, mamba_n_groups=2, mamba_d_state=16,
            mamba_d_conv=4, mamba_chunk_size=16, mamba_rms_norm=True,
            mamba_norm_before_gate=False, embedding_multiplier=2.0, lm_head_multiplier=0.5,
            key_multiplier=0.7, attention_in_multiplier=1.3, attention_out_multiplier=0.8,
            ssm_in_multiplier=0.9, ssm_multipliers=[1.1, 0.9, 1.2, 0.8, 1.3],
            ssm_out_multiplier=0.7, mlp_multipliers=[0.9, 1.1],
        ),
    ),
    dict(
        name="falcon_h1_no_norm",
        model_type="falcon_h1",
        exercises="falcon_h1 with mamba_rms_norm false (y * silu(z), no norm weight), "
        "projectors_bias, mamba_proj_bias, attention and mlp biases; BF16",
        dtype="bfloat16", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=4, head_dim=16, rms_norm_eps=1e-5, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, rope_theta=100000.0,
            mamba_d_ssm=64, mamba_n_heads=4, mamba_d_head=16, mamba_n_groups=1, mamba_d_state=8,
            mamba_d_conv=4, mamba_chunk_size=16, mamba_rms_norm=False, projectors_bias=True,
            mamba_proj_bias=True, attention_bias=True, mlp_bias=True,
        ),
    ),
    dict(
        name="granite_hybrid_dense",
        model_type="granitemoehybrid",
        exercises="dense Granite-4.0-H: layer_types [mamba, attention, mamba, mamba]; scaled "
        "residuals (residual_multiplier 0.5), embedding_multiplier 3, attention_multiplier 0.1 as "
        "the attention scale, logits_scaling 2.5; fused shared_mlp; NoPE; G2 gated norm; tied; F32",
        dtype="float32", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=48, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=True,
            layer_types=["mamba", "attention", "mamba", "mamba"], num_local_experts=0,
            shared_intermediate_size=96, embedding_multiplier=3.0, residual_multiplier=0.5,
            attention_multiplier=0.1, logits_scaling=2.5, position_embedding_type="nope",
            mamba_n_heads=8, mamba_d_head=16, mamba_n_groups=1, mamba_d_state=16, mamba_d_conv=4,
            mamba_expand=2, mamba_chunk_size=16,
        ),
    ),
    dict(
        name="bamba_partial_rope",
        model_type="bamba",
        exercises="attention at layer 1 of 3 (attn_layer_indices) with the partial rotary "
        "transformers 5.17 uses (recorded inv_freq); Mamba-2 with 2 groups and the full-width G2 "
        "gated norm; SwiGLU feed_forward; BF16",
        dtype="bfloat16", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-5, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, attn_layer_indices=[1],
            mamba_n_heads=8, mamba_d_head=16, mamba_n_groups=2, mamba_d_state=16, mamba_d_conv=4,
            mamba_expand=2, mamba_chunk_size=16,
        ),
    ),
    dict(
        name="mamba2_groups_limit",
        model_type="mamba2",
        exercises="all-Mamba-2: n_groups 2 with HF's full-width G2 norm; time_step_limit [0.05, "
        "2.0] clamp (active both ways); conv and proj biases; untied; F32",
        dtype="float32", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, num_hidden_layers=2, num_heads=8, head_dim=16, expand=2, n_groups=2,
            state_size=16, conv_kernel=4, chunk_size=16, use_bias=True, use_conv_bias=True,
            time_step_limit=[0.05, 2.0], layer_norm_epsilon=1e-5, tie_word_embeddings=False,
        ),
    ),
    dict(
        name="mamba_v1_tied",
        model_type="mamba",
        exercises="Mamba-1 selective scan: intermediate 128, state 8, time_step_rank 8, conv "
        "bias, tied embeddings; BF16",
        dtype="bfloat16", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, num_hidden_layers=2, expand=2, state_size=8, time_step_rank=8,
            conv_kernel=4, use_bias=False, use_conv_bias=True, layer_norm_epsilon=1e-5,
            tie_word_embeddings=True,
        ),
    ),
    dict(
        name="jamba_dense",
        model_type="jamba",
        exercises="Jamba with one expert (dense SwiGLU everywhere): Mamba-1 with dt/B/C RMSNorms, "
        "NoPE GQA attention at attn_layer_offset 1 of period 2; F32",
        dtype="float32", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, num_experts=1,
            num_experts_per_tok=1, attn_layer_period=2, attn_layer_offset=1,
            expert_layer_period=2, expert_layer_offset=1, mamba_d_state=8, mamba_d_conv=4,
            mamba_expand=2, mamba_dt_rank=8, use_mamba_kernels=False,
        ),
    ),
    # Mixtures of experts of the Mamba hybrids (docs/ssm.md). Router weights are drawn so that no
    # routing decision on the scored texts is near a tie (ensure_router_gaps).
    dict(
        name="jamba_moe",
        model_type="jamba",
        exercises="Jamba MoE: 4 experts top-2 on layers 1 and 3 (expert_layer_period 2, offset "
        "1), softmax router without renormalisation, SwiGLU experts stored one tensor per "
        "expert; NoPE attention on MoE layer 1 (attn_layer_period 4, offset 1); dense SwiGLU on "
        "layers 0 and 2; BF16",
        dtype="bfloat16", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=64, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False, num_experts=4,
            num_experts_per_tok=2, attn_layer_period=4, attn_layer_offset=1,
            expert_layer_period=2, expert_layer_offset=1, mamba_d_state=8, mamba_d_conv=4,
            mamba_expand=2, mamba_dt_rank=8, use_mamba_kernels=False,
        ),
    ),
    dict(
        name="granite_hybrid_moe",
        model_type="granitemoehybrid",
        exercises="Granite-4.0-H MoE: 4 local experts top-2 (top-k on the router logits, softmax "
        "over those k) with fused input_linear [E, 2I, H] / output_linear, plus the dense "
        "shared_mlp, on every layer; layer_types [mamba, attention, mamba]; RoPE "
        "(position_embedding_type rope, theta 1e4) on the attention layer; residual_multiplier "
        "0.7, embedding_multiplier 2, attention_multiplier 0.125, logits_scaling 1.5; untied; BF16",
        dtype="bfloat16", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=32, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-6, hidden_act="silu",
            max_position_embeddings=1024, tie_word_embeddings=False,
            layer_types=["mamba", "attention", "mamba"], num_local_experts=4,
            num_experts_per_tok=2, shared_intermediate_size=48, embedding_multiplier=2.0,
            residual_multiplier=0.7, attention_multiplier=0.125, logits_scaling=1.5,
            position_embedding_type="rope", rope_theta=10000.0,
            mamba_n_heads=8, mamba_d_head=16, mamba_n_groups=1, mamba_d_state=16, mamba_d_conv=4,
            mamba_expand=2, mamba_chunk_size=16,
        ),
    ),
    dict(
        name="nemotron_h_moe",
        model_type="nemotron_h",
        exercises="Nemotron-3 MoE: pattern ME*EM- (two E layers); 8 routed relu2 experts top-2, "
        "sigmoid router with a non-zero e_score_correction_bias for the choice only, 2 groups "
        "of which topk_group 1 is kept, weights normalised and x routed_scaling_factor 2.5; "
        "relu2 shared expert with mlp_bias; released backbone.* names, one tensor per expert; F32",
        dtype="float32", shard=None, config_form="v5", tokenizer="plain", vocab_pad=0,
        config=dict(
            hidden_size=64, intermediate_size=96, hybrid_override_pattern="ME*EM-",
            num_attention_heads=4, num_key_value_heads=2, head_dim=16, mamba_num_heads=8,
            mamba_head_dim=8, n_groups=2, ssm_state_size=16, conv_kernel=4, chunk_size=16,
            use_conv_bias=True, use_bias=False, mlp_hidden_act="relu2", mlp_bias=True,
            layer_norm_epsilon=1e-5, tie_word_embeddings=False, use_mamba_kernels=False,
            max_position_embeddings=1024, n_routed_experts=8, num_experts_per_tok=2,
            moe_intermediate_size=32, moe_shared_expert_intermediate_size=48, n_shared_experts=1,
            n_group=2, topk_group=1, norm_topk_prob=True, routed_scaling_factor=2.5,
        ),
    ),
]

# Families whose RMSNorm weights are zero-centred offsets (the norm multiplies by 1 + w).
ONE_PLUS_NORM = {"qwen3_next", "qwen3_5_text"}

DTYPES = {"float32": (torch.float32, "F32"), "bfloat16": (torch.bfloat16, "BF16"),
          "float16": (torch.float16, "F16")}

PROBLEMS = []  # failed self-checks; reported at the end, exit status 1 if any


def problem(case, msg):
    PROBLEMS.append(f"{case}: {msg}")
    print(f"  PROBLEM: {msg}", flush=True)


# ----------------------------------------------------------------------------------------------
# Tokenizer


def train_tokenizer(texts):
    """A byte-level BPE in the Llama-3 layout, trained on `texts`; special tokens appended."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=BPE_VOCAB, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=[])
    tok.train_from_iterator(texts, trainer=trainer)
    # Llama-3 sets ignore_merges (a pre-token that is itself in the vocab is emitted whole).
    spec = json.loads(tok.to_str())
    spec["model"]["ignore_merges"] = True
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.add_special_tokens([EOS, BOS, PAD])
    return tok


def write_tokenizer(tok, case_dir, variant):
    """tokenizer.json + tokenizer_config.json of one variant: "plain" (no BOS anywhere),
    "bos_template" (Llama-3 style: the tokenizer.json post-processor puts BOS first), or
    "bos_config" (tokenizer.json adds nothing; tokenizer_config.json sets add_bos_token)."""
    tok = Tokenizer.from_str(tok.to_str())
    if variant == "bos_template":
        bos_id = tok.token_to_id(BOS)
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single=f"{BOS}:0 $A:0",
                                          pair=f"{BOS}:0 $A:0 {BOS}:1 $B:1",
                                          special_tokens=[(BOS, bos_id)]),
        ])
    tok.save(str(case_dir / "tokenizer.json"))
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS,
        "eos_token": EOS,
        "pad_token": PAD,
        "model_max_length": 131072,
        "clean_up_tokenization_spaces": False,
    }
    if variant == "bos_config":
        cfg["add_bos_token"] = True
    (case_dir / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2) + "\n")


# ----------------------------------------------------------------------------------------------
# Model


def init_weights(model, gen, tied):
    """Re-initialise every parameter so each one matters and attention is not uniform.

    Matrices N(0, 1/fan_in) (so activations keep unit scale); embeddings N(0, 1), or
    N(0, 1/hidden) when tied (they are then also the lm_head); norm weights U(0.8, 1.2) (not all
    ones, so a norm applied with the wrong weight shows); biases N(0, 0.2) (not zero, so a dropped
    bias shows)."""
    hidden = model.config.hidden_size
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
            elif name.endswith(".A_log"):  # decay rates exp(A_log) in [0.14, 4.5]
                p.copy_(-2.0 + 3.5 * torch.rand(p.shape, generator=gen))
            elif name.endswith(".dt_bias"):  # with A_log: per-token decays from ~0.002 to ~0.999
                p.copy_(-3.0 + 4.0 * torch.rand(p.shape, generator=gen))
            elif (p.ndim == 1 and model.config.model_type in ONE_PLUS_NORM
                  and ".linear_attn.norm." not in name):  # offsets: 1 + w in [0.8, 1.2]
                p.copy_(-0.2 + 0.4 * torch.rand(p.shape, generator=gen))
            elif p.ndim == 1:
                p.copy_(0.8 + 0.4 * torch.rand(p.shape, generator=gen))
            elif "embed_tokens" in name or "embeddings" in name:
                std = 1.0 / math.sqrt(hidden) if tied else 1.0
                p.copy_(torch.randn(p.shape, generator=gen) * std)
            elif p.ndim == 2:
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))
            elif p.ndim == 3:  # conv kernels [C, 1, K], fused experts [E, out, in]
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[-1]))
            else:
                raise RuntimeError(f"init_weights: no rule for {name} {tuple(p.shape)}")


# Routers: logits std ROUTER_SCALE[family] (weights N(0, scale^2 / hidden) on unit-RMS inputs) so
# the chosen experts differ clearly from the others. A discrete choice flips if C++ and torch
# disagree on its order, so every decision on the scored texts must win by at least
# MIN_ROUTER_GAP in the units the choice is made in (logits; nemotron_h: sigmoid scores + bias,
# whose derivative is <= 1/4). Both sides compute the router inputs in fp32 and differ by ~1e-6,
# so the gap leaves two orders of magnitude. Router weights are redrawn until it holds.
ROUTER_SCALE = {"jamba": 3.0, "granitemoehybrid": 3.0, "nemotron_h": 2.0}
MIN_ROUTER_GAP = {"jamba": 1e-4, "granitemoehybrid": 1e-4, "nemotron_h": 2.5e-5}
ROUTER_TRIES = 100


def routers_of(model):
    """(name, module) of every MoE router (transformers 5.17's modules; their `weight` is the
    router matrix [E, H]; granite's is the checkpoints' router.layer.weight renamed on load)."""
    t = model.config.model_type
    suffix = {"jamba": ".feed_forward.router", "granitemoehybrid": ".block_sparse_moe.router",
              "nemotron_h": ".mixer.gate"}.get(t)
    if suffix is None:
        return []
    return [(n, m) for n, m in model.named_modules() if n.endswith(suffix)]


def init_routers(model, gen):
    """Draw the router weights (and nemotron_h's e_score_correction_bias, U(0, 0.5) rounded to
    bf16 values so no storage dtype changes it: it moves the choice away from the weights while
    keeping every choice score positive)."""
    t = model.config.model_type
    hidden = model.config.hidden_size
    with torch.no_grad():
        for _, m in routers_of(model):
            m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * ROUTER_SCALE[t]
                           / math.sqrt(hidden))
            if t == "nemotron_h":
                b = 0.5 * torch.rand(m.e_score_correction_bias.shape, generator=gen)
                m.e_score_correction_bias.copy_(b.to(torch.bfloat16).float())


def router_gap(model, id_lists):
    """The smallest margin of any routing decision of `model` over the texts (see ROUTER_SCALE):
    k-th minus (k+1)-th selection score, and for nemotron_h also the topk_group-th minus the next
    group score (the sum of each group's two best scores)."""
    c = model.config
    t = c.model_type
    k = c.num_experts_per_tok
    n_experts = {"jamba": "num_experts", "granitemoehybrid": "num_local_experts",
                 "nemotron_h": "n_routed_experts"}[t]
    n_experts = getattr(c, n_experts)
    seen = []

    def record(mod, args, out):
        # jamba's router is a Linear (logits); granite's and nemotron_h's routers return a tuple
        # of which one element is the logits [T, E] (the others are [T, k] weights and indices).
        if isinstance(out, tuple):
            out = next(o for o in out if torch.is_floating_point(o) and o.shape[-1] == n_experts)
        seen.append((mod, out.detach().float()))

    hooks = [m.register_forward_hook(record) for _, m in routers_of(model)]
    try:
        for ids in id_lists:
            logits_of(model, ids)
    finally:
        for h in hooks:
            h.remove()
    gap = math.inf
    for mod, out in seen:
        logits = out.reshape(-1, out.shape[-1])  # [T, E]
        if t == "nemotron_h":
            choice = logits.sigmoid() + mod.e_score_correction_bias.float()
            n_group, per = c.n_group, c.n_routed_experts // c.n_group
            groups = choice.view(-1, n_group, per).topk(2, dim=-1)[0].sum(-1)  # [T, n_group]
            if c.topk_group < n_group:
                g = groups.sort(dim=-1, descending=True)[0]
                gap = min(gap, float((g[:, c.topk_group - 1] - g[:, c.topk_group]).min()))
            keep = torch.zeros_like(groups).scatter_(1, groups.topk(c.topk_group, dim=-1)[1], 1)
            mask = keep[:, :, None].expand(-1, n_group, per).reshape(choice.shape).bool()
            choice = choice.masked_fill(~mask, float("-inf"))
        else:
            choice = logits
        s = choice.sort(dim=-1, descending=True)[0]
        gap = min(gap, float((s[:, k - 1] - s[:, k]).min()))
    return gap, len(seen)


def ensure_router_gaps(name, model, gen, id_lists, torch_dtype):
    """Redraw the routers until every decision on the texts wins by MIN_ROUTER_GAP, measured on
    the model as its files will hold it (parameters rounded through the storage dtype)."""
    t = model.config.model_type
    if not routers_of(model):
        return None
    for attempt in range(ROUTER_TRIES):
        init_routers(model, gen)
        stored = copy.deepcopy(model)
        with torch.no_grad():
            for p in stored.parameters():
                p.copy_(p.to(torch_dtype).float())
        gap, n_calls = router_gap(stored, id_lists)
        if n_calls == 0:
            problem(name, "no router ran in the forward pass")
            return None
        if gap >= MIN_ROUTER_GAP[t]:
            print(f"  routers drawn {attempt + 1} time(s): smallest routing gap {gap:.3g} "
                  f"(>= {MIN_ROUTER_GAP[t]:g}) over {n_calls} router calls", flush=True)
            return gap
    problem(name, f"no router draw in {ROUTER_TRIES} kept every routing gap >= {MIN_ROUTER_GAP[t]}")
    return None


def decoder_of(model):
    """The decoder stack: model.model, or model.backbone for the Mamba-only families."""
    return model.model if hasattr(model, "model") else model.backbone


def final_norm(model):
    dec = decoder_of(model)
    for name in ("norm", "final_layernorm", "norm_f"):
        if hasattr(dec, name):
            return getattr(dec, name)
    raise RuntimeError("final_norm: no final norm found")


def logits_of(model, ids):
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids], dtype=torch.long))
    return out.logits[0].float()  # [T, vocab]


def mean_entropy(logit_list, scale):
    total, count = 0.0, 0
    for lg in logit_list:
        logp = torch.log_softmax(lg[:-1] * scale, dim=-1)
        total += float(-(logp.exp() * logp).sum(-1).sum())
        count += lg.shape[0] - 1
    return total / count


def calibrate_final_norm(model, id_lists):
    """Scale the final norm weight so the mean entropy is TARGET_ENTROPY. Logits are linear in
    that weight (the lm_head has no bias), so one forward pass and a bisection on the factor do."""
    logit_list = [logits_of(model, ids) for ids in id_lists]
    lo, hi = math.log(0.05), math.log(200.0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if mean_entropy(logit_list, math.exp(mid)) > TARGET_ENTROPY:
            lo = mid
        else:
            hi = mid
    scale = float(f"{math.exp(0.5 * (lo + hi)):.2g}")
    with torch.no_grad():
        w = final_norm(model).weight
        if model.config.model_type in ONE_PLUS_NORM:  # (1 + w) -> scale (1 + w)
            w.copy_(scale * (1.0 + w) - 1.0)
        else:
            w.mul_(scale)
    return scale


class LayerProbe:
    """Records the RoPE cos table and the attention mask each attention module receives."""

    def __init__(self, model):
        self.seen = {}
        self.handles = []
        for il, layer in enumerate(decoder_of(model).layers):
            if getattr(layer, "self_attn", None) is None:  # GDN / Mamba layers: no attention
                continue
            self.handles.append(layer.self_attn.register_forward_pre_hook(
                self._hook(il), with_kwargs=True))

    def _hook(self, il):
        def fn(module, args, kwargs):
            pe = kwargs.get("position_embeddings")
            mask = kwargs.get("attention_mask")
            self.seen[il] = (
                None if pe is None else pe[0].detach().float().clone(),
                None if mask is None else mask.detach().clone(),
            )
        return fn

    def close(self):
        for h in self.handles:
            h.remove()


def inv_freq_buffers(model):
    """Every rotary inv_freq buffer of the model by its module path (one, or one per layer type,
    depending on the transformers version); the `original_*` copies are left out."""
    return {name: buf.detach().float().clone() for name, buf in model.named_buffers()
            if "inv_freq" in name and "original" not in name}


def rope_table_of(cos, buffers):
    """Which inv_freq buffer (and attention scaling) produced cos [1, T, d]: (name, scaling)."""
    cos = cos[0]
    scaling = float(cos[0, 0])  # cos(0) * attention_scaling
    pos = torch.arange(cos.shape[0], dtype=torch.float32)
    for name, inv in buffers.items():
        if 2 * inv.shape[0] != cos.shape[1]:
            continue
        freqs = pos[:, None] * inv[None, :]
        ref = torch.cat([freqs, freqs], dim=-1).cos() * scaling
        if float((ref - cos).abs().max()) < 1e-5:
            return name, scaling
    return None, scaling


def attention_window(mask, n):
    """The window the mask implements: None when every earlier position is visible, else W
    (query i sees keys j with i - W < j <= i). Raises if the mask is not causal."""
    m = mask
    while m.dim() > 2:
        m = m[0]
    allowed = m if m.dtype == torch.bool else (m > torch.finfo(m.dtype).min / 2)
    allowed = allowed[:n, :n]
    if bool(torch.triu(allowed, diagonal=1).any()):
        raise RuntimeError("attention mask lets a query see a later key")
    span = 0
    for i in range(n):
        row = torch.nonzero(allowed[i]).flatten()
        span = max(span, i - int(row.min()) + 1)
    return None if span == n else span


def f32(x):
    """A float32 value as the shortest decimal that reads back to the same float32."""
    return float(f"{float(x):.9g}")


def score(model, ids):
    """log p(ids[t+1] | ids[..t]) and the predictive entropy at every position t < T-1."""
    logp = torch.log_softmax(logits_of(model, ids)[:-1], dim=-1)  # [T-1, vocab]
    target = torch.tensor(ids[1:], dtype=torch.long)
    lp = logp.gather(1, target[:, None])[:, 0]
    ent = -(logp.exp() * logp).sum(-1)
    return [f32(x) for x in lp], [f32(x) for x in ent]


def reference_noise(case_dir, id_lists, logprobs):
    """The largest |log p| difference between the fp32 reference `logprobs` and the saved model
    run in fp64 (fp64_logprobs); None where the model cannot run in fp64."""
    lp64 = fp64_logprobs(case_dir, id_lists)
    if lp64 is None:
        return None
    return max(abs(a - b) for lp, ref64 in zip(logprobs, lp64) for a, b in zip(lp, ref64))


def fp64_logprobs(case_dir, id_lists):
    """log p of the targets from the saved model computed in fp64 throughout. transformers casts to
    fp32 explicitly in places (norms, the delta rule); those casts are redirected to fp64 for the
    duration. Returns None where the model cannot run in fp64 (a fused-expert kernel)."""
    kwargs = dict(dtype=torch.float32, attn_implementation="eager")
    try:  # eager experts: transformers 5's default grouped_mm kernel has no fp64
        model = AutoModelForCausalLM.from_pretrained(case_dir, experts_implementation="eager",
                                                     **kwargs)
    except (TypeError, ValueError):
        model = AutoModelForCausalLM.from_pretrained(case_dir, **kwargs)
    model = model.double().eval()
    to_float32, tensor_float = torch.float32, torch.Tensor.float
    torch.float32 = torch.float64
    torch.Tensor.float = lambda self, *a, **k: self.to(torch.float64)
    try:
        out = []
        for ids in id_lists:
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([ids], dtype=torch.long)).logits[0]
            logp = torch.log_softmax(logits[:-1].double(), dim=-1)
            out.append(logp.gather(1, torch.tensor(ids[1:])[:, None])[:, 0].tolist())
        return out
    except RuntimeError as err:
        print(f"  fp64 run not possible: {err}", flush=True)
        return None
    finally:
        torch.float32, torch.Tensor.float = to_float32, tensor_float


FUSED_EXPERTS = (".experts.gate_up_proj", ".experts.up_proj", ".experts.down_proj")


def is_fused_expert(key):
    return key.endswith(FUSED_EXPERTS)


def split_experts(tensors):
    """transformers 5's fused expert tensors written one tensor per expert, as checkpoints store
    them: gate_up_proj [E, 2I, H] (gate first) -> experts.{e}.gate_proj/up_proj.weight [I, H];
    up_proj [E, I, H] (non-gated experts) -> experts.{e}.up_proj.weight; down_proj [E, H, I] ->
    experts.{e}.down_proj.weight. Other tensors are kept."""
    out = {}
    for k, v in tensors.items():
        if k.endswith(".experts.gate_up_proj"):
            stem, inter = k[: -len("gate_up_proj")], v.shape[1] // 2
            for e in range(v.shape[0]):
                out[f"{stem}{e}.gate_proj.weight"] = v[e, :inter].contiguous()
                out[f"{stem}{e}.up_proj.weight"] = v[e, inter:].contiguous()
        elif k.endswith((".experts.up_proj", ".experts.down_proj")):
            stem, part = k.rsplit(".", 1)
            for e in range(v.shape[0]):
                out[f"{stem}.{e}.{part}.weight"] = v[e].contiguous()
        else:
            out[k] = v
    return out


def load_file_keys(case_dir):
    """The tensor names of the saved model.safetensors files."""
    from safetensors import safe_open
    keys = []
    for path in sorted(case_dir.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as f:
            keys += list(f.keys())
    return keys


def released_layout(case_dir, model):
    """Rewrite model.safetensors in the layout released checkpoints use, where transformers
    5.17's save_pretrained writes another (docs/demo-models.md): olmo_hybrid's fused conv1d is
    saved split into three equal parts and its GDN norms renamed, so the state dict is written
    with q/k/v_conv1d split [Hk dk | Hk dk | Hv dv]; fused MoE experts (gate_up_proj
    [E, 2I, H] gate first, down_proj [E, H, I]) are written one tensor per expert. The reload
    check in make_case then proves transformers reads the rewritten file exactly."""
    from safetensors.torch import load_file, save_file
    path = case_dir / "model.safetensors"
    c = model.config
    if c.model_type == "olmo_hybrid":
        kd = c.linear_num_key_heads * c.linear_key_head_dim
        vd = c.linear_num_value_heads * c.linear_value_head_dim
        tensors = {}
        for k, v in model.state_dict().items():
            v = v.detach().to("cpu").contiguous()
            if k.endswith(".linear_attn.conv1d.weight"):
                stem = k[: -len("conv1d.weight")]
                q, kk, vv = torch.split(v, [kd, kd, vd], dim=0)
                for part, t in (("q", q), ("k", kk), ("v", vv)):
                    tensors[stem + part + "_conv1d.weight"] = t.contiguous()
            else:
                tensors[k] = v
    elif c.model_type in ("qwen3_next", "jamba"):
        tensors = load_file(str(path))
        if not any(is_fused_expert(k) for k in tensors):
            return
        tensors = split_experts(tensors)
    elif c.model_type == "nemotron_h":
        # Released Nemotron-H checkpoints name the stack backbone.* (embeddings, norm_f) and
        # store experts one tensor per expert (non-gated: up_proj [I, H], down_proj [H, I]).
        tensors = load_file(str(path))
        if (any(k.startswith("backbone.") for k in tensors)
                and not any(is_fused_expert(k) for k in tensors)):
            return
        out = {}
        for k, v in split_experts(tensors).items():
            k = k.replace("model.embed_tokens.", "backbone.embeddings.")
            k = k.replace("model.norm.", "backbone.norm_f.")
            out[k.replace("model.", "backbone.", 1) if k.startswith("model.") else k] = v
        tensors = out
    else:
        return
    save_file(tensors, str(path), metadata={"format": "pt"})


def legacy_config(case_dir, case):
    """Rewrite the saved config.json with rope_theta/rope_scaling instead of rope_parameters."""
    path = case_dir / "config.json"
    cfg = json.loads(path.read_text())
    cfg.pop("rope_parameters", None)
    row = copy.deepcopy(case["config"])
    cfg["rope_theta"] = row["rope_theta"]
    if "rope_scaling" in row:
        cfg["rope_scaling"] = row["rope_scaling"]
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def make_case(index, case, tok, texts, out_dir):
    name = case["name"]
    print(f"== {name}", flush=True)
    case_dir = out_dir / name
    if case_dir.exists():
        shutil.rmtree(case_dir)
    case_dir.mkdir(parents=True)

    n_tok = tok.get_vocab_size(with_added_tokens=True)
    vocab = max(n_tok, case["vocab_pad"])
    cfg_kwargs = copy.deepcopy(case["config"])
    cfg_kwargs.update(vocab_size=vocab, bos_token_id=tok.token_to_id(BOS),
                      eos_token_id=tok.token_to_id(EOS), pad_token_id=tok.token_to_id(PAD))
    config = AutoConfig.for_model(case["model_type"], **cfg_kwargs)

    torch.manual_seed(SEED + index)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    model = model.float().eval()
    tied = bool(case["config"]["tie_word_embeddings"])
    if tied and model.lm_head.weight.data_ptr() != model.get_input_embeddings().weight.data_ptr():
        problem(name, "tie_word_embeddings is set but lm_head is not the embedding")
    gen = torch.Generator().manual_seed(SEED + index)
    init_weights(model, gen, tied)

    # Ids for calibration come from the tokenizer files as they will be written.
    write_tokenizer(tok, case_dir, case["tokenizer"])
    model.config.save_pretrained(case_dir)  # AutoTokenizer reads config.json too
    hf_tok = AutoTokenizer.from_pretrained(case_dir)
    id_lists = [hf_tok(t)["input_ids"] for t in texts]
    torch_dtype, st_dtype = DTYPES[case["dtype"]]
    ensure_router_gaps(name, model, gen, id_lists, torch_dtype)
    scale = calibrate_final_norm(model, id_lists)

    # What the files hold, upcast: parameters rounded through the storage dtype. Buffers (the
    # rotary inv_freq) stay fp32 as transformers recomputes them on load.
    in_memory = copy.deepcopy(model)
    with torch.no_grad():
        for p in in_memory.parameters():
            p.copy_(p.to(torch_dtype).float())
    model = model.to(torch_dtype)
    save_kwargs = {} if case["shard"] is None else {"max_shard_size": case["shard"]}
    model.save_pretrained(case_dir, **save_kwargs)
    released_layout(case_dir, model)
    if case["config_form"] == "legacy":
        legacy_config(case_dir, case)
    del model

    saved = json.loads((case_dir / "config.json").read_text())
    print("  config.json:", {k: saved[k] for k in ("rope_parameters", "rope_theta", "rope_scaling",
                                                 "layer_types", "sliding_window") if k in saved})
    shards = sorted(p.name for p in case_dir.glob("*.safetensors"))
    has_index = (case_dir / "model.safetensors.index.json").exists()
    if case["shard"] is not None and (len(shards) < 2 or not has_index):
        problem(name, f"expected a sharded save, got {shards} (index: {has_index})")
    if case["shard"] is None and shards != ["model.safetensors"]:
        problem(name, f"expected one model.safetensors, got {shards}")

    # The reference: the saved directory as transformers loads it, in fp32.
    ref, info = AutoModelForCausalLM.from_pretrained(
        case_dir, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    ref.eval()
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        if info.get(key):
            problem(name, f"reload {key}: {info[key]}")
    if ref.config._attn_implementation != "eager":
        problem(name, f"attention implementation is {ref.config._attn_implementation}")

    hf_tok = AutoTokenizer.from_pretrained(case_dir)
    raw_tok = Tokenizer.from_file(str(case_dir / "tokenizer.json"))
    bos_id = tok.token_to_id(BOS)
    backend = getattr(hf_tok, "backend_tokenizer", None) or hf_tok._tokenizer
    loaded_post = json.loads(backend.to_str()).get("post_processor")
    print(f"  AutoTokenizer: {type(hf_tok).__name__}, add_bos_token="
          f"{getattr(hf_tok, 'add_bos_token', None)}, post_processor={json.dumps(loaded_post)}")
    bos_added = hf_tok(texts[0])["input_ids"][0] == bos_id
    if case["tokenizer"] == "bos_template" and not bos_added:
        problem(name, "the tokenizer.json template adds BOS but AutoTokenizer's ids lack it")
    if case["tokenizer"] == "plain" and bos_added:
        problem(name, "no BOS is asked for but AutoTokenizer's ids start with it")

    buffers = inv_freq_buffers(ref)
    probe = LayerProbe(ref)
    record = dict(texts=[], ids=[], logprobs=[], entropies=[])
    layers = None
    for text in texts:
        ids = hf_tok(text)["input_ids"]
        plain = raw_tok.encode(text, add_special_tokens=False).ids
        if ids != ([bos_id] if bos_added else []) + plain:
            problem(name, "AutoTokenizer ids differ from tokenizer.json's ids (plus BOS)")
        lp, ent = score(ref, ids)
        lp_mem, _ = score(in_memory, ids)
        diff = max(abs(a - b) for a, b in zip(lp, lp_mem))
        if diff > 1e-5:
            problem(name, f"reloaded model differs from the in-memory cast model by {diff:.3g}")
        text_layers = []
        for il in range(ref.config.num_hidden_layers):
            if il not in probe.seen:  # a Gated DeltaNet or Mamba layer
                kinds = getattr(ref.config, "layer_types", None)
                text_layers.append({"layer_type": kinds[il] if kinds else "mamba"})
                continue
            cos, mask = probe.seen[il]
            entry = {"layer_type": (getattr(ref.config, "layer_types", None) or
                                    ["full_attention"] * ref.config.num_hidden_layers)[il]}
            if cos is not None:
                table, scaling = rope_table_of(cos, buffers)
                entry["rope_inv_freq"], entry["rope_attention_scaling"] = table, scaling
                if entry["rope_inv_freq"] is None:
                    problem(name, f"layer {il}: RoPE table matches no inv_freq buffer")
            # No mask at all means plain causal attention (possible for full layers only).
            entry["attention_window"] = None if mask is None else attention_window(mask, len(ids))
            text_layers.append(entry)
        if layers is None:
            layers = text_layers
        elif layers != text_layers:
            problem(name, "per-layer RoPE/window differ between texts")
        record["texts"].append(text)
        record["ids"].append(ids)
        record["logprobs"].append(lp)
        record["entropies"].append(ent)
    probe.close()

    window = getattr(ref.config, "sliding_window", None)
    for il, entry in enumerate(layers):
        if entry["layer_type"] == "sliding_attention":
            if entry.get("attention_window") != window:
                problem(name, f"layer {il} is sliding with window {window} but its mask "
                              f"implements {entry.get('attention_window')}")
            if window >= min(len(i) for i in record["ids"]):
                problem(name, f"sliding window {window} is not shorter than the texts")

    noise = reference_noise(case_dir, record["ids"], record["logprobs"])
    if noise is not None:
        print(f"  fp32 reference vs fp64: max |d logprob| {noise:.3g}", flush=True)
        if noise > REFERENCE_NOISE_LIMIT:
            problem(name, f"ill-conditioned: the fp32 reference is {noise:.3g} from fp64 "
                          f"(limit {REFERENCE_NOISE_LIMIT}); change the case's seed or config")

    router_margin = None
    if routers_of(ref):  # the reference's own routing decisions, as the files hold the routers
        router_margin, _ = router_gap(ref, record["ids"])
        print(f"  reference: smallest routing gap {router_margin:.3g}", flush=True)
        if router_margin < MIN_ROUTER_GAP[case["model_type"]]:
            problem(name, f"a routing decision of the reloaded model is within {router_margin:.3g} "
                          f"of a tie")
        for k in load_file_keys(case_dir):  # the MoE names as saved (experts 0 and 1 only)
            moe = any(w in k for w in ("expert", "router", "gate.", "shared_mlp", "sparse_moe"))
            if moe and not re.search(r"experts\.([2-9]|\d\d+)\.", k):
                print(f"  tensor {k}", flush=True)

    all_ent = [e for ents in record["entropies"] for e in ents]
    n_params = sum(p.numel() for p in ref.parameters())
    expected = {
        "case": name,
        "model_type": case["model_type"],
        "exercises": case["exercises"],
        "stored_dtype": st_dtype,
        "sharded": case["shard"] is not None,
        "config_form": case["config_form"],
        "tokenizer_variant": case["tokenizer"],
        "hf_tokenizer_class": type(hf_tok).__name__,
        "bos_added": bos_added,
        "vocab_size": vocab,
        "tokenizer_size": n_tok,
        "n_parameters": n_params,
        "final_norm_scale": scale,
        "mean_entropy": sum(all_ent) / len(all_ent),
        "reference_fp32_vs_fp64": noise,
        "min_router_gap": router_margin,
        "regenerate": REGENERATE,
        "layers": layers,
        "inv_freq": {k: [f32(x) for x in v] for k, v in buffers.items()},
        **record,
    }
    (case_dir / "expected.json").write_text(json.dumps(expected) + "\n")
    size = sum(p.stat().st_size for p in case_dir.iterdir())
    print(f"  {st_dtype} {n_params} params, {size} bytes, final norm x{scale}, mean entropy "
          f"{expected['mean_entropy']:.3f}, tokens {[len(i) for i in record['ids']]}", flush=True)
    for il, entry in enumerate(layers):
        print(f"  layer {il}: {entry}", flush=True)
    return {"name": name, "exercises": case["exercises"], "mean_entropy": expected["mean_entropy"],
            "final_norm_scale": scale, "reference_fp32_vs_fp64": noise, "bytes": size}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="folder for the case directories")
    ap.add_argument("--only", nargs="*", help="make only these cases (names from CASES)")
    ap.add_argument("--any-transformers", action="store_true",
                    help=f"run with a transformers other than {EXPECTED_TRANSFORMERS}.x")
    ap.add_argument("--check-conditioning", action="store_true",
                    help="make nothing: recompute the existing cases' references in fp64 and "
                         "print how far the fp32 reference is from them")
    args = ap.parse_args()

    version_ok = transformers.__version__.startswith(EXPECTED_TRANSFORMERS + ".")
    if not version_ok and not args.any_transformers:
        sys.exit(f"transformers {transformers.__version__} found; the fixtures are defined against "
                 f"{EXPECTED_TRANSFORMERS}.x (pass --any-transformers to override)")

    torch.set_default_dtype(torch.float32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    if args.check_conditioning:
        for case in CASES:
            case_dir = args.out / case["name"]
            if (args.only and case["name"] not in args.only) or not case_dir.exists():
                continue
            expected = json.loads((case_dir / "expected.json").read_text())
            noise = reference_noise(case_dir, expected["ids"], expected["logprobs"])
            if noise is not None:
                print(f"{case['name']}: fp32 reference vs fp64 max |d logprob| {noise:.3g}"
                      + ("" if noise <= REFERENCE_NOISE_LIMIT else "  ILL-CONDITIONED"), flush=True)
        return

    train_texts = [p.read_text(encoding="utf-8") for p in sorted(TEXT_DIR.glob("*.txt"))]
    texts = [(TEXT_DIR / n).read_text(encoding="utf-8") for n in SCORED_TEXTS]
    tok = train_tokenizer(train_texts)

    args.out.mkdir(parents=True, exist_ok=True)
    summary = []
    for index, case in enumerate(CASES):
        if args.only and case["name"] not in args.only:
            continue
        try:
            summary.append(make_case(index, case, tok, texts, args.out))
        except Exception:  # keep going: one run should report every case's trouble
            problem(case["name"], "raised\n" + traceback.format_exc())

    # --only regenerates some cases: the other cases' entries stay as they are.
    manifest_path = args.out / "MANIFEST.json"
    if args.only and manifest_path.exists():
        kept = [c for c in json.loads(manifest_path.read_text())["cases"]
                if c["name"] not in {s["name"] for s in summary}]
        order = {c["name"]: i for i, c in enumerate(CASES)}
        summary = sorted(kept + summary, key=lambda c: order.get(c["name"], len(order)))
    manifest = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "seed": SEED,
        "target_mean_entropy": TARGET_ENTROPY,
        "command": REGENERATE,
        "texts": SCORED_TEXTS,
        "cases": summary,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(c["bytes"] for c in summary)
    print(f"wrote {len(summary)} cases, {total} bytes, to {args.out}")
    if PROBLEMS:
        print("\nFAILED SELF-CHECKS:")
        for p in PROBLEMS:
            print("  " + p)
        sys.exit(1)


if __name__ == "__main__":
    main()
