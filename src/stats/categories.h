// The standard token categories built from the taggers' columns (copy, delimiters, form,
// context, and optional part-of-speech masks), named as the reports show them; plus the bins of
// the gap against copy distance and against position. Not a tagger: it only combines tags.
#pragma once

#include <span>
#include <vector>

#include "tags/context.h"
#include "tags/copy.h"
#include "tags/delim.h"
#include "tags/form.h"
#include "tags/record.h"

namespace lossgap {

// Tags of one record set. `content` / `function` (from the part-of-speech tagger) are optional.
struct TagColumns {
  const CopyTags& copy;
  const DelimTags& delim;
  std::span<const FormClass> form;
  const ContextTags& context;
  const TokenMask* content = nullptr;
  const TokenMask* function = nullptr;
};

// In this order (categories with no member are kept, so the list is the same for every run):
//   ALL; CONTENT, FUNCTION, CONTENT∩NO-COPY (when the masks are given); NO-COPY; COPY-1,
//   COPY-2-3, COPY-4-7, COPY-8-15, COPY-16-31, COPY-32+ (copy_len bins); COPY-5 (copy_len >= 5);
//   DELIM-OPEN, DELIM-CLOSE, then DELIM-OPEN/<class> and DELIM-CLOSE/<class> for prose, code,
//   markup; FORM/<class> for each form class; DOMAIN/<name> for each domain of the records.
std::vector<Category> standard_categories(const Records& r, const TagColumns& t);

// The study's filters: ALL, CONTENT∩NO-COPY (only when `content` is given), COPY-5.
std::vector<Category> loss_filters(const Records& r, const TagColumns& t);

// Tokens with copy_len >= min_len, binned by copy_dist: "DIST 1", "DIST 2-3", "DIST 4-7", ...
// up to the largest distance present (log2 bins).
std::vector<Category> copy_distance_bins(const CopyTags& copy, uint32_t min_len);

// All tokens binned by ContextTags::pos_bucket: "POS 0", "POS 1", "POS 2-3", ... (log2 bins).
std::vector<Category> position_bins(const ContextTags& context);

}  // namespace lossgap
