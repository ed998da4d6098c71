// LabelStore: the emulated platform's namespace labels, one JSON document
// on disk, replaced atomically (WriteFileAtomic) on every change.
//
// On-disk format (docs/emulated.md):
//   {"format": "pmemd-emulated-labels", "version": 1, "labels": [Label...]}
// A file from a newer version, or one that does not parse, is refused with
// kCorruption naming the file: pmemd never guesses at namespace layout.
//
// Thread safety: none; the emulated platform serializes access.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pmemd/status.h"

namespace pmemd {

struct Label {
  std::string uuid;      // the label's own uuid (List()'s raw_uuid)
  // The fsdax/devdax/sector info block's uuid (List()'s uuid), distinct from
  // the label's as the kernel's pfn/dax/btt device has its own; "" for raw
  // namespaces and label stores written before it was kept.
  std::string info_uuid;
  std::string name;      // "" when unnamed
  std::string region;    // "region0"
  uint32_t id = 0;       // N in namespaceR.N
  std::string mode;      // "fsdax", "devdax", "sector", "raw"
  std::string map;       // "dev", "mem" or "" (sector, raw)
  uint64_t offset = 0;   // from the start of the region
  uint64_t raw_size = 0; // bytes taken from the region
  uint64_t align = 0;    // fsdax/devdax alignment, 0 otherwise
  uint32_t sector_size = 0;
  bool enabled = true;
  std::string daxmode = "devdax";  // devdax namespaces: "devdax" or "system-ram"
  bool movable = true;             // system-ram: onlined movable
  std::vector<uint64_t> online_blocks;  // system-ram: memory block ids online

  bool operator==(const Label&) const = default;
};

class LabelStore {
 public:
  static constexpr int kVersion = 1;

  // Loads `path`; a missing file is an empty store.
  static Result<LabelStore> Load(const std::string& path);

  const std::vector<Label>& labels() const { return labels_; }
  // Writes the new set durably, then adopts it; on failure nothing changes.
  Status Replace(std::vector<Label> labels);

 private:
  explicit LabelStore(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::vector<Label> labels_;
};

}  // namespace pmemd
