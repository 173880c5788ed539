// Reading safetensors checkpoints: a strict, bounds-checked header parser, read-only memory
// maps of single files, and sharded sets (model.safetensors.index.json). Tensors come back as
// core/dtype.h TensorViews pointing into the map. Not a writer, and no dtype conversion.
//
// Format (https://github.com/huggingface/safetensors): 8-byte little-endian header length N,
// N bytes of UTF-8 JSON {"<name>": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {str: str}}, then the data section; offsets are relative to its start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace lossgap {

// One tensor entry of a validated header. [begin, end) is relative to the data section.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // PyTorch order
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t data_offset = 0;                       // 8 + N: where the data section starts
  std::vector<SafetensorsEntry> tensors;          // sorted by name
  std::map<std::string, std::string> metadata;    // "__metadata__" (may be empty)
};

// Parses and validates a safetensors header from the first `size` bytes of a file whose total
// size is `file_size` (size <= file_size; the 8 + N header bytes must lie within `size`, an
// InternalError otherwise). Checks: at least 8
// bytes; N <= 100 MB and 8 + N <= file_size; valid JSON object without duplicate keys;
// "__metadata__" an object of strings; each tensor an object with exactly dtype/shape/data_offsets;
// dtype F32, F16 or BF16 (any other is an error naming it); shape of non-negative integers;
// begin <= end <= data section size; end - begin == numel * dtype size (no overflow);
// tensors pairwise non-overlapping. Throws InputError("<file_label>", "tensor '<name>': ...")
// or InputError("<file_label>", "<field>: ...") on the first violation.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, uint64_t file_size,
                                           const std::string& file_label);

// A read-only memory map of a whole file (empty files map to size 0, data nullptr).
class MappedFile {
 public:
  // Throws InputError naming the file when it cannot be opened, stat'ed or mapped.
  static MappedFile open(const std::filesystem::path& path);
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&&) noexcept;
  MappedFile& operator=(MappedFile&&) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// One mmapped .safetensors file with a validated header.
class SafetensorsFile {
 public:
  // Maps and validates `path` (parse_safetensors_header). Tensor data whose address is not a
  // multiple of its dtype size (a header length the writer did not pad) is copied once into an
  // aligned buffer owned by this object; everything else points into the map.
  static SafetensorsFile open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return map_.path(); }
  const std::vector<TensorView>& tensors() const { return views_; }  // sorted by name
  const TensorView* find(const std::string& name) const;               // nullptr if absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The 8 + N header bytes exactly as stored (for identity hashes).
  std::string_view header_bytes() const;

  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;

 private:
  SafetensorsFile() = default;
  MappedFile map_;
  uint64_t data_offset_ = 0;
  std::vector<TensorView> views_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::unique_ptr<uint64_t[]>> realigned_;  // owned copies of misaligned tensors
};

// The weights of one checkpoint directory, as transformers finds them: dir/model.safetensors
// if it exists, else dir/model.safetensors.index.json and the shards its weight_map names.
// Other *.safetensors files in the directory are not part of the checkpoint and are not read.
class SafetensorsSet {
 public:
  // Throws InputError naming the file for: neither file present; an index that is not JSON,
  // has no "weight_map" object, names a shard outside dir or a missing shard; a tensor listed
  // in the map but absent from its shard; a tensor in a shard that the map does not list (or
  // lists under another shard); a tensor name present in two shards; any header error.
  static SafetensorsSet open_dir(const std::filesystem::path& dir);
  // One file, no index.
  static SafetensorsSet open_file(const std::filesystem::path& path);

  // nullptr if absent.
  const TensorView* find(const std::string& name) const;
  // The file holding `name` (LG_CHECK that it exists).
  const std::filesystem::path& file_of(const std::string& name) const;
  // Every tensor name, sorted.
  std::vector<std::string> names() const;
  size_t size() const { return where_.size(); }

  bool sharded() const { return !index_path_.empty(); }
  const std::filesystem::path& index_path() const { return index_path_; }  // empty if single file
  const std::vector<SafetensorsFile>& files() const { return files_; }

  SafetensorsSet(SafetensorsSet&&) noexcept = default;
  SafetensorsSet& operator=(SafetensorsSet&&) noexcept = default;

 private:
  SafetensorsSet() = default;
  std::filesystem::path index_path_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, std::pair<size_t, const TensorView*>> where_;  // name -> (file, view)
};

}  // namespace lossgap
