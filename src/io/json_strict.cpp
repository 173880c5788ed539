// Strict JSON parsing (see json_strict.h).
#include "io/json_strict.h"

#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace lossgap {
namespace {

// Quotes bare NaN / Infinity / -Infinity values (outside strings, after '[', ',' or ':').
std::string quote_python_nonfinite(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  bool in_string = false;
  char last_sig = 0;  // last non-space character outside strings
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
        last_sig = '"';
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    if (last_sig == '[' || last_sig == ',' || last_sig == ':') {
      bool replaced = false;
      for (std::string_view tok : {std::string_view("-Infinity"), std::string_view("Infinity"), std::string_view("NaN")}) {
        if (text.substr(i, tok.size()) == tok) {
          out += '"';
          out += tok;
          out += '"';
          i += tok.size() - 1;
          last_sig = '"';
          replaced = true;
          break;
        }
      }
      if (replaced) continue;
    }
    out += c;
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') last_sig = c;
  }
  return out;
}

}  // namespace

nlohmann::json parse_json_strict(std::string_view text, const std::string& file_label,
                                 bool python_nonfinite) {
  std::string rewritten;
  if (python_nonfinite) {
    rewritten = quote_python_nonfinite(text);
    text = rewritten;
  }
  using json = nlohmann::json;
  // One set of keys per open object; `path` names the object for the message.
  std::vector<std::set<std::string>> keys;
  std::vector<std::string> path;
  std::string pending_key;
  std::string duplicate;
  json::parser_callback_t cb = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        path.push_back(pending_key);
        pending_key.clear();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        if (!path.empty()) path.pop_back();
        break;
      case json::parse_event_t::array_start:
        path.push_back(pending_key);
        pending_key.clear();
        break;
      case json::parse_event_t::array_end:
        if (!path.empty()) path.pop_back();
        break;
      case json::parse_event_t::key: {
        std::string k = parsed.get<std::string>();
        if (!keys.empty() && !keys.back().insert(k).second && duplicate.empty()) {
          std::string where;
          for (const auto& p : path)
            if (!p.empty()) where += (where.empty() ? "" : ".") + p;
          duplicate = "duplicate key '" + k + "' in " +
                      (where.empty() ? std::string("the top-level object") : "object '" + where + "'");
        }
        pending_key = k;
        break;
      }
      case json::parse_event_t::value:
        pending_key.clear();
        break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true);
  } catch (const json::exception& e) {
    // parse_error for syntax, out_of_range for numbers beyond double (found by fuzzing).
    throw InputError(file_label, std::string("invalid JSON: ") + e.what());
  }
  if (!duplicate.empty()) throw InputError(file_label, duplicate);
  return j;
}

nlohmann::json read_json_file(const std::filesystem::path& path, bool python_nonfinite) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "cannot open the file for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(path.string(), "read error");
  return parse_json_strict(ss.str(), path.string(), python_nonfinite);
}

std::string json_brief(const nlohmann::json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

}  // namespace lossgap
