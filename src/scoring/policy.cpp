// The scoring policy: validation, BOS resolution and the window planner (see policy.h).
#include "scoring/policy.h"

#include <algorithm>

#include "core/error.h"

namespace lossgap {

const char* bos_policy_name(BosPolicy p) {
  switch (p) {
    case BosPolicy::Auto: return "auto";
    case BosPolicy::Always: return "always";
    case BosPolicy::Never: return "never";
  }
  return "?";
}

BosPolicy parse_bos_policy(std::string_view s, const std::string& where) {
  if (s == "auto") return BosPolicy::Auto;
  if (s == "always") return BosPolicy::Always;
  if (s == "never") return BosPolicy::Never;
  throw InputError(where, "expected auto, always or never, found \"" + std::string(s) + "\"");
}

ResolvedPolicy resolve_policy(const ScoringPolicy& p, int64_t max_position_embeddings,
                              std::optional<int32_t> tokenizer_prepended_bos,
                              std::optional<int32_t> tokenizer_bos_token,
                              std::optional<int64_t> config_bos_token_id) {
  ResolvedPolicy r;
  r.bos = p.bos;
  r.force_context = p.force_context;
  if (p.context < 0) throw InputError("--context", "must be >= 2, found " + std::to_string(p.context));
  // A model without positions (a pure recurrence: max_position_embeddings 0) has no limit.
  const bool limited = max_position_embeddings > 0;
  r.context = p.context != 0 ? p.context
                             : (limited ? std::min<int64_t>(kDefaultContext, max_position_embeddings)
                                        : kDefaultContext);
  if (r.context < 2) throw InputError("--context", "must be >= 2 (a window needs a prefix and a target), found " +
                                                       std::to_string(r.context));
  if (limited && r.context > max_position_embeddings && !p.force_context)
    throw InputError("--context", std::to_string(r.context) + " is more than the model's max_position_embeddings " +
                                      std::to_string(max_position_embeddings) + " (pass --force-context to allow it)");
  if (p.stride < 0 || p.stride >= r.context)
    throw InputError("--stride", "must be in [0, context) = [0, " + std::to_string(r.context) + "), found " +
                                     std::to_string(p.stride));
  r.stride = p.stride != 0 ? p.stride : r.context - 1;

  switch (p.bos) {
    case BosPolicy::Auto: r.bos_id = tokenizer_prepended_bos; break;
    case BosPolicy::Never: r.bos_id = std::nullopt; break;
    case BosPolicy::Always:
      if (tokenizer_bos_token) {
        r.bos_id = tokenizer_bos_token;
      } else if (config_bos_token_id) {
        r.bos_id = static_cast<int32_t>(*config_bos_token_id);
      } else {
        throw InputError("--bos", "always needs a BOS token, but tokenizer_config.json has no bos_token "
                                  "and config.json no bos_token_id");
      }
      break;
  }
  return r;
}

std::vector<Window> plan_windows(size_t n_tokens, const ResolvedPolicy& policy) {
  LG_CHECK(policy.context >= 2 && policy.stride >= 1 && policy.stride < policy.context, "unresolved policy");
  const bool bos = policy.bos_id.has_value();
  const size_t len = static_cast<size_t>(policy.context) - (bos ? 1 : 0);  // document tokens per window
  const size_t stride = static_cast<size_t>(policy.stride);
  std::vector<Window> windows;
  if (n_tokens == 0 || (!bos && n_tokens == 1)) return windows;
  Window first;
  first.begin = 0;
  first.end = std::min(n_tokens, len);
  first.first_target = bos ? 0 : 1;
  windows.push_back(first);
  while (windows.back().end < n_tokens) {
    Window w;
    w.first_target = windows.back().end;
    w.end = std::min(n_tokens, w.first_target + stride);
    w.begin = w.end - len;  // w.end >= len: the first window was full
    windows.push_back(w);
  }
  return windows;
}

}  // namespace lossgap
