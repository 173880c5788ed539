// Writes the benchmark's random-weight llama-style checkpoint (~100M matrix parameters; see
// bench_llama_config in random_checkpoint.h) to a directory, for `lossgap score`/`inspect` runs
// by hand. Prints the directory. Not used by the tests.
//
//   bench_make_random_checkpoint OUT_DIR [BF16|F32] [SEED]
#include <cstdlib>
#include <iostream>
#include <string>

#include "random_checkpoint.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: " << argv[0] << " OUT_DIR [BF16|F32] [SEED]\n";
    return 2;
  }
  const std::string dt = argc > 2 ? argv[2] : "BF16";
  if (dt != "BF16" && dt != "F32") {
    std::cerr << argv[0] << ": dtype must be BF16 or F32, got " << dt << "\n";
    return 2;
  }
  lossgap::bench::RandomInit init;
  if (argc > 3) init.seed = std::strtoull(argv[3], nullptr, 10);
  lossgap::bench::write_random_checkpoint(argv[1], lossgap::bench::bench_llama_config(),
                                          dt == "F32" ? lossgap::DType::F32 : lossgap::DType::BF16,
                                          init);
  std::cout << argv[1] << "\n";
  return 0;
}
