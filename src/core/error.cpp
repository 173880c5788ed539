#include "core/error.h"

namespace lossgap {

void fail_check(const char* expr, const char* file, int line, const std::string& msg) {
  std::string what = "internal check failed: ";
  what += expr;
  what += " at ";
  what += file;
  what += ":";
  what += std::to_string(line);
  if (!msg.empty()) {
    what += " (";
    what += msg;
    what += ")";
  }
  throw InternalError(what);
}

}  // namespace lossgap
