// The score command's progress display on stderr: documents done of the total, target tokens
// per second, and the estimated time left. On a terminal, one line redrawn in place (at most
// 10 times a second); otherwise a plain line at most every 10 seconds and at the end.
// Not a logger.
#pragma once

#include <chrono>
#include <cstdint>

namespace lossgap::cli {

class Progress {
 public:
  // total_documents: documents in the corpus; already_done: those skipped as complete (resume).
  Progress(int64_t total_documents, int64_t already_done);
  // One more document scored (targets = target tokens scored in it) or skipped.
  void scored(int64_t targets);
  void skipped();
  // Final line (always printed), then a newline on a terminal.
  void finish();

 private:
  void show(bool force);

  using Clock = std::chrono::steady_clock;
  bool tty_;
  int64_t total_;
  int64_t done_ = 0;
  int64_t scored_docs_ = 0;
  int64_t targets_ = 0;
  Clock::time_point start_;
  Clock::time_point last_shown_;
};

}  // namespace lossgap::cli
