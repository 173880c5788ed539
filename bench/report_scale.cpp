// End-to-end scale of `lossgap report`: a run store of N synthetic tokens x 2 models (default
// 10^7; documents of 100..8000 tokens, Zipf-like ids with planted repeats, text built from the
// ids, context 4096 / stride 2048), then the analysis exactly as the command runs it: load the
// store into records, every tagger (with the shipped POS model when given), every category with
// a 1000-resample document bootstrap, distance and position bins, filtered losses, the
// regression, and the terminal summary and JSON renderings. Prints JSON: seconds and fraction of
// the whole per stage (load, each stage of analyse(), rendering), CPU seconds (user + system, all
// threads), the load average as it starts (the machine is shared), peak resident memory. The
// store is kept (and reused when it exists) so a rerun measures the report only.
// Usage: bench_report_scale [TOKENS] [STORE_PATH] [POS_MODEL]
#include <omp.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>

#include "analysis/analysis.h"
#include "report/json.h"
#include "report/summary.h"
#include "store/store.h"

namespace {

using namespace lossgap;
namespace fs = std::filesystem;

std::string piece(int32_t id) {
  static const char* kSpecial[] = {"(", ")", "[", "]", "{", "}", "\"", " \"", "\n", "\n    ",
                                   " ", ".", ",", ":", " =", " 1", "2", "<b>", "</b>", "'"};
  if (id < 20) return kSpecial[id];
  std::string s = " ";
  for (int32_t x = id; x > 0; x /= 26) s += static_cast<char>('a' + x % 26);
  return s;
}

void build_store(const fs::path& path, size_t n_tokens) {
  RunStore store = RunStore::open(path, true);
  RunHeader h;
  h.tool_version = "bench";
  h.git_commit = "bench";
  h.policy.context = 4096;
  h.policy.stride = 2048;
  h.policy.bos = BosPolicy::Never;
  h.corpus_path = "synthetic";
  h.corpus_kind = "jsonl";
  h.corpus_sha256 = "synthetic";
  std::vector<StoredRun> runs;
  for (const char* name : {"A", "B"}) {
    ModelRecord m;
    m.name = name;
    m.dir = name;
    m.model_type = "synthetic";
    m.tokenizer_sha256 = "synthetic";
    runs.push_back(store.start_run(m, h, false));
  }
  std::mt19937_64 rng(20260611);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  const char* domains[] = {"books", "python", "html", ""};
  size_t done = 0, d = 0;
  while (done < n_tokens) {
    const size_t len = std::min<size_t>(n_tokens - done, 100 + rng() % 7900);
    std::vector<int32_t> ids(len);
    for (auto& x : ids) x = static_cast<int32_t>(std::pow(100000.0, u01(rng)));
    for (int k = 0; k < 4 && len > 200; ++k) {
      const size_t l = 5 + rng() % 60, from = rng() % (len / 2), to = from + 1 + rng() % (len / 2);
      for (size_t q = 0; q < l && to + q < len; ++q) ids[to + q] = ids[from + q];
    }
    Document doc;
    doc.id = "doc" + std::to_string(d);
    doc.domain = domains[d % 4];
    doc.extra = "{}";
    doc.origin = "synthetic";
    std::vector<std::pair<uint32_t, uint32_t>> spans;
    for (int32_t id : ids) {
      const uint32_t b = static_cast<uint32_t>(doc.text.size());
      doc.text += piece(id);
      spans.emplace_back(b, static_cast<uint32_t>(doc.text.size()));
    }
    DocumentScores sa, sb;
    sa.n_tokens = sb.n_tokens = len;
    sa.n_windows = sb.n_windows = 1 + (len > 4096 ? (len - 4096 + 2047) / 2048 : 0);
    for (size_t i = 1; i < len; ++i) {
      TargetRecord t;
      t.pos = static_cast<uint32_t>(i);
      t.token_id = ids[i];
      t.start = spans[i].first;
      t.end = spans[i].second;
      const double a = 0.5 + 6.0 * u01(rng);
      t.score.logprob = static_cast<float>(-a);
      sa.targets.push_back(t);
      t.score.logprob = static_cast<float>(-(a - 0.05 + 0.3 * (u01(rng) - 0.5)));
      sb.targets.push_back(t);
    }
    store.add_scored_document(runs[0], doc, ids, spans, sa);
    store.add_scored_document(runs[1], doc, ids, spans, sb);
    if (store.pending_documents() >= 200) store.commit_batch();
    done += len;
    ++d;
  }
  store.commit_batch();
  for (const StoredRun& r : runs) store.finish_run(r);
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& v) { return static_cast<double>(v.tv_sec) + 1e-6 * static_cast<double>(v.tv_usec); };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const fs::path path = argc > 2 ? fs::path(argv[2]) : fs::temp_directory_path() / ("lossgap_report_scale_" + std::to_string(n) + ".sqlite");
  const std::string pos_model = argc > 3 ? argv[3] : "";
  double build = 0;
  if (!fs::exists(path)) {
    const auto t = std::chrono::steady_clock::now();
    build_store(path, n);
    build = since(t);
  }
  double load_before = -1;  // the 1-minute load average as the report starts (other work on the machine)
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load_before) != 1) load_before = -1;
    std::fclose(f);
  }
  std::optional<PosTagger> tagger;
  if (!pos_model.empty()) tagger.emplace(PosTagger::load(pos_model));
  AnalysisOptions opt;
  opt.pos_tagger = tagger ? &*tagger : nullptr;
  const double c0 = cpu_seconds();
  auto t = std::chrono::steady_clock::now();
  LoadedRun run = load_run(path, {});
  const double load = since(t);
  const size_t tokens = run.records.n_tokens(), docs = run.records.n_docs();
  t = std::chrono::steady_clock::now();
  const AnalysisResult res = analyse(std::move(run), opt);
  const double analysis = since(t);
  t = std::chrono::steady_clock::now();
  const std::string json = render_json(res, false);
  const std::string summary = render_summary(res);
  const double render = since(t);
  const double cpu = cpu_seconds() - c0;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("{\n  \"bench\": \"report_scale\",\n  \"tokens\": %zu,\n  \"documents\": %zu,\n  \"models\": 2,\n", tokens,
              docs);
  std::printf("  \"pos_tagged\": %s,\n  \"bootstrap_resamples\": %u,\n  \"categories\": %zu,\n",
              tagger ? "true" : "false", opt.bootstrap.resamples, res.categories.size());
  std::printf("  \"store_build_seconds\": %.2f,\n  \"store_bytes\": %llu,\n", build,
              static_cast<unsigned long long>(fs::file_size(path)));
  const double total = load + analysis + render;
  std::printf("  \"load_seconds\": %.2f,\n  \"analysis_seconds\": %.2f,\n  \"render_seconds\": %.3f,\n", load,
              analysis, render);
  std::printf("  \"report_seconds\": %.2f,\n  \"report_cpu_seconds\": %.2f,\n", total, cpu);
  std::printf("  \"threads\": %d,\n  \"load_average_before\": %.2f,\n", omp_get_max_threads(), load_before);
  std::printf("  \"stages\": {\n    \"load\": {\"seconds\": %.2f, \"fraction\": %.3f}", load, load / total);
  for (const StageTime& st : res.timing)
    std::printf(",\n    \"%s\": {\"seconds\": %.2f, \"fraction\": %.3f}", st.stage.c_str(), st.seconds,
                st.seconds / total);
  std::printf(",\n    \"render\": {\"seconds\": %.3f, \"fraction\": %.3f}\n  },\n", render, render / total);
  std::printf("  \"peak_rss_mib\": %.1f,\n  \"json_bytes\": %zu,\n  \"summary_bytes\": %zu\n}\n",
              static_cast<double>(ru.ru_maxrss) / 1024.0, json.size(), summary.size());
  return 0;
}
