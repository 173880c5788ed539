// The subcommands of the lossgap executable. Each add_<name>_command registers one subcommand
// on the root CLI11 app (its options, its --help text and its callback); main.cpp calls them all.
// Not an API for other modules: the work itself lives in the libraries (corpus/, scoring/, ...).
#pragma once

#include <CLI/CLI.hpp>

namespace lossgap::cli {

// Contract for every callback: bad user input throws lossgap::InputError (main prints one line
// "lossgap: error: <where>: <what>" and exits 1); a CLI usage problem throws a CLI11 ParseError
// (main prints it and exits 2); success returns normally (exit 0).

// `lossgap score MODEL_DIR --input CORPUS --out RUN.sqlite ...` (cmd_score.cpp).
void add_score_command(CLI::App& app);
// `lossgap export RUN.sqlite --format jsonl|csv ...` (cmd_export.cpp).
void add_export_command(CLI::App& app);
// `lossgap inspect MODEL_DIR [--config-only]` (cmd_inspect.cpp).
void add_inspect_command(CLI::App& app);
// `lossgap tokenize MODEL_DIR (--file F | --text S) [--json]` (cmd_tokenize.cpp).
void add_tokenize_command(CLI::App& app);
// `lossgap train-tagger --ud DIR --out FILE ...` (cmd_train_tagger.cpp, the POS tagger's owner).
void add_train_tagger_command(CLI::App& app);
// `lossgap probe --model A_DIR [--model B_DIR ...] --out RUN.sqlite ...` (cmd_probe.cpp).
void add_probe_command(CLI::App& app);
// `lossgap compare --model A_DIR --model B_DIR ... --input CORPUS --out RUN.sqlite` (cmd_compare.cpp).
void add_compare_command(CLI::App& app);
// `lossgap report RUN.sqlite [--json F] [--csv DIR] [--baseline NAME] [--where EXPR]` (cmd_report.cpp).
void add_report_command(CLI::App& app);
// `lossgap import RECORDS.jsonl --input CORPUS --out RUN.sqlite --name NAME` (cmd_import.cpp).
void add_import_command(CLI::App& app);
// `lossgap demo [--out DIR] [--threads N]`: the bundled pair on the demo corpus (cmd_demo.cpp).
void add_demo_command(CLI::App& app);

// Thrown by a command that stopped on SIGINT after saving its work; main exits with 130.
struct Interrupted {};

}  // namespace lossgap::cli
