// The strict config.json reading helpers shared by model/config.cpp (transformer families) and
// model/config_ssm.cpp (Mamba families): a key-tracking JSON object reader, the global RoPE
// resolution and the keys every family ends with (special ids, informational and inert keys,
// the unknown-key check). Internal to the config readers; not for other modules.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/json_strict.h"
#include "model/config.h"

namespace lossgap::config_detail {

using json = nlohmann::json;

// Reads one JSON object, remembering which keys were consumed.
class Reader {
 public:
  Reader(const json& obj, std::string file, std::string prefix = "")
      : obj_(obj), file_(std::move(file)), prefix_(std::move(prefix)) {}

  const std::string& file() const { return file_; }
  std::string key_name(const std::string& k) const { return prefix_ + k; }
  [[noreturn]] void fail(const std::string& k, const std::string& what) const {
    throw InputError(file_, key_name(k) + ": " + what);
  }

  // Present, possibly null.
  bool present(const std::string& k) {
    used_.insert(k);
    return obj_.contains(k);
  }
  // Present and not null.
  bool has(const std::string& k) {
    used_.insert(k);
    return obj_.contains(k) && !obj_.at(k).is_null();
  }
  const json& raw(const std::string& k) {
    used_.insert(k);
    return obj_.at(k);
  }

  int64_t integer(const std::string& k, std::optional<int64_t> def, int64_t min_value) {
    if (!has(k)) {
      if (!def) fail(k, "missing (required)");
      return *def;
    }
    const json& v = obj_.at(k);
    if (!v.is_number_integer()) fail(k, "expected an integer, got " + json_brief(v));
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      fail(k, "integer out of range: " + json_brief(v));
    int64_t x = v.get<int64_t>();
    if (x < min_value) fail(k, "expected an integer >= " + std::to_string(min_value) + ", got " + std::to_string(x));
    return x;
  }
  std::optional<int64_t> opt_integer(const std::string& k, int64_t min_value) {
    if (!has(k)) return std::nullopt;
    return integer(k, std::nullopt, min_value);
  }
  double number(const std::string& k, std::optional<double> def, bool positive) {
    if (!has(k)) {
      if (!def) fail(k, "missing (required)");
      return *def;
    }
    const json& v = obj_.at(k);
    if (!v.is_number()) fail(k, "expected a number, got " + json_brief(v));
    double x = v.get<double>();
    if (!std::isfinite(x) || (positive && !(x > 0))) fail(k, std::string("expected a ") + (positive ? "positive " : "") + "finite number, got " + json_brief(v));
    return x;
  }
  bool boolean(const std::string& k, bool def) {
    if (!has(k)) return def;
    const json& v = obj_.at(k);
    if (!v.is_boolean()) fail(k, "expected true or false, got " + json_brief(v));
    return v.get<bool>();
  }
  std::string string(const std::string& k, std::optional<std::string> def) {
    if (!has(k)) {
      if (!def) fail(k, "missing (required)");
      return *def;
    }
    const json& v = obj_.at(k);
    if (!v.is_string()) fail(k, "expected a string, got " + json_brief(v));
    return v.get<std::string>();
  }

  // Every key of the object not consumed: not allowed (`context` says what was being read).
  void reject_unused(const std::string& context) const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (used_.count(it.key())) continue;
      throw InputError(file_, key_name(it.key()) + ": unknown key for " + context +
                                  " (lossgap cannot tell whether it changes the forward pass; "
                                  "see docs/checkpoints.md)");
    }
  }
  void mark_used(const std::string& k) { used_.insert(k); }

 private:
  const json& obj_;
  std::string file_;
  std::string prefix_;
  std::set<std::string> used_;
};

// PreTrainedConfig.convert_rope_params_to_dict + standardize_rope_params for one global dict
// (rope_scaling / rope_parameters / rope_theta / partial_rotary_factor). Families whose
// transformers code ignores partial_rotary_factor pass allow_partial = false: a value other than
// 1 is then an InputError.
RopeParams read_global_rope(Reader& r, const json& cfg, double default_theta, int64_t max_pos,
                            const std::string& model_type, bool allow_partial = false);

// An optional special id: absent -> def, null -> none.
std::optional<int64_t> read_id(Reader& r, const std::string& k, std::optional<int64_t> def);

// The configuration class defaults of the special ids.
struct DefaultIds {
  std::optional<int64_t> bos_token_id, eos_token_id, pad_token_id;
};

// The keys every family reads last: bos/eos/pad ids (eos may be a list), architectures and
// dtype (informational), the inert and fixed-value generic keys; then every key not consumed
// is an InputError naming it (c.model_type names the family).
void finish_config(Reader& r, const json& cfg, ModelConfig& c, const DefaultIds& ids);

}  // namespace lossgap::config_detail
