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

size_t PreparedInstance::longest_window() const {
  size_t n = ids.size();
  for (const PreparedQuery& q : queries) {
    for (const auto& d : q.distractors) n = std::max(n, q.first + d.size());
  }
  return n;
}

Prepared prepare(const ProbeInstance& inst, const Tokenizer& tok, const ResolvedPolicy& policy) {
  Prepared out;
  PreparedInstance p;
  const size_t bos = policy.bos_id ? 1 : 0;
  const Encoding text = tok.encode(inst.text, false);
  if (policy.bos_id) p.ids.push_back(*policy.bos_id);
  p.ids.insert(p.ids.end(), text.ids.begin(), text.ids.end());
  for (const ProbeQuery& q : inst.queries) {
    const std::string prefix = inst.text.substr(0, q.at);
    const auto span_end = [&](const std::string& c) { return static_cast<uint32_t>(q.at + c.size()); };
    const std::optional<SpanTokens> t = locate_span(text, {q.at, span_end(q.continuations[0])}, q.antecedent);
    if (!t) {
      out.skip = Skip::Boundary;
      return out;
    }
    PreparedQuery pq;
    pq.first = bos + t->first;
    pq.n_target = t->n_tokens;
    pq.distance = t->distance();
    // Each continuation, encoded after the prefix alone, must leave the prefix's tokens as the
    // whole text has them; the target's tokens must be the text's own.
    for (size_t c = 0; c < q.continuations.size(); ++c) {
      const Encoding enc = tok.encode(prefix + q.continuations[c], false);
      const std::optional<SpanTokens> s = locate_span(enc, {q.at, span_end(q.continuations[c])}, q.antecedent);
      if (!s || s->first != t->first || s->first + s->n_tokens != enc.ids.size() ||
          !std::equal(enc.ids.begin(), enc.ids.begin() + static_cast<std::ptrdiff_t>(s->first), text.ids.begin())) {
        out.skip = Skip::Boundary;
        return out;
      }
      const auto cont_begin = enc.ids.begin() + static_cast<std::ptrdiff_t>(s->first);
      if (c == 0) {
        if (s->n_tokens != t->n_tokens || !std::equal(cont_begin, enc.ids.end(), p.ids.begin() +
                                                                                     static_cast<std::ptrdiff_t>(pq.first))) {
          out.skip = Skip::Boundary;
          return out;
        }
      } else {
        pq.distractors.emplace_back(cont_begin, enc.ids.end());
      }
    }
    p.queries.push_back(std::move(pq));
  }
  out.tokens = p.longest_window();
  if (static_cast<int64_t>(out.tokens) > policy.context) {
    out.skip = Skip::Length;
    return out;
  }
  out.instance = std::move(p);
  return out;
}

bool QueryScore::correct() const {
  LG_CHECK(!continuations.empty(), "a query without continuations");
  for (size_t i = 1; i < continuations.size(); ++i) {
    if (!(continuations[0].logprob > continuations[i].logprob)) return false;
  }
  return true;
}

namespace {

template <class F>
double mean_over(const std::vector<QueryScore>& qs, F f) {
  LG_CHECK(!qs.empty(), "an instance without queries");
  double s = 0;
  for (const QueryScore& q : qs) s += f(q);
  return s / static_cast<double>(qs.size());
}

}  // namespace

double InstanceScore::target_logprob() const {
  return mean_over(queries, [](const QueryScore& q) { return q.continuations.at(0).logprob; });
}
double InstanceScore::accuracy() const {
  return mean_over(queries, [](const QueryScore& q) { return q.correct() ? 1.0 : 0.0; });
}
double InstanceScore::distance() const {
  return mean_over(queries, [](const QueryScore& q) { return static_cast<double>(q.distance); });
}
double InstanceScore::target_tokens() const {
  return mean_over(queries, [](const QueryScore& q) { return static_cast<double>(q.continuations.at(0).n_tokens); });
}

InstanceScore score_instance(const Model& model, const PreparedInstance& p) {
  // One pass over the text: every target token, and every distractor's first token from the
  // logits before the query's target (the same prefix).
  std::vector<TokenQuery> asked;
  for (const PreparedQuery& q : p.queries) {
    for (size_t j = 0; j < q.n_target; ++j) asked.push_back({q.first + j, p.ids[q.first + j]});
    for (const auto& d : q.distractors) asked.push_back({q.first, d.at(0)});
  }
  const std::vector<TokenScore> got = model.score_queries(p.ids, asked);
  LG_CHECK(got.size() == asked.size(), "score_queries returned the wrong number of records");
  InstanceScore out;
  size_t k = 0;
  std::vector<int32_t> window;
  for (const PreparedQuery& q : p.queries) {
    QueryScore qs;
    qs.distance = q.distance;
    ContinuationScore target;
    for (size_t j = 0; j < q.n_target; ++j) target.logprob += got[k++].logprob;
    target.n_tokens = static_cast<int32_t>(q.n_target);
    qs.continuations.push_back(target);
    for (const auto& d : q.distractors) {
      ContinuationScore cs;
      cs.logprob = got[k++].logprob;
      cs.n_tokens = static_cast<int32_t>(d.size());
      if (d.size() > 1) {
        // The rest of a longer distractor: its own pass over prefix + distractor.
        window.assign(p.ids.begin(), p.ids.begin() + static_cast<std::ptrdiff_t>(q.first));
        window.insert(window.end(), d.begin(), d.end());
        for (const TokenScore& t : model.score(window, q.first + 1)) cs.logprob += t.logprob;
      }
      qs.continuations.push_back(cs);
    }
    out.queries.push_back(std::move(qs));
  }
  return out;
}

InstanceScore score_instance_reference(const Model& model, const PreparedInstance& p) {
  InstanceScore out;
  std::vector<int32_t> window;
  for (const PreparedQuery& q : p.queries) {
    QueryScore qs;
    qs.distance = q.distance;
    for (size_t c = 0; c <= q.distractors.size(); ++c) {
      window.assign(p.ids.begin(), p.ids.begin() + static_cast<std::ptrdiff_t>(q.first));
      if (c == 0) {
        const auto t = p.ids.begin() + static_cast<std::ptrdiff_t>(q.first);
        window.insert(window.end(), t, t + static_cast<std::ptrdiff_t>(q.n_target));
      } else {
        window.insert(window.end(), q.distractors[c - 1].begin(), q.distractors[c - 1].end());
      }
      ContinuationScore cs;
      for (const TokenScore& t : model.score(window, q.first)) cs.logprob += t.logprob;
      cs.n_tokens = static_cast<int32_t>(window.size() - q.first);
      qs.continuations.push_back(cs);
    }
    out.queries.push_back(std::move(qs));
  }
  return out;
}

}  // namespace lossgap::probes
