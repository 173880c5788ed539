// CSV tables of a comparison (RFC 4180, one header line, NaN as an empty field), written into
// a directory: models.csv, losses.csv, categories.csv, copy_distance.csv, position.csv,
// regression.csv. Every pair's rows carry its `a` and `b` columns and the pairing `level`.
// Column meanings are those of docs/report-json.md. Not the per-token export (`lossgap export`).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "analysis/analysis.h"

namespace lossgap {

// File name -> contents, for each table.
std::map<std::string, std::string> render_csv(const AnalysisResult& r);

// Writes render_csv(r) into `dir` (created when missing). Throws InputError naming the file that
// cannot be written.
void write_csv(const AnalysisResult& r, const std::filesystem::path& dir);

}  // namespace lossgap
