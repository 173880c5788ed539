// Errors of lossgap: typed user-input errors and always-on internal checks.
// Not a logging facility; main() turns an InputError into one line and a non-zero exit.
#pragma once

#include <stdexcept>
#include <string>

namespace lossgap {

// Bad user input (a file, a config value, a CLI argument). `where` names the file (and,
// where it helps, the field or tensor); `what` says what was expected and what was found.
// The message reads "<where>: <what>".
class InputError : public std::runtime_error {
 public:
  InputError(std::string where, std::string what)
      : std::runtime_error(where.empty() ? what : where + ": " + what),
        where_(std::move(where)),
        detail_(std::move(what)) {}
  const std::string& where() const { return where_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string where_;
  std::string detail_;
};

// A violated internal invariant: a bug in lossgap, never bad input.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void fail_check(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace lossgap

// Always-on invariant check (also in release builds). Never use it on user data.
#define LG_CHECK(cond, msg)                                                       \
  do {                                                                            \
    if (!(cond)) ::lossgap::fail_check(#cond, __FILE__, __LINE__, (msg));         \
  } while (0)
