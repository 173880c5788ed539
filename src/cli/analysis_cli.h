// Options shared by `lossgap compare` and `lossgap report`: which analysis to run (bootstrap,
// part-of-speech model, user tags, --where, viewer size) and where to write it (--json, --csv),
// and the one function both commands end with. Not the analysis (src/analysis/).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "analysis/load.h"

namespace lossgap::cli {

struct AnalysisCliOptions {
  std::string json;
  bool json_documents = false;
  std::string csv;
  std::string html;  // --report / --html: the self-contained HTML report (report/html.h)
  std::string where;
  uint32_t resamples = 1000;
  uint64_t seed = 20260611;
  std::string pos_model;
  bool no_pos = false;
  std::vector<std::string> tags;       // NAME=REGEX over the token's text
  std::vector<std::string> text_tags;  // NAME=REGEX over the document text
  uint32_t view_documents = 50;      // the viewer's documents (JSON --json-documents and HTML)
  uint64_t view_tokens = 200000;     // the HTML viewer's units, all documents together
};

// Registers the options above on `cmd`.
void add_analysis_options(CLI::App* cmd, AnalysisCliOptions& o);

// Checks the options that can be checked before any work (--where syntax, tag specs, the POS
// model file). Throws InputError.
void check_analysis_options(const AnalysisCliOptions& o);

// The part-of-speech model: `pos_model` when given, else $LOSSGAP_POS_MODEL, else
// models/pos/en_ud.pos next to the executable or up to two folders above it; nullopt with
// no_pos. Throws InputError when none is found (naming where it looked) or a named file is missing.
std::optional<std::filesystem::path> find_pos_model(const std::string& pos_model, bool no_pos);

// Loads the store, analyses, prints the terminal summary on stdout and writes --json / --csv.
void analyse_and_report(const std::string& store, const LoadOptions& load, const AnalysisCliOptions& o);

}  // namespace lossgap::cli
