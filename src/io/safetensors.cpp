// Safetensors reading (see safetensors.h): header validation, mmap, sharded sets.
#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "core/error.h"
#include "io/json_strict.h"

namespace lossgap {
namespace {

using json = nlohmann::json;

// The format's own limit (safetensors' MAX_HEADER_SIZE).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

std::string tensor_where(const std::string& name) { return "tensor '" + name + "'"; }

// Storage dtypes of the format that lossgap does not read (a clearer message than "unknown").
bool is_known_unsupported_dtype(const std::string& s) {
  static const std::set<std::string> kOther = {
      "BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F64", "C64",
      "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"};
  return kOther.count(s) != 0;
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint64_t json_u64(const json& v, const std::string& file, const std::string& what) {
  if (!v.is_number_unsigned())
    throw InputError(file, what + " must be a non-negative integer, got " + json_brief(v));
  return v.get<uint64_t>();
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, uint64_t file_size,
                                           const std::string& file_label) {
  LG_CHECK(size <= file_size, "parse_safetensors_header: size > file_size");
  if (file_size < 8)
    throw InputError(file_label, "file is " + std::to_string(file_size) +
                                     " bytes: too short for the 8-byte header length of a "
                                     "safetensors file");
  LG_CHECK(size >= 8, "parse_safetensors_header: fewer than 8 bytes given");
  const uint64_t n = read_u64_le(bytes);
  if (n > kMaxHeaderBytes)
    throw InputError(file_label, "header length " + std::to_string(n) +
                                     " exceeds the format's limit of 100000000 bytes "
                                     "(not a safetensors file, or a corrupted one)");
  if (n > file_size - 8)
    throw InputError(file_label, "header length " + std::to_string(n) +
                                     " runs past the end of the file (file is " +
                                     std::to_string(file_size) + " bytes)");
  LG_CHECK(8 + n <= size, "parse_safetensors_header: header bytes not all given");

  SafetensorsHeader h;
  h.data_offset = 8 + n;
  const uint64_t data_size = file_size - 8 - n;

  json j = parse_json_strict(
      std::string_view(reinterpret_cast<const char*>(bytes + 8), static_cast<size_t>(n)),
      file_label + " (header)");
  if (!j.is_object())
    throw InputError(file_label, "header must be a JSON object, got " + json_brief(j));

  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (v.is_null()) continue;
      if (!v.is_object())
        throw InputError(file_label, "__metadata__ must be an object of strings, got " + json_brief(v));
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          throw InputError(file_label, "__metadata__." + m.key() + " must be a string, got " +
                                           json_brief(m.value()));
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string tw = tensor_where(name);
    if (!v.is_object())
      throw InputError(file_label, tw + ": entry must be an object with dtype, shape and "
                                        "data_offsets, got " + json_brief(v));
    for (auto k = v.begin(); k != v.end(); ++k)
      if (k.key() != "dtype" && k.key() != "shape" && k.key() != "data_offsets")
        throw InputError(file_label, tw + ": unknown field '" + k.key() +
                                         "' (expected dtype, shape, data_offsets)");
    for (const char* field : {"dtype", "shape", "data_offsets"})
      if (!v.contains(field)) throw InputError(file_label, tw + ": missing field '" + field + "'");

    SafetensorsEntry e;
    e.name = name;
    const json& dt = v["dtype"];
    if (!dt.is_string()) throw InputError(file_label, tw + ": dtype must be a string, got " + json_brief(dt));
    const std::string ds = dt.get<std::string>();
    if (ds == "F32") e.dtype = DType::F32;
    else if (ds == "F16") e.dtype = DType::F16;
    else if (ds == "BF16") e.dtype = DType::BF16;
    else if (is_known_unsupported_dtype(ds))
      throw InputError(file_label, tw + ": dtype " + ds + " is not supported (lossgap reads F32, F16, BF16)");
    else
      throw InputError(file_label, tw + ": unknown dtype '" + ds + "' (lossgap reads F32, F16, BF16)");

    const json& sh = v["shape"];
    if (!sh.is_array()) throw InputError(file_label, tw + ": shape must be an array, got " + json_brief(sh));
    // numel with overflow detection: every product stays below 2^62.
    const uint64_t kLimit = uint64_t{1} << 62;
    uint64_t numel = 1;
    bool zero = false;
    for (const json& d : sh) {
      uint64_t x = json_u64(d, file_label, tw + ": shape entry");
      if (x >= kLimit) throw InputError(file_label, tw + ": shape entry " + std::to_string(x) + " is too large");
      e.shape.push_back(static_cast<int64_t>(x));
      if (x == 0) zero = true;
      if (!zero) {
        if (numel > kLimit / x)
          throw InputError(file_label, tw + ": shape " + sh.dump() + " has too many elements");
        numel *= x;
      }
    }
    if (zero) numel = 0;

    const json& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2)
      throw InputError(file_label, tw + ": data_offsets must be [begin, end], got " + json_brief(off));
    e.begin = json_u64(off[0], file_label, tw + ": data_offsets[0]");
    e.end = json_u64(off[1], file_label, tw + ": data_offsets[1]");
    if (e.begin > e.end)
      throw InputError(file_label, tw + ": data_offsets [" + std::to_string(e.begin) + ", " +
                                       std::to_string(e.end) + "] end before begin");
    if (e.end > data_size)
      throw InputError(file_label, tw + ": data_offsets [" + std::to_string(e.begin) + ", " +
                                       std::to_string(e.end) + "] run past the end of the data (" +
                                       std::to_string(data_size) + " bytes after the header; file "
                                       "truncated?)");
    const uint64_t want = numel * dtype_size(e.dtype);  // numel < 2^62, size <= 4: no overflow
    if (e.end - e.begin != want)
      throw InputError(file_label, tw + ": data_offsets [" + std::to_string(e.begin) + ", " +
                                       std::to_string(e.end) + "] hold " +
                                       std::to_string(e.end - e.begin) + " bytes but shape " +
                                       sh.dump() + " of " + ds + " needs " + std::to_string(want));
    h.tensors.push_back(std::move(e));
  }

  // Pairwise non-overlapping: sort by begin and compare neighbours (empty tensors overlap nothing).
  std::vector<const SafetensorsEntry*> by_begin;
  for (const auto& e : h.tensors)
    if (e.end > e.begin) by_begin.push_back(&e);
  std::sort(by_begin.begin(), by_begin.end(),
            [](const SafetensorsEntry* a, const SafetensorsEntry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_begin.size(); ++i) {
    const SafetensorsEntry* a = by_begin[i - 1];
    const SafetensorsEntry* b = by_begin[i];
    if (b->begin < a->end)
      throw InputError(file_label, tensor_where(b->name) + ": data_offsets [" + std::to_string(b->begin) +
                                       ", " + std::to_string(b->end) + "] overlap those of tensor '" +
                                       a->name + "' [" + std::to_string(a->begin) + ", " +
                                       std::to_string(a->end) + "]");
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// MappedFile

MappedFile MappedFile::open(const std::filesystem::path& path) {
  MappedFile m;
  m.path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path.string(), std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw InputError(path.string(), std::string("cannot stat: ") + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(path.string(), "not a regular file");
  }
  m.size_ = static_cast<size_t>(st.st_size);
  if (m.size_ > 0) {
    void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw InputError(path.string(), std::string("cannot mmap: ") + std::strerror(err));
    }
    m.data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return m;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : path_(std::move(o.path_)), data_(o.data_), size_(o.size_) {
  o.data_ = nullptr;
  o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    path_ = std::move(o.path_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

// ---------------------------------------------------------------------------------------------
// SafetensorsFile

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile f;
  f.map_ = MappedFile::open(path);
  const std::string label = path.string();
  if (f.map_.size() < 8)
    throw InputError(label, "file is " + std::to_string(f.map_.size()) +
                                " bytes: too short for the 8-byte header length of a safetensors file");
  SafetensorsHeader h = parse_safetensors_header(f.map_.data(), f.map_.size(), f.map_.size(), label);
  f.data_offset_ = h.data_offset;
  f.metadata_ = std::move(h.metadata);
  f.views_.reserve(h.tensors.size());
  for (auto& e : h.tensors) {
    TensorView v;
    v.name = e.name;
    v.dtype = e.dtype;
    v.shape = e.shape;
    const uint8_t* p = f.map_.data() + h.data_offset + e.begin;
    const size_t nbytes = static_cast<size_t>(e.end - e.begin);
    if (reinterpret_cast<uintptr_t>(p) % dtype_size(e.dtype) != 0) {
      auto buf = std::make_unique<uint64_t[]>((nbytes + 7) / 8);
      std::memcpy(buf.get(), p, nbytes);
      p = reinterpret_cast<const uint8_t*>(buf.get());
      f.realigned_.push_back(std::move(buf));
    }
    v.data = p;
    f.index_[v.name] = f.views_.size();
    f.views_.push_back(std::move(v));
  }
  return f;
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &views_[it->second];
}

std::string_view SafetensorsFile::header_bytes() const {
  return std::string_view(reinterpret_cast<const char*>(map_.data()), static_cast<size_t>(data_offset_));
}

// ---------------------------------------------------------------------------------------------
// SafetensorsSet

SafetensorsSet SafetensorsSet::open_file(const std::filesystem::path& path) {
  SafetensorsSet s;
  s.files_.push_back(SafetensorsFile::open(path));
  for (const TensorView& v : s.files_[0].tensors()) s.where_[v.name] = {0, &v};
  return s;
}

SafetensorsSet SafetensorsSet::open_dir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(dir.string(), "not a directory (expected a Hugging Face checkpoint directory)");
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(single, ec)) return open_file(single);
  if (!fs::exists(index, ec))
    throw InputError(dir.string(), "no model.safetensors and no model.safetensors.index.json "
                                   "(lossgap reads safetensors checkpoints only)");

  const std::string il = index.string();
  json j = read_json_file(index);
  if (!j.is_object()) throw InputError(il, "must be a JSON object, got " + json_brief(j));
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "weight_map" && it.key() != "metadata")
      throw InputError(il, "unknown key '" + it.key() + "' (expected weight_map and metadata)");
  if (!j.contains("weight_map") || !j["weight_map"].is_object())
    throw InputError(il, "weight_map: missing or not an object");
  if (j.contains("metadata") && !j["metadata"].is_object() && !j["metadata"].is_null())
    throw InputError(il, "metadata: must be an object, got " + json_brief(j["metadata"]));

  const json& wm = j["weight_map"];
  std::map<std::string, std::string> map;  // tensor -> shard
  std::map<std::string, std::string> first_tensor_of_shard;
  for (auto it = wm.begin(); it != wm.end(); ++it) {
    if (!it.value().is_string())
      throw InputError(il, "weight_map." + it.key() + ": must be a shard file name, got " + json_brief(it.value()));
    std::string shard = it.value().get<std::string>();
    if (shard.empty() || shard == "." || shard == ".." || shard.find('/') != std::string::npos ||
        shard.find('\\') != std::string::npos || shard.find('\0') != std::string::npos)
      throw InputError(il, "weight_map." + it.key() + ": shard '" + shard +
                               "' must be a file name inside the checkpoint directory");
    map[it.key()] = shard;
    first_tensor_of_shard.emplace(shard, it.key());
  }

  SafetensorsSet s;
  s.index_path_ = index;
  std::map<std::string, size_t> shard_index;
  s.files_.reserve(first_tensor_of_shard.size());
  for (const auto& [shard, tensor] : first_tensor_of_shard) {
    const fs::path sp = dir / shard;
    if (!fs::exists(sp, ec))
      throw InputError(il, "weight_map names shard '" + shard + "' (for tensor '" + tensor +
                               "'), which does not exist in " + dir.string());
    shard_index[shard] = s.files_.size();
    s.files_.push_back(SafetensorsFile::open(sp));
  }
  // Every listed tensor is in its shard.
  for (const auto& [tensor, shard] : map) {
    const SafetensorsFile& f = s.files_[shard_index.at(shard)];
    const TensorView* v = f.find(tensor);
    if (!v)
      throw InputError(f.path().string(), "tensor '" + tensor + "' is listed for this shard in " + il +
                                              " but is not in the shard");
    s.where_[tensor] = {shard_index.at(shard), v};
  }
  // Every tensor of a shard is listed, for that shard.
  for (size_t i = 0; i < s.files_.size(); ++i) {
    const SafetensorsFile& f = s.files_[i];
    for (const TensorView& v : f.tensors()) {
      auto it = map.find(v.name);
      if (it == map.end())
        throw InputError(f.path().string(), "tensor '" + v.name + "' is in this shard but not in the weight_map of " + il);
      if (shard_index.at(it->second) != i)
        throw InputError(f.path().string(), "tensor '" + v.name + "' is in this shard but " + il +
                                                " maps it to shard '" + it->second + "'");
    }
  }
  return s;
}

const TensorView* SafetensorsSet::find(const std::string& name) const {
  auto it = where_.find(name);
  return it == where_.end() ? nullptr : it->second.second;
}

const std::filesystem::path& SafetensorsSet::file_of(const std::string& name) const {
  auto it = where_.find(name);
  LG_CHECK(it != where_.end(), "SafetensorsSet::file_of: no tensor " + name);
  return files_[it->second.first].path();
}

std::vector<std::string> SafetensorsSet::names() const {
  std::vector<std::string> out;
  out.reserve(where_.size());
  for (const auto& [n, _] : where_) out.push_back(n);
  return out;
}

}  // namespace lossgap
