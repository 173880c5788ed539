// Encoding throughput of lossgap's tokenizer on one text file: the whole file as one text,
// and the file's lines encoded one by one. Prints JSON (median of runs after a warm-up).
// Usage: bench_tokenizer_encode TOKENIZER_DIR TEXT_FILE [RUNS]
// bench/tokenizer_vs_hf.py runs it next to HF tokenizers on the same text and CPU.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double time_runs(int runs, F&& f, size_t* tokens) {
  *tokens = f();  // warm-up (also fills the merge cache, as HF's warm-up does)
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    const auto a = std::chrono::steady_clock::now();
    *tokens = f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  return median(t);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER_DIR TEXT_FILE [RUNS]\n", argv[0]);
    return 2;
  }
  const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  const auto tok = lossgap::Tokenizer::from_dir(argv[1]);
  std::ifstream f(argv[2], std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  std::vector<std::string> lines;
  for (size_t p = 0; p < text.size();) {
    size_t e = text.find('\n', p);
    e = e == std::string::npos ? text.size() : e + 1;
    lines.push_back(text.substr(p, e - p));
    p = e;
  }
  size_t n_long = 0, n_lines = 0;
  const double t_long = time_runs(runs, [&] { return tok.encode(text).ids.size(); }, &n_long);
  const double t_lines = time_runs(runs, [&] {
    size_t n = 0;
    for (const auto& l : lines) n += tok.encode(l).ids.size();
    return n;
  }, &n_lines);
  const double mb = static_cast<double>(text.size()) / 1e6;
  std::printf(
      "{\"impl\": \"lossgap\", \"tokenizer\": \"%s\", \"bytes\": %zu, \"lines\": %zu, \"runs\": %d, "
      "\"long_text\": {\"tokens\": %zu, \"median_s\": %.6f, \"mb_per_s\": %.3f}, "
      "\"line_batch\": {\"tokens\": %zu, \"median_s\": %.6f, \"mb_per_s\": %.3f}}\n",
      argv[1], text.size(), lines.size(), runs, n_long, t_long, mb / t_long, n_lines, t_lines,
      mb / t_lines);
  return 0;
}
