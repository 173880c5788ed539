// lossgap command line: registers the subcommands (commands.h), parses arguments, and turns
// errors into exit codes: 0 success, 1 bad input (one line "lossgap: error: <where>: <what>"),
// 2 usage error, 130 interrupted by SIGINT, 3 internal error (a bug in lossgap).
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/version.h"

int main(int argc, char** argv) {
  CLI::App app{"lossgap: score text with Hugging Face language models, token by token, on the CPU.",
               "lossgap"};
  app.set_version_flag("--version", std::string("lossgap ") + lossgap::tool_version() +
                                        " (git " + lossgap::git_commit() + ")");
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 bad input, 2 usage error, 130 interrupted. Run 'lossgap COMMAND --help'.");
  lossgap::cli::add_score_command(app);
  lossgap::cli::add_export_command(app);
  lossgap::cli::add_inspect_command(app);
  lossgap::cli::add_tokenize_command(app);
  lossgap::cli::add_train_tagger_command(app);
  lossgap::cli::add_compare_command(app);
  lossgap::cli::add_report_command(app);
  lossgap::cli::add_import_command(app);
  lossgap::cli::add_probe_command(app);
  lossgap::cli::add_demo_command(app);
  try {
    app.parse(argc, argv);
    return 0;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, version, or the usage error
    return code == 0 ? 0 : 2;
  } catch (const lossgap::InputError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "lossgap: error: %s\n", e.what());
    return 1;
  } catch (const lossgap::cli::Interrupted&) {
    return 130;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "lossgap: internal error: %s\n", e.what());
    return 3;
  }
}
