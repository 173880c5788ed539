// Scoring one document window by window (see scorer.h).
#include "scoring/scorer.h"

#include <cstdint>
#include <string>

#include "core/error.h"
#include "model/config.h"

namespace lossgap {

std::optional<DocumentScores> score_document(const Model& model, std::span<const int32_t> ids,
                                             std::span<const std::pair<uint32_t, uint32_t>> offsets,
                                             const ResolvedPolicy& policy,
                                             const std::function<bool()>& stop) {
  LG_CHECK(ids.size() == offsets.size(), "one offset per token");
  const ModelConfig& config = model.config();
  auto check_id = [&](int32_t id, const char* what, size_t index) {
    if (id >= 0 && id < config.vocab_size) return;
    throw InputError(config.path.string(), std::string(what) + (index != SIZE_MAX ? " " + std::to_string(index) : "") +
                                               " has id " + std::to_string(id) + ", outside vocab_size " +
                                               std::to_string(config.vocab_size) +
                                               " (does the tokenizer belong to this model?)");
  };
  if (policy.bos_id) check_id(*policy.bos_id, "the BOS token", SIZE_MAX);
  for (size_t i = 0; i < ids.size(); ++i) check_id(ids[i], "document token", i);
  DocumentScores out;
  out.n_tokens = ids.size();
  const std::vector<Window> windows = plan_windows(ids.size(), policy);
  out.n_windows = windows.size();
  const size_t lead = policy.bos_id ? 1 : 0;
  std::vector<int32_t> buf;  // [lead + window length]: BOS, then the window's document tokens
  for (const Window& w : windows) {
    if (stop && stop()) return std::nullopt;
    buf.clear();
    if (policy.bos_id) buf.push_back(*policy.bos_id);
    buf.insert(buf.end(), ids.begin() + static_cast<std::ptrdiff_t>(w.begin),
               ids.begin() + static_cast<std::ptrdiff_t>(w.end));
    const size_t first = lead + (w.first_target - w.begin);
    const std::vector<TokenScore> scores = model.score(buf, first);
    LG_CHECK(scores.size() == w.end - w.first_target, "Model::score returned the wrong number of records");
    for (size_t j = 0; j < scores.size(); ++j) {
      const size_t pos = w.first_target + j;
      TargetRecord r;
      r.pos = static_cast<uint32_t>(pos);
      r.token_id = ids[pos];
      r.start = offsets[pos].first;
      r.end = offsets[pos].second;
      r.score = scores[j];
      out.targets.push_back(r);
    }
  }
  return out;
}

}  // namespace lossgap
