#include "platform/namespace_rules.h"

#include <algorithm>

#include "pmemd/size.h"
#include "pmemd/uuid.h"

namespace pmemd {

namespace {

// "1073741824 (1G)", or just the digits when no unit divides it.
std::string Bytes(uint64_t v) {
  std::string digits = std::to_string(v), unit = FormatSize(v);
  return unit == digits ? digits : digits + " (" + unit + ")";
}

}  // namespace

Status NormalizeSpec(NamespaceSpec* s) {
  const std::string& m = s->mode;
  bool pfn = m == "fsdax" || m == "devdax";
  if (!pfn && m != "sector" && m != "raw")
    return Status::InvalidArgument("mode '" + m + "' is unknown; use fsdax, devdax, sector or raw");
  if (pfn) {
    if (!s->map) s->map = "dev";
    if (*s->map != "dev" && *s->map != "mem")
      return Status::InvalidArgument("map '" + *s->map + "' is unknown; use dev (metadata on the device) or mem");
    if (!s->align) s->align = kDefaultNamespaceAlign;
    uint64_t a = *s->align;
    if (a != 4096 && a != (2ull << 20) && a != (1ull << 30))
      return Status::InvalidArgument("align " + std::to_string(a) +
                                     " is not supported; use 4096 (4K), 2097152 (2M) or 1073741824 (1G)");
    if (s->sector_size && m == "devdax")
      return Status::InvalidArgument("sector_size applies to fsdax, sector and raw namespaces, not devdax");
  } else {
    if (s->map) return Status::InvalidArgument("map applies to fsdax and devdax namespaces, not " + m);
    if (s->align) return Status::InvalidArgument("align applies to fsdax and devdax namespaces, not " + m);
  }
  if (m == "sector") {
    if (!s->sector_size) s->sector_size = 4096;
    static const uint32_t kBtt[] = {512, 520, 528, 4096, 4104, 4160, 4224};
    if (std::find(std::begin(kBtt), std::end(kBtt), *s->sector_size) == std::end(kBtt))
      return Status::InvalidArgument("sector_size " + std::to_string(*s->sector_size) +
                                     " is not supported in sector mode; use 512, 520, 528, 4096, 4104, 4160 or 4224");
  } else if (m != "devdax") {
    if (!s->sector_size) s->sector_size = 512;
    if (*s->sector_size != 512 && *s->sector_size != 4096)
      return Status::InvalidArgument("sector_size " + std::to_string(*s->sector_size) + " must be 512 or 4096");
  }
  if (s->name.size() > 63)
    return Status::InvalidArgument("name '" + s->name + "' is " + std::to_string(s->name.size()) +
                                   " bytes; a namespace label holds at most 63");
  if (!s->uuid.empty() && !IsUuid(s->uuid))
    return Status::InvalidArgument("uuid '" + s->uuid +
                                   "' is not a uuid; use the form 01234567-89ab-cdef-0123-456789abcdef");
  if (s->size && *s->size == 0) return Status::InvalidArgument("size must be greater than 0");
  return Status::Ok();
}

uint64_t PfnReservation(uint64_t raw_size, uint64_t align, const std::string& map) {
  // nd_pfn_init(): the info block occupies the first 8 KiB; with map=dev the
  // struct page array follows, 64 bytes for every 4 KiB page of the
  // namespace; the data starts at the next multiple of the alignment, and
  // never below memremap_compat_align(). (Physical starts are multiples of
  // the alignment here: the planner refuses the others.)
  uint64_t npfns = (raw_size - kPfnInfoSize) / kPageSize;
  uint64_t reserve = kPfnInfoSize + (map == "dev" ? npfns * kStructPageSize : 0);
  return AlignUp(reserve, std::max(align, kMemremapCompatAlign));
}

uint64_t BttUsableSize(uint64_t raw_size, uint32_t sector_size) {
  // btt.c (create_arenas, alloc_arena) over a v1.1 BTT, which starts 4 KiB
  // into the namespace: arenas of at most 512 GiB (a last piece under
  // 16 MiB is unused). Each, in whole 4 KiB pages, holds two info blocks and
  // a log of nfree (256) 64-byte groups; one more page stays out of the
  // split of the rest into a 4-byte map entry plus an internal block (the
  // sector rounded up to 64) per LBA; nfree LBAs per arena are spares.
  constexpr uint64_t kArenaMax = 512ull << 30, kArenaMin = 16ull << 20;
  constexpr uint64_t kNfree = 256, kLogGroup = 64, kMapEntry = 4;
  constexpr uint64_t kBttPage = 4096, kInitialOffset = 4096;
  const uint64_t lbasize = AlignUp(sector_size, 64);  // INT_LBASIZE_ALIGNMENT
  uint64_t external_lbas = 0;
  for (uint64_t left = raw_size > kInitialOffset ? raw_size - kInitialOffset : 0; left >= kArenaMin;) {
    uint64_t arena = std::min(left, kArenaMax);
    left -= arena;
    uint64_t avail = AlignDown(arena, kBttPage) - 2 * kBttPage - AlignUp(kNfree * kLogGroup, kBttPage);
    external_lbas += (avail - kBttPage) / (lbasize + kMapEntry) - kNfree;
  }
  return external_lbas * sector_size;
}

uint64_t UsableSize(const NamespaceSpec& spec, uint64_t raw_size) {
  if (spec.mode == "fsdax" || spec.mode == "devdax") {
    uint64_t res = PfnReservation(raw_size, spec.align.value_or(kDefaultNamespaceAlign), spec.map.value_or("dev"));
    return raw_size > res ? raw_size - res : 0;
  }
  if (spec.mode == "sector") return BttUsableSize(raw_size, spec.sector_size.value_or(4096));
  return raw_size;
}

Result<ExtentChoice> ChooseExtent(const std::vector<std::pair<uint64_t, uint64_t>>& free_extents,
                                  uint64_t region_phys, std::optional<uint64_t> size, uint64_t size_align,
                                  uint64_t start_align, const std::string& region) {
  if (size && *size % size_align != 0) {
    uint64_t down = AlignDown(*size, size_align), up = AlignUp(*size, size_align);
    return Status::InvalidArgument("size " + std::to_string(*size) + " is not a multiple of " + Bytes(size_align) +
                                   " (the alignment " + region + " needs); use " +
                                   (down ? std::to_string(down) + " or " : std::string()) + std::to_string(up));
  }
  ExtentChoice best;
  uint64_t largest = 0, total = 0;
  for (const auto& [off, len] : free_extents) {
    total += len;
    uint64_t start = AlignUp(region_phys + off, start_align) - region_phys;
    if (start >= off + len) continue;
    uint64_t room = AlignDown(off + len - start, size_align);
    largest = std::max(largest, room);
    if (size) {
      if (room >= *size) return ExtentChoice{start, *size};
    } else if (room > best.size) {
      best = {start, room};
    }
  }
  if (!size) {
    if (best.size == 0)
      return Status::NoSpace(region + " has no free extent of " + Bytes(size_align) + " or more" +
                             (start_align > size_align ? " starting on a " + Bytes(start_align) + " boundary" : "") +
                             " (available in all: " + std::to_string(total) + ")");
    return best;
  }
  std::string why = region + " has no free extent of " + std::to_string(*size) + " bytes";
  if (start_align > kDefaultNamespaceAlign) why += " starting on a " + Bytes(start_align) + " boundary";
  why += "; the largest that fits is " + std::to_string(largest) + " (available in all: " + std::to_string(total) + ")";
  if (largest) why += "; ask for at most " + std::to_string(largest);
  return Status::NoSpace(why);
}

}  // namespace pmemd
