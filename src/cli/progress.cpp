// Progress display of the score command (see progress.h).
#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace lossgap::cli {

namespace {

std::string duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  }
  return buf;
}

}  // namespace

Progress::Progress(int64_t total_documents, int64_t already_done)
    : tty_(isatty(STDERR_FILENO) != 0),
      total_(total_documents),
      done_(already_done),
      start_(Clock::now()),
      last_shown_(start_) {}

void Progress::scored(int64_t targets) {
  ++done_;
  ++scored_docs_;
  targets_ += targets;
  show(false);
}

void Progress::skipped() {
  ++done_;
  show(false);
}

void Progress::finish() {
  show(true);
  if (tty_) std::fputc('\n', stderr);
  std::fflush(stderr);
}

void Progress::show(bool force) {
  const auto now = Clock::now();
  const double since_last = std::chrono::duration<double>(now - last_shown_).count();
  if (!force && since_last < (tty_ ? 0.1 : 10.0)) return;
  last_shown_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(targets_) / elapsed : 0;
  const int64_t left = std::max<int64_t>(0, total_ - done_);
  const double eta = scored_docs_ > 0 ? elapsed / static_cast<double>(scored_docs_) * static_cast<double>(left) : -1;
  char stats[160];
  std::snprintf(stats, sizeof stats, "%lld/%lld documents  %.0f tokens/s  elapsed %s  ETA %s",
                static_cast<long long>(done_), static_cast<long long>(total_), rate, duration(elapsed).c_str(),
                left == 0 ? "0s" : duration(eta).c_str());
  if (tty_) {
    constexpr int kWidth = 24;
    const double frac = total_ > 0 ? std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_)) : 1.0;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<size_t>(filled), '=');
    bar.resize(kWidth, ' ');
    std::fprintf(stderr, "\r[%s] %3.0f%% %s\x1b[K", bar.c_str(), frac * 100, stats);
  } else {
    std::fprintf(stderr, "progress: %s\n", stats);
  }
  std::fflush(stderr);
}

}  // namespace lossgap::cli
