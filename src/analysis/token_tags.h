// Every tag of every token of one model's run, as named columns, for `lossgap export --tags`
// (so any analysis can be redone outside lossgap). The tags are those the comparison uses
// (docs/taggers.md), computed on that model's tokens and windows alone. Not the categories or
// statistics (analysis.h).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analysis/load.h"
#include "tags/context.h"
#include "tags/copy.h"
#include "tags/delim.h"
#include "tags/form.h"
#include "tags/pos.h"

namespace lossgap {

class TokenTagTable {
 public:
  // Loads and tags the tokens of `model` in `store`; part of speech only when `pos` is given
  // (it must outlive the table). `same_tokens`, the table of another model of the store, lends
  // its tags where they must be equal instead of computing them again: part of speech when the
  // two runs have the same token spans in the same documents (one tokenizer), and every other
  // tag when the token ids and window positions are the same too (one scoring policy).
  // Throws InputError as load_run.
  TokenTagTable(const std::filesystem::path& store, const std::string& model, const PosTagger* pos,
                const TokenTagTable* same_tokens = nullptr);

  // Column names, in order: position, copy_len, copy_dist, prev_dist, type_count, delim,
  // delim_kind, form, domain, domain_class, pos_bucket, freq_bucket, token_count, and with
  // part of speech upos, xpos, pos_class, word_initial.
  const std::vector<std::string>& columns() const { return columns_; }
  static std::vector<std::string> column_names(bool with_pos);

  // One cell: its text, and whether it is text (quoted in JSON) or a number.
  struct Cell {
    std::string value;
    bool text = false;
  };
  // The cells of token `pos` of document `doc`, aligned with columns(). Throws InputError when the
  // run has no such token.
  void row(const std::string& doc, int64_t pos, std::vector<Cell>& out) const;

 private:
  std::vector<std::string> columns_;
  LoadedRun run_;
  std::unordered_map<std::string, size_t> doc_index_;
  CopyTags copy_;
  DelimTags delim_;
  std::vector<FormClass> form_;
  ContextTags context_;
  const PosTagger* pos_ = nullptr;
  std::vector<uint16_t> pos_tag_;     // [N] tag id, 0xFFFF for a token of no word
  std::vector<uint8_t> word_initial_; // [N]
};

}  // namespace lossgap
