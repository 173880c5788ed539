// The JSON summary of a comparison: AnalysisResult serialised as documented in
// docs/report-json.md (schema "lossgap-report", version kReportSchemaVersion). NaN statistics
// (a category with no target) are written as null. Not a reader: lossgap never parses it back.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "analysis/analysis.h"

namespace lossgap {

// The whole result as JSON; the viewer documents ("documents") only when include_view.
nlohmann::json report_json(const AnalysisResult& r, bool include_view);

// report_json(r, include_view) dumped with two-space indentation and a final newline.
std::string render_json(const AnalysisResult& r, bool include_view);

}  // namespace lossgap
