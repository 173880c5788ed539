// The text the probes are built from: filler sentences and word lists, written for lossgap
// (data/probes/*.txt, see data/probes/README.md) and compiled into the binary by
// data/probes/embed.py (probe_data.cpp). Not the generators (generate.h).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lossgap::probes {

// One data/probes/*.txt file: its name ("filler.txt") and its non-empty lines, in order.
struct EmbeddedFile {
  const char* name;
  std::span<const char* const> lines;
};

// Every embedded file, sorted by name.
const std::vector<EmbeddedFile>& embedded_files();

// The lines of the embedded file `name` (e.g. "roles.txt"). LG_CHECK: the file exists.
std::vector<std::string> embedded_lines(std::string_view name);

}  // namespace lossgap::probes
