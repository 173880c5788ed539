// The --where filter of `lossgap report` / `compare`: a small expression language over tokens
// (or words) and their documents, evaluated to a TokenMask after tagging, so tags still see the
// whole text. Grammar and fields: docs/compare.md "Filters". Not a query engine: no arithmetic,
// no joins, one pass per atom.
//
//   expr := or ;  or := and ("or" and)* ;  and := not ("and" not)* ;  not := "not" not | atom
//   atom := "(" expr ")" | FIELD OP VALUE
//   OP   := = != < <= > >=        VALUE := bare word | "double-quoted string"
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tags/context.h"
#include "tags/copy.h"
#include "tags/delim.h"
#include "tags/form.h"
#include "tags/pos.h"
#include "tags/record.h"

namespace lossgap {

struct FilterNode;

// A parsed expression. Empty (matches everything) when parsed from blank text.
class Filter {
 public:
  // Throws InputError("--where", "... at character K") for a syntax error, an unknown field, an
  // operator the field does not take, or a value of the wrong type (a number field given a word).
  static Filter parse(std::string_view text);
  bool empty() const { return !root_; }
  const std::string& text() const { return text_; }

  // What the expression reads.
  struct Env {
    const Records& records;
    const CopyTags& copy;
    const DelimTags& delim;
    std::span<const FormClass> form;
    const ContextTags& context;
    // Part of speech per token: tag id, or kNoTag for a token of no word; empty when untagged.
    std::span<const uint16_t> pos_tag;
    const PosTagger* tagger = nullptr;
    const TokenMask* word_initial = nullptr;
    std::span<const Category> categories;  // for `category = NAME`
  };
  static constexpr uint16_t kNoTag = 0xFFFF;

  // The tokens the expression holds for. Throws InputError("--where", ...) for a field the
  // records lack (upos without the tagger) or `category = NAME` naming no category.
  TokenMask evaluate(const Env& env) const;

 private:
  std::shared_ptr<const FilterNode> root_;
  std::string text_;
};

}  // namespace lossgap
