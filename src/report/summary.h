// The terminal summary of a comparison: run header (models, policy, corpus, pairing level),
// filtered losses, and per pair a table of the main categories sorted by mean Δ with 95% CIs
// and win rates, plus the regression's category coefficients. Fits 100 columns. Not the full
// result: every category, bin and coefficient is in the JSON and CSV outputs.
#pragma once

#include <string>

#include "analysis/analysis.h"

namespace lossgap {

// The main category groups the table shows: overall, pos, copy, delim, domain, user (rows with
// no target are left out); ALL first, then the rest by decreasing Δ.
std::string render_summary(const AnalysisResult& r);

}  // namespace lossgap
