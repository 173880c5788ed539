// lossgap command line: parses arguments and turns errors into one line and a non-zero exit.
#include <cstdio>
#include <exception>

#include "core/error.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  try {
    std::fprintf(stderr, "lossgap: no commands yet\n");
    return 2;
  } catch (const lossgap::InputError& e) {
    std::fprintf(stderr, "lossgap: error: %s\n", e.what());
    return 1;
  }
}
