// Scoring probe instances (see evaluate.h).
#include "probes/evaluate.h"

#include <algorithm>

#include "core/error.h"

namespace lossgap::probes {

const char* skip_name(Skip s) {
  switch (s) {
    case Skip::Boundary: return "boundary";
    case Skip::Length: return "length";
  }
  return "";
}

Prepared prepare(const ProbeInstance& inst, const Tokenizer& tok, const ResolvedPolicy& policy) {
  Prepared out;
  PreparedInstance p;
  const size_t bos = policy.bos_id ? 1 : 0;
  std::vector<int32_t> prefix_ids;
  for (size_t c = 0; c < inst.continuations.size(); ++c) {
    const std::string text = inst.prefix + inst.continuations[c];
    const Encoding enc = tok.encode(text, false);
    const std::optional<SpanTokens> s = locate_span(enc, inst.prefix.size(), text.size(), inst.antecedent);
    if (!s) {
      out.skip = Skip::Boundary;
      return out;
    }
    const std::vector<int32_t> prefix(enc.ids.begin(), enc.ids.begin() + static_cast<std::ptrdiff_t>(s->first));
    if (c == 0) {
      prefix_ids = prefix;
      p.distance = s->distance();
    } else if (prefix != prefix_ids) {
      out.skip = Skip::Boundary;
      return out;
    }
    if (static_cast<int64_t>(bos + enc.ids.size()) > policy.context) {
      out.skip = Skip::Length;
      return out;
    }
    std::vector<int32_t> ids;
    ids.reserve(bos + enc.ids.size());
    if (policy.bos_id) ids.push_back(*policy.bos_id);
    ids.insert(ids.end(), enc.ids.begin(), enc.ids.end());
    p.ids.push_back(std::move(ids));
    p.first_target.push_back(bos + s->first);
  }
  out.instance = std::move(p);
  return out;
}

bool InstanceScore::correct() const {
  LG_CHECK(!continuations.empty(), "an instance without continuations");
  for (size_t i = 1; i < continuations.size(); ++i) {
    if (!(continuations[0].logprob > continuations[i].logprob)) return false;
  }
  return true;
}

InstanceScore score_instance(const Model& model, const PreparedInstance& p) {
  InstanceScore out;
  out.distance = p.distance;
  for (size_t c = 0; c < p.ids.size(); ++c) {
    // first_target >= 1: the prefix is never empty, so a scored token always has a predecessor.
    const std::vector<TokenScore> ts = model.score(p.ids[c], p.first_target[c]);
    ContinuationScore cs;
    for (const TokenScore& t : ts) cs.logprob += t.logprob;
    cs.n_tokens = static_cast<int32_t>(ts.size());
    out.continuations.push_back(cs);
  }
  return out;
}

}  // namespace lossgap::probes
