#include "core/error.h"

namespace lossgap {

void fail_check(const char* expr, const char* file, int line, const std::string& msg) {
  throw InternalError(std::string("internal check failed: ") + expr + " at " + file + ":" +
                      std::to_string(line) + (msg.empty() ? "" : " (" + msg + ")"));
}

}  // namespace lossgap
