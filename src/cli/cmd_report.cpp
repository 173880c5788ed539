// `lossgap report RUN.sqlite`: recomputes the comparison from a run store (every model, or
// --model ones, against --baseline) and writes the terminal summary, --json, --csv and --report;
// for a store holding only probe results, --report writes the probe page. Not scoring (`compare`
// scores first, then does the same).
#include <cstdio>
#include <memory>

#include "cli/analysis_cli.h"
#include "cli/commands.h"
#include "core/error.h"
#include "report/html.h"
#include "store/store.h"

namespace lossgap::cli {

namespace {

struct ReportOptions {
  std::string store;
  std::vector<std::string> models;
  std::string baseline;
  AnalysisCliOptions analysis;
};

}  // namespace

void add_report_command(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand("report", "Compare the models of a run store: summary table, JSON, CSV, HTML (for a store holding only probe results, the probe page).");
  cmd->add_option("RUN", o->store, "Run store written by 'lossgap score', 'compare' or 'import'")->required();
  cmd->add_option("--model", o->models,
                  "Models to compare, by name, in order (repeatable; default: every model of the store)");
  cmd->add_option("--baseline", o->baseline,
                  "The baseline A (default: the first model); every other model is compared against it");
  add_analysis_options(cmd, o->analysis);
  cmd->callback([o] {
    check_analysis_options(o->analysis);
    // A store holding only `lossgap probe` results: its report is the probe page.
    const ProbeCurves probes =
        RunStore::open(o->store, false).runs().empty() ? read_probe_curves(o->store) : ProbeCurves{};
    if (!probes.rows.empty()) {
      if (o->analysis.html.empty())
        throw InputError(o->store, "the run store holds probe results but no scored model: --report F.html writes "
                                   "the probe page ('lossgap probe --json' writes the probe JSON)");
      write_probe_html_report(probes, o->store, "", o->analysis.html);
      std::fprintf(stderr, "lossgap report: %s holds probe results only; wrote the probe page %s\n",
                   o->store.c_str(), o->analysis.html.c_str());
      return;
    }
    LoadOptions load;
    load.models = o->models;
    load.baseline = o->baseline;
    analyse_and_report(o->store, load, o->analysis);
  });
}

}  // namespace lossgap::cli
