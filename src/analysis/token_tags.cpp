// Per-token tag columns of one run (token_tags.h).
#include "analysis/token_tags.h"

#include "core/error.h"

namespace lossgap {

namespace {
constexpr uint16_t kNoTag = 0xFFFF;
const char* kSide[] = {"none", "open", "close", "both"};
}  // namespace

TokenTagTable::TokenTagTable(const std::filesystem::path& store, const std::string& model, const PosTagger* pos,
                             const TokenTagTable* same_tokens)
    : pos_(pos) {
  LoadOptions lo;
  lo.models = {model};
  run_ = load_run(store, lo);
  const Records& r = run_.records;
  for (size_t d = 0; d < r.n_docs(); ++d) doc_index_.emplace(r.doc_id[d], d);
  columns_ = column_names(pos_ != nullptr);
  const Records* o = same_tokens ? &same_tokens->run_.records : nullptr;
  const bool same_spans = o && o->doc_id == r.doc_id && o->doc_begin == r.doc_begin && o->text == r.text &&
                          o->byte_begin == r.byte_begin && o->byte_end == r.byte_end;
  if (same_spans && o->token == r.token && o->position == r.position && o->doc_domain == r.doc_domain) {
    copy_ = same_tokens->copy_;
    delim_ = same_tokens->delim_;
    form_ = same_tokens->form_;
    context_ = same_tokens->context_;
  } else {
    copy_ = tag_copy(r);
    delim_ = tag_delim(r);
    form_ = tag_form(r, delim_.doc_class);
    context_ = tag_context(r);
  }
  if (pos_ && same_spans && same_tokens->pos_ == pos_) {
    pos_tag_ = same_tokens->pos_tag_;
    word_initial_ = same_tokens->word_initial_;
  } else if (pos_) {
    pos_tag_.assign(r.n_tokens(), kNoTag);
    word_initial_.assign(r.n_tokens(), 0);
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t d = 0; d < r.n_docs(); ++d) {
      std::vector<std::pair<uint32_t, uint32_t>> spans;
      for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i) spans.emplace_back(r.byte_begin[i], r.byte_end[i]);
      const DocumentPos dp = tag_tokens(*pos_, r.doc_text(d), spans);
      for (size_t k = 0; k < dp.tokens.size(); ++k) {
        if (dp.tokens[k].word >= 0) pos_tag_[r.doc_begin[d] + k] = dp.tokens[k].tag;
        word_initial_[r.doc_begin[d] + k] = dp.tokens[k].word_initial ? 1 : 0;
      }
    }
  }
}

std::vector<std::string> TokenTagTable::column_names(bool with_pos) {
  std::vector<std::string> c = {"position",     "copy_len",   "copy_dist",   "prev_dist",  "type_count",
                                "delim",        "delim_kind", "form",        "domain",     "domain_class",
                                "pos_bucket",   "freq_bucket", "token_count"};
  if (with_pos) c.insert(c.end(), {"upos", "xpos", "pos_class", "word_initial"});
  return c;
}

void TokenTagTable::row(const std::string& doc, int64_t pos, std::vector<Cell>& out) const {
  const Records& r = run_.records;
  auto it = doc_index_.find(doc);
  if (it == doc_index_.end() || pos < 0 ||
      static_cast<uint64_t>(pos) >= r.doc_begin[it->second + 1] - r.doc_begin[it->second])
    throw InputError(run_.store.string(), "no token " + std::to_string(pos) + " of document \"" + doc + "\"");
  const size_t d = it->second, i = r.doc_begin[d] + static_cast<size_t>(pos);
  out.clear();
  auto num = [&](uint64_t v) { out.push_back({std::to_string(v), false}); };
  auto text = [&](std::string v) { out.push_back({std::move(v), true}); };
  num(r.position[i]);
  num(copy_.copy_len[i]);
  num(copy_.copy_dist[i]);
  num(copy_.prev_dist[i]);
  num(copy_.type_count[i]);
  text(kSide[static_cast<int>(delim_.side[i])]);
  text(delim_.side[i] == DelimSide::None ? "" : delim_kind_name(delim_.kind[i]));
  text(form_class_name(form_[i]));
  text(r.doc_domain[d]);
  text(domain_class_name(delim_.doc_class[d]));
  num(context_.pos_bucket[i]);
  num(context_.freq_bucket[i]);
  num(context_.token_count[static_cast<size_t>(r.token[i])]);
  if (pos_) {
    const uint16_t t = pos_tag_[i];
    text(t == kNoTag ? "" : std::string(pos_->upos(t)));
    text(t == kNoTag ? "" : std::string(pos_->xpos(t)));
    text(pos_class_name(t == kNoTag ? PosClass::Other : pos_class_of(pos_->upos(t))));
    num(word_initial_[i]);
  }
}

}  // namespace lossgap
