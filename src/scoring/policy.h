// The scoring policy (DESIGN.md "Scoring policy"): how a tokenized document is cut into model
// windows, which tokens of each window are targets, and which BOS token (if any) starts every
// window. Pure functions of the policy and the token count, so they are tested without a model.
// Not the forward pass (model/) and not storage (store/). Exact definitions: docs/cli.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lossgap {

// auto: the BOS the tokenizer's post-processor would prepend (Tokenizer::prepended_bos), if any;
// always: the tokenizer's bos_token, else config.json bos_token_id (an error if neither exists);
// never: no BOS.
enum class BosPolicy { Auto, Always, Never };

const char* bos_policy_name(BosPolicy p);  // "auto", "always", "never"
// Throws InputError(where, ...) for anything but "auto", "always", "never".
BosPolicy parse_bos_policy(std::string_view s, const std::string& where);

// The policy as the user gives it. context = 0 means "the default": min(2048,
// max_position_embeddings), or 2048 for a model without a position limit (max_position_embeddings
// 0). stride = 0 means context - 1 (windows do not overlap).
struct ScoringPolicy {
  int64_t context = 0;
  int64_t stride = 0;
  BosPolicy bos = BosPolicy::Auto;
  bool force_context = false;  // allow context > max_position_embeddings
};

inline constexpr int64_t kDefaultContext = 2048;

// The policy with every default resolved: what a run records and what the planner uses.
struct ResolvedPolicy {
  int64_t context = 0;            // tokens per window, BOS included; >= 2
  int64_t stride = 0;             // new targets per later window; 1 <= stride <= context - 1
  BosPolicy bos = BosPolicy::Auto;
  std::optional<int32_t> bos_id;  // the token starting every window, or none
  bool force_context = false;
};

// Checks and resolves `p`. Throws InputError("--context" / "--stride" / "--bos", ...) when
// context < 2, context > a nonzero max_position_embeddings (unless force_context), stride < 0,
// stride >= context, or bos = always with no BOS token anywhere. The BOS candidates come from
// the tokenizer (prepended_bos, bos_token_id) and config.json (bos_token_id).
ResolvedPolicy resolve_policy(const ScoringPolicy& p, int64_t max_position_embeddings,
                              std::optional<int32_t> tokenizer_prepended_bos,
                              std::optional<int32_t> tokenizer_bos_token,
                              std::optional<int64_t> config_bos_token_id);

// One model call: document tokens [begin, end), preceded by the BOS when the policy has one;
// tokens [first_target, end) are its targets (scored in this window and no other).
struct Window {
  size_t begin = 0;
  size_t end = 0;
  size_t first_target = 0;
};

// The windows covering a document of n_tokens tokens, in order. With a BOS every token is a
// target exactly once; without, every token but the first. The first window is
// [0, min(n, L)) with L = context - (BOS ? 1 : 0) document tokens; each later window ends
// `stride` tokens after the previous one (or at n) and starts L tokens before its end, so each
// of its targets has at least context - stride tokens of prefix in the window, BOS counted.
// Empty when there is nothing to score (n = 0, or n = 1 without BOS).
std::vector<Window> plan_windows(size_t n_tokens, const ResolvedPolicy& policy);

}  // namespace lossgap
