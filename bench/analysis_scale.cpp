// Scale of the model-free analysis: synthetic records of N tokens x 2 models (default 10^7,
// documents of 100..8000 tokens, Zipf-like token ids with planted repeats, text built from the
// ids), then every tagger of this module and every statistic (standard categories with a
// 1000-resample document bootstrap, copy-distance and position bins, filtered losses, the gap
// regression). Prints JSON: seconds per stage (median of runs after a warm-up on a small set),
// tokens per second, CPU seconds (user + system, all threads: on a shared machine the wall
// time depends on the load, the CPU time does not), and peak resident memory.
// With a part-of-speech model, the tagger runs too (documents in parallel, as the analysis does)
// and gives the CONTENT / FUNCTION categories; without one they are stand-ins (token id mod 3).
// Usage: bench_analysis_scale [TOKENS] [RUNS] [MAX_DOC_TOKENS] [POS_MODEL]  (documents of
// 100..MAX_DOC_TOKENS, default 8000; a small value gives many documents, the bootstrap's cost driver)
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "stats/categories.h"
#include "stats/compare.h"
#include "stats/regression.h"
#include "tags/context.h"
#include "tags/copy.h"
#include "tags/delim.h"
#include "tags/form.h"
#include "tags/pos.h"

namespace {

using namespace lossgap;

// The text of token id `id`: a few ids are delimiters, whitespace or digits, the rest words.
std::string piece(int32_t id) {
  static const char* kSpecial[] = {"(", ")", "[", "]", "{", "}", "\"", " \"", "\n", "\n    ",
                                   " ", ".", ",", ":", " =", " 1", "2", "<b>", "</b>", "'"};
  if (id < 20) return kSpecial[id];
  std::string s = " ";
  for (int32_t x = id; x > 0; x /= 26) s += static_cast<char>('a' + x % 26);
  return s;
}

Records synthesize(size_t n_tokens, uint64_t seed, size_t max_doc) {
  std::mt19937_64 rng(seed);
  Records r;
  r.model = {"A", "B"};
  r.nll.resize(2);
  const char* domains[] = {"books", "python", "html", ""};
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  const size_t context = 4096, stride = 2048;
  size_t d = 0;
  while (r.token.size() < n_tokens) {
    const size_t len = std::min<size_t>(n_tokens - r.token.size(), 100 + rng() % (max_doc - 99));
    std::vector<int32_t> ids(len);
    for (auto& x : ids) x = static_cast<int32_t>(std::pow(100000.0, u01(rng)));  // Zipf-like over 100k
    for (int k = 0; k < 4 && len > 200; ++k) {  // planted repeats
      const size_t l = 5 + rng() % 60, from = rng() % (len / 2), to = from + 1 + rng() % (len / 2);
      for (size_t q = 0; q < l && to + q < len; ++q) ids[to + q] = ids[from + q];
    }
    std::string text;
    std::string id = "doc";
    id += std::to_string(d);
    r.begin_document(id, domains[d % 4], "");
    size_t first = 0;  // the scoring policy's windows: later windows keep context - stride tokens
    for (size_t i = 0; i < len; ++i) {
      if (i >= first + context) first += stride;
      const std::string p = piece(ids[i]);
      r.token.push_back(ids[i]);
      r.byte_begin.push_back(static_cast<uint32_t>(text.size()));
      text += p;
      r.byte_end.push_back(static_cast<uint32_t>(text.size()));
      r.position.push_back(static_cast<uint32_t>(i - first));
      const double a = 0.5 + 6.0 * u01(rng);
      r.nll[0].push_back(i == 0 ? NAN : static_cast<float>(a));
      r.nll[1].push_back(i == 0 ? NAN : static_cast<float>(a - 0.05 + 0.3 * (u01(rng) - 0.5)));
    }
    r.text += text;
    r.text_begin.back() = r.text.size();
    r.end_document();
    ++d;
  }
  return r;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& v) { return static_cast<double>(v.tv_sec) + 1e-6 * static_cast<double>(v.tv_usec); };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs the whole analysis once; adds each stage's seconds to `t`.
void analyse(const Records& r, const PosTagger* tagger, std::map<std::string, std::vector<double>>& t) {
  auto clock = std::chrono::steady_clock::now();
  auto lap = [&](const char* name) {
    const auto now = std::chrono::steady_clock::now();
    t[name].push_back(std::chrono::duration<double>(now - clock).count());
    clock = now;
  };
  const CopyTags copy = tag_copy(r);
  lap("tag_copy");
  const DelimTags delim = tag_delim(r);
  lap("tag_delim");
  const std::vector<FormClass> form = tag_form(r, delim.doc_class);
  lap("tag_form");
  const ContextTags ctx = tag_context(r);
  lap("tag_context");
  TokenMask content(r.n_tokens()), function(r.n_tokens());
  if (tagger) {
    std::vector<PosClass> cls(r.n_tokens(), PosClass::Other);
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t d = 0; d < r.n_docs(); ++d) {
      const size_t b = r.doc_begin[d], n = r.doc_begin[d + 1] - b;
      std::vector<std::pair<uint32_t, uint32_t>> spans(n);
      for (size_t k = 0; k < n; ++k) spans[k] = {r.byte_begin[b + k], r.byte_end[b + k]};
      const DocumentPos dp = tag_tokens(*tagger, r.doc_text(d), spans);
      for (size_t k = 0; k < n; ++k) cls[b + k] = dp.tokens[k].pos_class;
    }
    for (size_t i = 0; i < r.n_tokens(); ++i) {
      if (cls[i] == PosClass::Content) content.set(i);
      if (cls[i] == PosClass::Function) function.set(i);
    }
    lap("tag_pos");
  } else {
    for (size_t i = 0; i < r.n_tokens(); ++i) (r.token[i] % 3 == 0 ? content : function).set(i);
  }
  const TagColumns cols{copy, delim, form, ctx, &content, &function};
  const std::vector<Category> cats = standard_categories(r, cols);
  lap("categories");
  const BootstrapOptions opt;
  const auto rows = compare_categories(r, 0, 1, cats, opt);
  lap("compare_categories");
  const auto dist = compare_categories(r, 0, 1, copy_distance_bins(copy, 1), opt);
  const auto pos = compare_categories(r, 0, 1, position_bins(ctx), opt);
  lap("distance_position_bins");
  const auto losses = filtered_losses(r, loss_filters(r, cols), opt);
  lap("filtered_losses");
  std::vector<Category> ind;
  for (const auto& c : cats)
    if (c.name == "CONTENT" || c.name == "NO-COPY" || c.name == "COPY-5" || c.name == "DELIM-OPEN" ||
        c.name == "DELIM-CLOSE")
      ind.push_back(c);
  const OlsResult fit = gap_regression(r, 0, 1, RegressionInputs{ind, copy, ctx, nullptr});
  lap("gap_regression");
  if (rows.empty() || dist.empty() || pos.empty() || losses.empty() || fit.coef.empty()) std::abort();
  t["categories_count"].push_back(static_cast<double>(cats.size() + dist.size() + pos.size()));
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  const size_t max_doc = std::max<size_t>(100, argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 8000);
  std::optional<PosTagger> tagger;
  if (argc > 4) tagger.emplace(PosTagger::load(argv[4]));
  const PosTagger* pos = tagger ? &*tagger : nullptr;
  std::map<std::string, std::vector<double>> warm, t;
  analyse(synthesize(200'000, 1, max_doc), pos, warm);
  const auto g0 = std::chrono::steady_clock::now();
  const Records r = synthesize(n, 20260611, max_doc);
  const double gen = std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count();
  std::vector<double> total, cpu;
  for (int k = 0; k < runs; ++k) {
    const auto a = std::chrono::steady_clock::now();
    const double c = cpu_seconds();
    analyse(r, pos, t);
    total.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
    cpu.push_back(cpu_seconds() - c);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("{\n  \"bench\": \"analysis_scale\",\n  \"tokens\": %zu,\n  \"documents\": %zu,\n  \"models\": 2,\n",
              r.n_tokens(), r.n_docs());
  std::printf("  \"pos_tagged\": %s,\n", pos ? "true" : "false");
  std::printf("  \"runs\": %d,\n  \"bootstrap_resamples\": %u,\n  \"categories\": %.0f,\n", runs,
              BootstrapOptions{}.resamples, t["categories_count"].front());
  std::printf("  \"synthesis_seconds\": %.3f,\n  \"stage_seconds_median\": {\n", gen);
  size_t k = 0;
  for (const auto& [name, v] : t) {
    if (name == "categories_count") continue;
    std::printf("%s    \"%s\": %.3f", k++ ? ",\n" : "", name.c_str(), median(v));
  }
  const double tm = median(total);
  std::printf("\n  },\n  \"analysis_seconds_median\": %.3f,\n  \"analysis_cpu_seconds_median\": %.3f,\n", tm,
              median(cpu));
  std::printf("  \"threads\": %d,\n  \"tokens_per_second\": %.0f,\n", omp_get_max_threads(),
              static_cast<double>(r.n_tokens()) / tm);
  std::printf("  \"peak_rss_mib\": %.1f\n}\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  return 0;
}
