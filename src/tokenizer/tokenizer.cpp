// Tokenizer (see tokenizer.h): loads tokenizer.json and tokenizer_config.json, applies the
// transformers 5.x loading rules that change the pipeline (class rebuilds, add_bos_token /
// add_eos_token templates, special tokens declared only in the config), then encodes as
// tokenizers' Tokenizer::encode does: added tokens, normalizer, normalized added tokens,
// pre-tokenizer, BPE, post-processor.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pretokenizers.h"
#include "tokenizer/unicode.h"

namespace lossgap {

using json = nlohmann::json;
using namespace tok;

namespace {

json read_json(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw InputError(p.string(), "cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    throw InputError(p.string(), std::string("invalid JSON: ") + e.what());
  }
}

// One step of the post-processor chain.
struct PostStep {
  enum Kind { ByteLevelTrim, Template } kind;
  bool add_prefix_space = false;                 // ByteLevelTrim
  std::vector<std::vector<int32_t>> template_;   // Template: per item, the ids ({} = $A)
};

// A special token name as tokenizer_config.json writes it: a string or an AddedToken dict.
std::optional<AddedToken> config_token(const json& v) {
  AddedToken t;
  t.special = true;
  if (v.is_string()) {
    t.content = v.get<std::string>();
    return t;
  }
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    t.content = v["content"].get<std::string>();
    t.lstrip = v.value("lstrip", false);
    t.rstrip = v.value("rstrip", false);
    t.single_word = v.value("single_word", false);
    t.normalized = v.value("normalized", false);
    return t;
  }
  return std::nullopt;
}

}  // namespace

struct Tokenizer::Impl {
  std::string where;  // tokenizer.json path, for errors
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Bpe> bpe;
  std::unique_ptr<Decoder> decoder;
  std::vector<AddedToken> added;
  AddedMatcher raw_matcher, norm_matcher;
  std::vector<PostStep> post;
  std::vector<std::string> id_to_tok;
  std::unordered_map<std::string, int32_t> tok_to_id;
  std::vector<bool> is_special;
  std::optional<int32_t> bos_id, prepended, appended;

  int32_t id_of(const std::string& s, const std::string& field) const {
    auto it = tok_to_id.find(s);
    if (it == tok_to_id.end()) throw InputError(field, "token \"" + s + "\" is not in the vocabulary");
    return it->second;
  }
  void set_token(int32_t id, const std::string& s) {
    if (id < 0) throw InputError(where, "negative token id for \"" + s + "\"");
    if (static_cast<size_t>(id) >= id_to_tok.size()) {
      id_to_tok.resize(static_cast<size_t>(id) + 1);
      is_special.resize(static_cast<size_t>(id) + 1, false);
    }
    id_to_tok[static_cast<size_t>(id)] = s;
    tok_to_id[s] = id;
  }
  void add_token(AddedToken t) {
    if (auto it = tok_to_id.find(t.content); it != tok_to_id.end()) t.id = it->second;
    else t.id = static_cast<int32_t>(id_to_tok.size());
    set_token(t.id, t.content);
    is_special[static_cast<size_t>(t.id)] = t.special;
    added.push_back(std::move(t));
  }

  void encode_segment(std::string_view text, uint32_t base, Encoding& out) const;
  void encode_pieces(PieceList& pl, Encoding& out) const;
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_dir(const std::filesystem::path& dir) {
  const auto tj = dir / "tokenizer.json";
  const auto tc = dir / "tokenizer_config.json";
  return from_files(tj, std::filesystem::exists(tc) ? std::optional(tc) : std::nullopt);
}

Tokenizer Tokenizer::from_files(const std::filesystem::path& tokenizer_json,
                                const std::optional<std::filesystem::path>& tokenizer_config) {
  auto impl = std::make_unique<Impl>();
  Impl& I = *impl;
  I.where = tokenizer_json.string();
  const std::string& W = I.where;
  const json j = read_json(tokenizer_json);
  json cfg = tokenizer_config ? read_json(*tokenizer_config) : json::object();
  const std::string CW = tokenizer_config ? tokenizer_config->string() : std::string("tokenizer_config.json");
  // special_tokens_map.json beside the config fills names the config leaves out.
  if (tokenizer_config) {
    const auto stm = tokenizer_config->parent_path() / "special_tokens_map.json";
    if (std::filesystem::exists(stm)) {
      const json s = read_json(stm);
      for (auto it = s.begin(); it != s.end(); ++it)
        if (!cfg.contains(it.key())) cfg[it.key()] = it.value();
    }
  }
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    throw InputError(W, "expected a tokenizer.json object with a \"model\"");
  const json& model = j["model"];
  const std::string mtype = model.value("type", std::string(model.contains("merges") ? "BPE" : ""));
  if (mtype != "BPE")
    throw InputError(W + ": model.type", "model type \"" + mtype +
                                             "\" is not supported (only BPE; Unigram, WordPiece and "
                                             "WordLevel tokenizers are not)");
  if (j.contains("truncation") && !j["truncation"].is_null())
    throw InputError(W + ": truncation", "truncation is not supported; expected null");

  // transformers 5.x: a tokenizer_class with its own __init__ rebuilds the backend from the
  // vocab and merges with the class's own normalizer, pre-tokenizer and decoder, keeping only
  // the file's post-processor (TokenizersBackend.convert_to_native_format). LlamaTokenizer
  // (models/llama/tokenization_llama.py) is the one such class among our targets.
  const std::string tclass = cfg.value("tokenizer_class", std::string());
  const bool llama_class = tclass == "LlamaTokenizer" || tclass == "LlamaTokenizerFast";
  json model_eff = model;
  json normalizer_j = j.value("normalizer", json());
  json pre_j = j.value("pre_tokenizer", json());
  json decoder_j = j.value("decoder", json());
  if (llama_class) {
    const bool legacy = cfg.contains("legacy") && cfg["legacy"].is_boolean() ? cfg["legacy"].get<bool>() : false;
    const bool add_prefix_space = cfg.contains("add_prefix_space") && cfg["add_prefix_space"].is_boolean()
                                      ? cfg["add_prefix_space"].get<bool>() : true;
    const std::string scheme = add_prefix_space ? (legacy ? "always" : "first") : "never";
    model_eff["fuse_unk"] = true;
    model_eff["byte_fallback"] = true;
    model_eff["unk_token"] = nullptr;
    model_eff["ignore_merges"] = false;
    model_eff["continuing_subword_prefix"] = nullptr;
    model_eff["end_of_word_suffix"] = nullptr;
    normalizer_j = nullptr;
    pre_j = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", scheme}, {"split", false}};
    json seq = json::array({{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                            {{"type", "ByteFallback"}},
                            {{"type", "Fuse"}}});
    if (add_prefix_space) seq.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    decoder_j = {{"type", "Sequence"}, {"decoders", seq}};
  }

  I.bpe = std::make_unique<Bpe>(model_eff, W);
  for (const auto& [s, id] : I.bpe->vocab()) I.set_token(id, s);
  I.normalizer = make_normalizer(normalizer_j, W + ": normalizer");
  bool byte_level = false;
  I.pre_tokenizer = make_pre_tokenizer(pre_j, W + ": pre_tokenizer", &byte_level);
  I.decoder = make_decoder(decoder_j, W + ": decoder");

  // Added tokens of the file, then those only the config declares.
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const json& a : j["added_tokens"]) {
      if (!a.contains("id") || !a.contains("content") || !a["content"].is_string())
        throw InputError(W + ": added_tokens", "expected objects with \"id\" and \"content\"");
      AddedToken t;
      t.id = a["id"].get<int32_t>();
      t.content = a["content"].get<std::string>();
      t.single_word = a.value("single_word", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      t.normalized = a.value("normalized", !a.value("special", false));
      t.special = a.value("special", false);
      I.set_token(t.id, t.content);
      I.is_special[static_cast<size_t>(t.id)] = t.special;
      I.added.push_back(std::move(t));
    }
  }
  auto has_added = [&I](const std::string& c) {
    for (const auto& t : I.added)
      if (t.content == c) return true;
    return false;
  };
  if (cfg.contains("added_tokens_decoder") && cfg["added_tokens_decoder"].is_object()) {
    std::vector<std::pair<long, json>> entries;
    for (auto it = cfg["added_tokens_decoder"].begin(); it != cfg["added_tokens_decoder"].end(); ++it)
      entries.emplace_back(std::stol(it.key()), it.value());
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [id, v] : entries) {
      auto t = config_token(v);
      if (!t || has_added(t->content)) continue;
      t->special = v.value("special", false);
      I.add_token(*t);
    }
  }
  std::optional<AddedToken> bos_tok, eos_tok;
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
    if (!cfg.contains(key)) continue;
    auto t = config_token(cfg[key]);
    if (!t) continue;
    if (std::string(key) == "bos_token") bos_tok = t;
    if (std::string(key) == "eos_token") eos_tok = t;
    if (!has_added(t->content)) I.add_token(*t);
  }
  for (const char* key : {"additional_special_tokens", "extra_special_tokens"}) {
    if (!cfg.contains(key) || !cfg[key].is_array()) continue;
    for (const json& v : cfg[key])
      if (auto t = config_token(v); t && !has_added(t->content)) I.add_token(*t);
  }
  {
    std::vector<AddedToken> raw, norm;
    for (const auto& t : I.added) {
      if (!t.normalized) {
        raw.push_back(t);
        continue;
      }
      // tokenizers looks for the normalized form of a normalized token's content.
      AddedToken n = t;
      if (I.normalizer && !t.content.empty()) {
        PieceList pl;
        pl.text = t.content;
        pl.align.assign(t.content.size(), Span{0, 0});
        pl.pieces.push_back({0, static_cast<uint32_t>(t.content.size())});
        I.normalizer->apply(pl);
        n.content.clear();
        for (const Range& r : pl.pieces) n.content += pl.view(r);
      }
      norm.push_back(std::move(n));
    }
    I.raw_matcher = AddedMatcher(std::move(raw));
    I.norm_matcher = AddedMatcher(std::move(norm));
  }
  if (bos_tok) I.bos_id = I.id_of(bos_tok->content, CW + ": bos_token");

  // Post-processor: the file's. transformers 5.17 builds one from add_bos_token /
  // add_eos_token only when the file has none (TokenizersBackend.update_post_processor); with a
  // post-processor in the file those config keys change nothing (checked by the bos_eos_flags,
  // bos_null and metaspace_bf fixtures).
  const json pp = j.value("post_processor", json());
  if (pp.is_null()) {
    const bool add_bos = cfg.value("add_bos_token", false) && bos_tok.has_value();
    const bool add_eos = cfg.value("add_eos_token", false) && eos_tok.has_value();
    PostStep t{PostStep::Template, false, {}};
    if (add_bos) t.template_.push_back({I.id_of(bos_tok->content, CW + ": bos_token")});
    t.template_.push_back({});
    if (add_eos) t.template_.push_back({I.id_of(eos_tok->content, CW + ": eos_token")});
    I.post.push_back(std::move(t));
  } else {
    std::function<void(const json&, const std::string&)> add_pp = [&](const json& p, const std::string& w) {
      const std::string type = p.value("type", std::string());
      if (type == "Sequence") {
        if (!p.contains("processors") || !p["processors"].is_array())
          throw InputError(w, "expected an array \"processors\"");
        for (size_t i = 0; i < p["processors"].size(); ++i)
          add_pp(p["processors"][i], w + ".processors[" + std::to_string(i) + "]");
      } else if (type == "ByteLevel") {
        if (p.value("trim_offsets", true))
          I.post.push_back({PostStep::ByteLevelTrim, p.value("add_prefix_space", true), {}});
      } else if (type == "TemplateProcessing") {
        if (!p.contains("single") || !p["single"].is_array()) throw InputError(w, "expected an array \"single\"");
        PostStep t{PostStep::Template, false, {}};
        for (const json& item : p["single"]) {
          if (item.contains("Sequence")) {
            const std::string sid = item["Sequence"].value("id", std::string("A"));
            if (sid != "A") throw InputError(w + ".single", "a single-sequence template can only use $A");
            t.template_.push_back({});
          } else if (item.contains("SpecialToken")) {
            const std::string name = item["SpecialToken"].value("id", std::string());
            const json& st = p.value("special_tokens", json::object());
            if (!st.contains(name) || !st[name].contains("ids") || !st[name]["ids"].is_array())
              throw InputError(w + ".special_tokens", "special token \"" + name + "\" has no ids");
            std::vector<int32_t> ids;
            for (const json& x : st[name]["ids"]) ids.push_back(x.get<int32_t>());
            if (ids.empty()) throw InputError(w + ".special_tokens", "special token \"" + name + "\" has no ids");
            t.template_.push_back(std::move(ids));
          } else {
            throw InputError(w + ".single", "expected Sequence or SpecialToken items, found " + item.dump());
          }
        }
        I.post.push_back(std::move(t));
      } else if (type == "BertProcessing" || type == "RobertaProcessing") {
        if (!p.contains("cls") || !p.contains("sep")) throw InputError(w, "expected \"cls\" and \"sep\"");
        if (type == "RobertaProcessing" && p.value("trim_offsets", true))
          I.post.push_back({PostStep::ByteLevelTrim, p.value("add_prefix_space", true), {}});
        PostStep t{PostStep::Template, false, {}};
        t.template_ = {{p["cls"][1].get<int32_t>()}, {}, {p["sep"][1].get<int32_t>()}};
        I.post.push_back(std::move(t));
      } else {
        throw InputError(w, "post_processor type \"" + type +
                                "\" is not supported (supported: TemplateProcessing, ByteLevel, "
                                "BertProcessing, RobertaProcessing, Sequence)");
      }
    };
    add_pp(pp, W + ": post_processor");
  }
  for (const PostStep& s : I.post) {
    if (s.kind != PostStep::Template) continue;
    I.prepended.reset();
    I.appended.reset();
    // The tokens directly before and after $A.
    for (size_t k = 0; k < s.template_.size(); ++k) {
      if (!s.template_[k].empty()) continue;
      if (k > 0) I.prepended = s.template_[k - 1].back();
      if (k + 1 < s.template_.size()) I.appended = s.template_[k + 1].front();
    }
  }
  return Tokenizer(std::move(impl));
}

// Normalizes one stretch of text without non-normalized added tokens, splits it on normalized
// added tokens, pre-tokenizes and encodes the rest.
void Tokenizer::Impl::encode_segment(std::string_view text, uint32_t base, Encoding& out) const {
  PieceList pl;
  pl.text.assign(text);
  pl.align.resize(text.size());
  for (size_t p = 0; p < text.size();) {
    const size_t e = utf8_char_end(text, p);
    for (size_t k = p; k < e; ++k)
      pl.align[k] = {base + static_cast<uint32_t>(p), base + static_cast<uint32_t>(e)};
    p = e;
  }
  pl.pieces.push_back({0, static_cast<uint32_t>(text.size())});
  if (normalizer) normalizer->apply(pl);
  if (pl.pieces.empty()) return;
  if (norm_matcher.empty()) {
    encode_pieces(pl, out);
    return;
  }
  const Range whole = pl.pieces.front();
  std::vector<AddedMatch> m;
  norm_matcher.find(pl.view(whole), m);
  uint32_t cur = whole.begin;
  auto flush = [&](uint32_t b, uint32_t e) {
    if (e <= b) return;
    PieceList sub;
    sub.text = pl.text.substr(b, e - b);
    sub.align.assign(pl.align.begin() + b, pl.align.begin() + e);
    sub.pieces.push_back({0, e - b});
    encode_pieces(sub, out);
  };
  for (const AddedMatch& a : m) {
    const auto b = whole.begin + static_cast<uint32_t>(a.begin), e = whole.begin + static_cast<uint32_t>(a.end);
    flush(cur, b);
    out.ids.push_back(a.id);
    out.offsets.emplace_back(pl.align[b].first, pl.align[e - 1].second);
    cur = e;
  }
  flush(cur, whole.end);
}

void Tokenizer::Impl::encode_pieces(PieceList& pl, Encoding& out) const {
  if (pre_tokenizer) pre_tokenizer->apply(pl);
  std::vector<BpeToken> toks;
  for (const Range& r : pl.pieces) {
    toks.clear();
    bpe->encode_word(pl.view(r), toks);
    uint32_t p = r.begin;
    for (const BpeToken& t : toks) {
      out.ids.push_back(t.id);
      out.offsets.emplace_back(pl.align[p].first, pl.align[p + t.len - 1].second);
      p += t.len;
    }
  }
}

Encoding Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const Impl& I = *impl_;
  utf8_validate(text, "text to tokenize");
  LG_CHECK(text.size() < (size_t{1} << 32), "text longer than 4 GiB");
  Encoding enc;
  enc.ids.reserve(text.size() / 3 + 4);
  enc.offsets.reserve(text.size() / 3 + 4);
  std::vector<AddedMatch> m;
  I.raw_matcher.find(text, m);
  size_t cur = 0;
  for (const AddedMatch& a : m) {
    if (a.begin > cur) I.encode_segment(text.substr(cur, a.begin - cur), static_cast<uint32_t>(cur), enc);
    enc.ids.push_back(a.id);
    enc.offsets.emplace_back(static_cast<uint32_t>(a.begin), static_cast<uint32_t>(a.end));
    cur = a.end;
  }
  if (cur < text.size()) I.encode_segment(text.substr(cur), static_cast<uint32_t>(cur), enc);

  for (const PostStep& s : I.post) {
    if (s.kind == PostStep::ByteLevelTrim) {
      // tokenizers' process_offsets: drop leading / trailing 'Ġ' (or whitespace) from spans.
      static const std::string kSpace = byte_level_char(' ');
      for (size_t i = 0; i < enc.ids.size(); ++i) {
        const std::string& t = I.id_to_tok[static_cast<size_t>(enc.ids[i])];
        auto is_sp = [&](size_t p, size_t q) {
          if (t.compare(p, q - p, kSpace) == 0) return true;
          size_t x = p;
          return is_whitespace(utf8_decode(t, x));
        };
        size_t lead = 0, trail = 0;
        for (size_t p = 0; p < t.size();) {
          const size_t q = utf8_char_end(t, p);
          if (!is_sp(p, q)) break;
          ++lead;
          p = q;
        }
        for (size_t q = t.size(); q > 0;) {
          const size_t p = utf8_char_start(t, q - 1);
          if (!is_sp(p, q)) break;
          ++trail;
          q = p;
        }
        auto& [b, e] = enc.offsets[i];
        if (lead > 0) {
          const bool is_first = i == 0 || b == 0;
          if (!(is_first && s.add_prefix_space && lead == 1))
            b = std::min(b + static_cast<uint32_t>(lead), e);
        }
        if (trail > 0 && e >= trail) e = std::max(e - static_cast<uint32_t>(trail), b);
      }
    } else if (add_special_tokens) {
      Encoding o;
      o.ids.reserve(enc.ids.size() + 4);
      o.offsets.reserve(enc.ids.size() + 4);
      for (const auto& item : s.template_) {
        if (item.empty()) {
          o.ids.insert(o.ids.end(), enc.ids.begin(), enc.ids.end());
          o.offsets.insert(o.offsets.end(), enc.offsets.begin(), enc.offsets.end());
        } else {
          for (int32_t id : item) {
            o.ids.push_back(id);
            o.offsets.emplace_back(0, 0);
          }
        }
      }
      enc = std::move(o);
    }
  }
  return enc;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  const Impl& I = *impl_;
  std::vector<std::string> toks;
  toks.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= I.id_to_tok.size()) continue;
    if (skip_special_tokens && I.is_special[static_cast<size_t>(id)]) continue;
    toks.push_back(I.id_to_tok[static_cast<size_t>(id)]);
  }
  // transformers 5.17 ignores clean_up_tokenization_spaces for BPE tokenizers.
  std::string out;
  if (I.decoder) {
    I.decoder->chain(toks);
    for (const auto& t : toks) out += t;
  } else {
    for (size_t i = 0; i < toks.size(); ++i) out += (i ? " " : "") + toks[i];
  }
  return out;
}

std::optional<int32_t> Tokenizer::prepended_bos() const { return impl_->prepended; }
std::optional<int32_t> Tokenizer::appended_eos() const { return impl_->appended; }
std::optional<int32_t> Tokenizer::bos_token_id() const { return impl_->bos_id; }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  auto it = impl_->tok_to_id.find(std::string(token));
  if (it == impl_->tok_to_id.end()) return std::nullopt;
  return it->second;
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->id_to_tok.size()) return "";
  return impl_->id_to_tok[static_cast<size_t>(id)];
}

size_t Tokenizer::vocab_size() const { return impl_->id_to_tok.size(); }

}  // namespace lossgap
