// Strict JSON parsing for checkpoint files (safetensors headers, config.json, shard indexes):
// nlohmann::json with duplicate object keys rejected, since which duplicate wins differs
// between readers (Python's json keeps the last, others the first). Not a lenient parser,
// except for one opt-in: the bare NaN / Infinity / -Infinity that Python's json module writes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lossgap {

// Parses `text`. Throws InputError(file_label, ...) on a syntax error (with nlohmann's
// position) or a duplicate key (naming the key and the object it is in).
// With `python_nonfinite`, a bare NaN, Infinity or -Infinity value (as Python's json module
// writes them, e.g. in some config.json files) becomes the JSON string "NaN", "Infinity" or
// "-Infinity", so a reader that wants a number sees a string and says so.
nlohmann::json parse_json_strict(std::string_view text, const std::string& file_label,
                                 bool python_nonfinite = false);

// Reads and parses a whole file. Throws InputError naming the file when it cannot be read.
nlohmann::json read_json_file(const std::filesystem::path& path, bool python_nonfinite = false);

// A short rendering of a JSON value for error messages (at most ~60 characters).
std::string json_brief(const nlohmann::json& v);

}  // namespace lossgap
