// The --where expression language (filter.h): a recursive-descent parser and a mask evaluator.
#include "analysis/filter.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <functional>

#include "core/error.h"

namespace lossgap {

namespace {

enum class Op { Eq, Ne, Lt, Le, Gt, Ge };
enum class FieldType { Number, Text };

struct FieldSpec {
  const char* name;
  FieldType type;
};

// Every field the language knows (docs/compare.md lists their meaning).
constexpr FieldSpec kFields[] = {
    {"doc", FieldType::Text},        {"domain", FieldType::Text},      {"class", FieldType::Text},
    {"copy_len", FieldType::Number}, {"copy_dist", FieldType::Number}, {"position", FieldType::Number},
    {"frequency", FieldType::Number}, {"upos", FieldType::Text},       {"xpos", FieldType::Text},
    {"pos", FieldType::Text},        {"form", FieldType::Text},        {"delim", FieldType::Text},
    {"word_initial", FieldType::Number}, {"text", FieldType::Text},    {"category", FieldType::Text},
};

}  // namespace

struct FilterNode {
  enum class Kind { And, Or, Not, Cmp } kind = Kind::Cmp;
  std::shared_ptr<const FilterNode> a, b;
  std::string field;
  FieldType type = FieldType::Text;
  Op op = Op::Eq;
  std::string value;
  double number = 0;
};

namespace {

using NodeP = std::shared_ptr<const FilterNode>;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  NodeP parse() {
    NodeP n = parse_or();
    skip();
    if (i_ != s_.size()) fail("unexpected '" + std::string(s_.substr(i_, 1)) + "'");
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError("--where", what + " at character " + std::to_string(i_ + 1) + " of \"" + std::string(s_) + "\"");
  }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  static bool word_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '_' || c == '-' || c == '.' || c == '/' || c == '+' || c == ':' || u >= 0x80;
  }
  // The next bare word (without consuming it when peek).
  std::string word(bool peek) {
    skip();
    size_t j = i_;
    while (j < s_.size() && word_char(s_[j])) ++j;
    std::string w(s_.substr(i_, j - i_));
    if (!peek) i_ = j;
    return w;
  }
  bool keyword(const char* k) {
    const size_t save = i_;
    if (word(true) == k) {
      word(false);
      return true;
    }
    i_ = save;
    return false;
  }
  NodeP parse_or() {
    NodeP n = parse_and();
    while (keyword("or")) n = binary(FilterNode::Kind::Or, n, parse_and());
    return n;
  }
  NodeP parse_and() {
    NodeP n = parse_not();
    while (keyword("and")) n = binary(FilterNode::Kind::And, n, parse_not());
    return n;
  }
  NodeP parse_not() {
    if (keyword("not")) {
      auto n = std::make_shared<FilterNode>();
      n->kind = FilterNode::Kind::Not;
      n->a = parse_not();
      return n;
    }
    return parse_atom();
  }
  static NodeP binary(FilterNode::Kind k, NodeP a, NodeP b) {
    auto n = std::make_shared<FilterNode>();
    n->kind = k;
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
  }
  NodeP parse_atom() {
    skip();
    if (i_ < s_.size() && s_[i_] == '(') {
      ++i_;
      NodeP n = parse_or();
      skip();
      if (i_ >= s_.size() || s_[i_] != ')') fail("expected ')'");
      ++i_;
      return n;
    }
    const size_t at = i_;
    const std::string field = word(false);
    if (field.empty()) fail("expected a field (doc, domain, class, copy_len, copy_dist, position, frequency, upos, "
                            "xpos, pos, form, delim, word_initial, text, category) or '('");
    auto n = std::make_shared<FilterNode>();
    const FieldSpec* spec = nullptr;
    for (const FieldSpec& f : kFields)
      if (field == f.name) spec = &f;
    if (!spec) {
      i_ = at;
      fail("unknown field '" + field + "'");
    }
    n->field = field;
    n->type = spec->type;
    skip();
    auto take = [&](const char* t) {
      if (s_.substr(i_).starts_with(t)) {
        i_ += std::char_traits<char>::length(t);
        return true;
      }
      return false;
    };
    if (take("!=")) n->op = Op::Ne;
    else if (take("<=")) n->op = Op::Le;
    else if (take(">=")) n->op = Op::Ge;
    else if (take("=")) n->op = Op::Eq;
    else if (take("<")) n->op = Op::Lt;
    else if (take(">")) n->op = Op::Gt;
    else fail("expected an operator (= != < <= > >=) after '" + field + "'");
    if (n->type == FieldType::Text && n->op != Op::Eq && n->op != Op::Ne)
      fail("field '" + field + "' is text: only = and != apply");
    skip();
    if (i_ < s_.size() && s_[i_] == '"') {
      ++i_;
      std::string v;
      while (i_ < s_.size() && s_[i_] != '"') {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
        v += s_[i_++];
      }
      if (i_ >= s_.size()) fail("unterminated string");
      ++i_;
      n->value = v;
    } else {
      n->value = word(false);
      if (n->value.empty()) fail("expected a value after the operator");
    }
    if (n->type == FieldType::Number) {
      char* end = nullptr;
      n->number = std::strtod(n->value.c_str(), &end);
      if (end == n->value.c_str() || *end != '\0' || !std::isfinite(n->number))
        fail("field '" + field + "' is a number, found '" + n->value + "'");
    }
    return n;
  }

  std::string_view s_;
  size_t i_ = 0;
};

bool compare(double x, Op op, double v) {
  switch (op) {
    case Op::Eq: return x == v;
    case Op::Ne: return x != v;
    case Op::Lt: return x < v;
    case Op::Le: return x <= v;
    case Op::Gt: return x > v;
    case Op::Ge: return x >= v;
  }
  return false;
}

TokenMask complement(const TokenMask& m) {
  TokenMask out(m.size());
  for (size_t i = 0; i < m.size(); ++i)
    if (!m.test(i)) out.set(i);
  return out;
}

TokenMask eval(const FilterNode& n, const Filter::Env& e) {
  const Records& r = e.records;
  const size_t N = r.n_tokens();
  switch (n.kind) {
    case FilterNode::Kind::And: {
      TokenMask m = eval(*n.a, e);
      m &= eval(*n.b, e);
      return m;
    }
    case FilterNode::Kind::Or: {
      TokenMask m = eval(*n.a, e);
      m |= eval(*n.b, e);
      return m;
    }
    case FilterNode::Kind::Not: return complement(eval(*n.a, e));
    case FilterNode::Kind::Cmp: break;
  }
  TokenMask m(N);
  const bool eq = n.op == Op::Eq;
  auto per_token_text = [&](const std::function<std::string_view(size_t d, size_t i)>& f) {
    for (size_t d = 0; d < r.n_docs(); ++d)
      for (size_t i = r.doc_begin[d]; i < r.doc_begin[d + 1]; ++i)
        if ((f(d, i) == n.value) == eq) m.set(i);
  };
  auto per_token_number = [&](const std::function<double(size_t)>& f) {
    for (size_t i = 0; i < N; ++i)
      if (compare(f(i), n.op, n.number)) m.set(i);
  };
  auto need_pos = [&] {
    if (e.pos_tag.empty() || !e.tagger)
      throw InputError("--where", "field '" + n.field + "' needs the part-of-speech tagger, which this analysis ran without");
  };
  const std::string& f = n.field;
  if (f == "doc") {
    per_token_text([&](size_t d, size_t) { return std::string_view(r.doc_id[d]); });
  } else if (f == "domain") {
    per_token_text([&](size_t d, size_t) { return std::string_view(r.doc_domain[d]); });
  } else if (f == "class") {
    per_token_text([&](size_t d, size_t) { return std::string_view(domain_class_name(e.delim.doc_class[d])); });
  } else if (f == "copy_len") {
    per_token_number([&](size_t i) { return e.copy.copy_len[i]; });
  } else if (f == "copy_dist") {
    per_token_number([&](size_t i) { return e.copy.copy_dist[i]; });
  } else if (f == "position") {
    per_token_number([&](size_t i) { return r.position[i]; });
  } else if (f == "frequency") {
    per_token_number([&](size_t i) { return e.context.token_count[static_cast<size_t>(r.token[i])]; });
  } else if (f == "upos" || f == "xpos" || f == "pos") {
    need_pos();
    per_token_text([&](size_t, size_t i) -> std::string_view {
      const uint16_t t = e.pos_tag[i];
      if (f == "pos") return pos_class_name(t == Filter::kNoTag ? PosClass::Other : pos_class_of(e.tagger->upos(t)));
      if (t == Filter::kNoTag) return "";
      return f == "upos" ? e.tagger->upos(t) : e.tagger->xpos(t);
    });
  } else if (f == "word_initial") {
    if (!e.word_initial) need_pos();
    per_token_number([&](size_t i) { return e.word_initial->test(i) ? 1.0 : 0.0; });
  } else if (f == "form") {
    per_token_text([&](size_t, size_t i) { return std::string_view(form_class_name(e.form[i])); });
  } else if (f == "delim") {
    static const char* kSide[] = {"none", "open", "close", "both"};
    per_token_text([&](size_t, size_t i) { return std::string_view(kSide[static_cast<int>(e.delim.side[i])]); });
  } else if (f == "text") {
    per_token_text([&](size_t d, size_t i) { return r.token_text(d, i); });
  } else if (f == "category") {
    const Category* c = nullptr;
    for (const Category& k : e.categories)
      if (k.name == n.value) c = &k;
    if (!c) throw InputError("--where", "no category named \"" + n.value + "\" (names as in the summary table)");
    m = eq ? c->members : complement(c->members);
  } else {
    LG_CHECK(false, "field '" + f + "' has no evaluator");
  }
  return m;
}

}  // namespace

Filter Filter::parse(std::string_view text) {
  Filter f;
  f.text_ = std::string(text);
  bool blank = true;
  for (char c : text) blank = blank && std::isspace(static_cast<unsigned char>(c));
  if (!blank) f.root_ = Parser(text).parse();
  return f;
}

TokenMask Filter::evaluate(const Env& env) const {
  if (!root_) {
    TokenMask all(env.records.n_tokens());
    for (size_t i = 0; i < all.size(); ++i) all.set(i);
    return all;
  }
  return eval(*root_, env);
}

}  // namespace lossgap
