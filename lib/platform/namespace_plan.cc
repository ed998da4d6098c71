#include "platform/namespace_plan.h"

#include <algorithm>
#include <cctype>

#include "platform/namespace_rules.h"
#include "pmemd/retry.h"
#include "pmemd/text.h"
#include "pmemd/uuid.h"

namespace pmemd::nsplan {

namespace {

std::string AlignList(const std::vector<uint64_t>& v) {
  std::string s;
  for (uint64_t a : v) s += (s.empty() ? "" : ", ") + std::to_string(a);
  return s;
}

// The alignment must be one the kernel offers for the mode (the pfn/dax
// seed's supported_alignments; 1 GiB is missing without hugepage support).
Status CheckAlignSupported(const RegionFacts& r, const NamespaceSpec& spec) {
  if (spec.mode != "fsdax" && spec.mode != "devdax") return Status::Ok();
  bool fsdax = spec.mode == "fsdax";
  if (fsdax ? !r.has_pfn_seed : !r.has_dax_seed)
    return Status::Unsupported(r.dev + " offers no " + (fsdax ? "pfn" : "dax") + " device for " + spec.mode +
                               " mode; load the " + (fsdax ? "nd_pmem" : "dax_pmem") + " module");
  const auto& aligns = fsdax ? r.pfn_aligns : r.dax_aligns;
  if (!aligns.empty() && std::find(aligns.begin(), aligns.end(), *spec.align) == aligns.end())
    return Status::InvalidArgument("align " + std::to_string(*spec.align) + " is not supported by this kernel for " +
                                   spec.mode + " in " + r.dev + "; use one of " + AlignList(aligns));
  return Status::Ok();
}

// The no-space error: the figures it quotes are the region's as List()
// shows them, and the size it suggests is one a plan accepts.
Status NoSpace(const RegionFacts& r, std::optional<uint64_t> size, uint64_t size_align) {
  auto largest = ChooseExtent(FreeExtents(r), 0, std::nullopt, size_align, r.align, r.dev);
  uint64_t most = largest.ok() ? largest->size : 0;
  std::string why = r.dev + " has no free extent of " +
                    (size ? std::to_string(*size) + " bytes" : std::to_string(size_align) + " bytes or more") +
                    " (its available_size is " + std::to_string(r.available_size) + ", its max_available_extent " +
                    std::to_string(r.max_available_extent) + ")";
  if (most)
    why += "; ask for at most " + std::to_string(most);
  else
    why += "; destroy a namespace to free space";
  return Status::NoSpace(why);
}

}  // namespace

std::vector<std::pair<uint64_t, uint64_t>> FreeExtents(const RegionFacts& r) {
  auto used = r.used;
  std::sort(used.begin(), used.end());
  std::vector<std::pair<uint64_t, uint64_t>> gaps;
  uint64_t a = r.align ? r.align : 1;
  // The kernel (nd_pmem_max_contiguous_dpa, nd_pmem_available_dpa) rounds
  // free space inwards to the region alignment.
  auto add = [&](uint64_t start, uint64_t end) {
    start = (start + a - 1) / a * a;
    end = end / a * a;
    if (end > start) gaps.emplace_back(start, end - start);
  };
  uint64_t cur = 0;
  for (const auto& [off, len] : used) {
    if (off > cur) add(cur, off);
    cur = std::max(cur, off + len);
  }
  if (cur < r.size) add(cur, r.size);
  return gaps;
}

RegionSpace ComputeRegionSpace(const RegionFacts& r) {
  RegionSpace s;
  for (const auto& [off, len] : FreeExtents(r)) {
    s.available_size += len;
    s.max_available_extent = std::max(s.max_available_extent, len);
  }
  return s;
}

Status CheckUuidFree(const Facts& f, const std::string& uuid, const std::string& except_dev) {
  if (uuid.empty()) return Status::Ok();
  for (const auto& n : f.namespaces) {
    if (n.dev == except_dev) continue;
    if (n.raw_uuid == uuid)
      return Status::AlreadyExists("uuid " + uuid + " is already used by " + n.dev + " (its label's uuid, raw_uuid)");
    if (n.uuid == uuid)
      return Status::AlreadyExists("uuid " + uuid + " is already used by " + n.dev + " (its " + n.mode +
                                   " info block's uuid, shown as uuid); the kernel allows a uuid once");
  }
  return Status::Ok();
}

std::string RegionName(const std::string& region) {
  if (!region.empty() && region.find_first_not_of("0123456789") == std::string::npos) return "region" + region;
  return region;
}

const RegionFacts* FindRegion(const Facts& f, const std::string& dev) {
  for (const auto& r : f.regions)
    if (r.dev == dev) return &r;
  return nullptr;
}

const NamespaceFacts* FindNamespace(const Facts& f, const std::string& dev) {
  for (const auto& n : f.namespaces)
    if (n.dev == dev) return &n;
  return nullptr;
}

Status UnknownRegion(const Facts& f, const std::string& name) {
  std::string known;
  for (const auto& r : f.regions) known += (known.empty() ? "" : ", ") + r.dev;
  return Status::NotFound("region '" + name + "' does not exist; known regions: " + (known.empty() ? "none" : known));
}

Status UnknownNamespace(const Facts& f, const std::string& dev) {
  std::string known;
  for (const auto& n : f.namespaces) known += (known.empty() ? "" : ", ") + n.dev;
  return Status::NotFound("namespace '" + dev + "' does not exist; known namespaces: " +
                          (known.empty() ? "none" : known));
}

Status CheckNotInUse(const NamespaceFacts& n, const std::string& op) {
  if (!n.system_ram.empty())
    return Status::Busy("cannot " + op + " " + n.dev + ": " + n.system_ram +
                        " is system-ram; run offline-memory and reconfigure-device --mode devdax first");
  return Status::Ok();
}

Result<std::optional<Namespace>> FindCreateRetry(const Inventory& inv, NamespaceSpec spec) {
  if (spec.name.empty()) return std::optional<Namespace>();
  const Namespace* n = nullptr;
  for (const auto& ns : inv.namespaces)
    if (ns.name && *ns.name == spec.name) n = &ns;
  if (n == nullptr) return std::optional<Namespace>();
  PMEMD_RETURN_IF_ERROR(NormalizeSpec(&spec));
  RetryMatch m;
  m.Compare("region", RegionName(spec.region), n->region);
  m.Compare("mode", spec.mode, n->mode);
  m.Compare("map", spec.map, n->map);
  m.Compare("align", spec.align, n->align);
  m.Compare("sector_size", spec.sector_size ? std::optional<uint64_t>(*spec.sector_size) : std::nullopt,
            n->sector_size ? std::optional<uint64_t>(*n->sector_size) : std::nullopt);
  m.Compare("size", spec.size, n->raw_size);
  if (!spec.uuid.empty() && spec.uuid != n->uuid.value_or("") && spec.uuid != n->raw_uuid.value_or(""))
    m.Compare("uuid", spec.uuid, n->uuid.value_or(n->raw_uuid.value_or("")));
  if (!m.matches())
    return m.Conflict("namespace " + Quote(spec.name) + " (" + n->dev + ")",
                      "destroy-namespace " + n->dev + " first, or choose another name");
  return std::optional<Namespace>(*n);
}

Result<NamespacePlan> PlanCreate(const Facts& f, NamespaceSpec spec) {
  PMEMD_RETURN_IF_ERROR(NormalizeSpec(&spec));
  std::string region = RegionName(spec.region);
  const RegionFacts* r = FindRegion(f, region);
  if (!r) return UnknownRegion(f, spec.region);
  if (!r->labels)
    return Status::Unsupported(region + " has no labels (memmap= or a label-less NVDIMM): it holds one "
                               "namespace covering the whole region; use reconfigure-namespace " +
                               (r->io_namespace.empty() ? "namespace" + r->number + ".0" : r->io_namespace) +
                               " to change its mode");
  if (!r->enabled)
    return Status::FailedPrecondition(region + " is disabled; enable it (ndctl enable-region " + region + ") first");
  if (r->read_only)
    return Status::FailedPrecondition(region + " is read-only; namespaces cannot be created in it");
  PMEMD_RETURN_IF_ERROR(CheckUuidFree(f, spec.uuid, ""));
  if (r->free_label_slots && *r->free_label_slots == 0)
    return Status::NoSpace(region + "'s label area is full (no free label slot on " +
                           (r->full_dimm.empty() ? std::string("its DIMM") : r->full_dimm) +
                           "); destroy a namespace first");
  if (r->seed.empty())
    return Status::Unavailable(region + " has no idle namespace seed to configure; the kernel creates one when "
                               "the last one is used: re-enable the region (ndctl disable-region " + region +
                               "; ndctl enable-region " + region + ")");
  PMEMD_RETURN_IF_ERROR(CheckAlignSupported(*r, spec));
  if (spec.mode == "sector" && !r->has_btt_seed)
    return Status::Unsupported(r->dev + " offers no btt device for sector mode; load the nd_btt module");

  uint64_t ns_align = spec.align.value_or(0);
  uint64_t size_align = std::max(r->align, ns_align);
  // The kernel places the namespace itself (first fit on region-alignment
  // boundaries); ask ChooseExtent for exactly that, then check the start.
  auto chosen = ChooseExtent(FreeExtents(*r), 0, spec.size, size_align, r->align, region);
  if (!chosen.ok() && chosen.status().code() == Code::kNoSpace) return NoSpace(*r, spec.size, size_align);
  PMEMD_ASSIGN_OR_RETURN(ExtentChoice ext, std::move(chosen));
  if (ns_align > r->align && (r->phys_start + ext.offset) % ns_align != 0) {
    // Is there an aligned extent later on that the kernel would not use?
    auto aligned = ChooseExtent(FreeExtents(*r), r->phys_start, ext.size, size_align, ns_align, region);
    std::string why = region + " has no free extent of " + std::to_string(ext.size) + " bytes starting on a " +
                      std::to_string(ns_align) + "-byte boundary where the kernel allocates (it takes the first "
                      "free extent that fits, at offset " + std::to_string(ext.offset) + ")";
    if (aligned.ok())
      why += "; an aligned extent is free at offset " + std::to_string(aligned->offset) +
             ": create a namespace of " + std::to_string(aligned->offset - ext.offset) +
             " bytes first to fill the space before it, or use align 2097152";
    else
      why += "; use align 2097152, or destroy namespaces to free an aligned extent";
    return Status::NoSpace(why);
  }
  NamespacePlan plan;
  plan.region = region;
  plan.dev = r->seed;
  plan.mode = spec.mode;
  plan.map = spec.map.value_or("");
  plan.raw_size = ext.size;
  plan.offset = ext.offset;
  plan.align = ns_align;
  plan.sector_size = spec.sector_size.value_or(0);
  plan.size = UsableSize(spec, ext.size);
  if (plan.size == 0)
    return Status::InvalidArgument("a " + spec.mode + " namespace of " + std::to_string(ext.size) +
                                   " bytes has no room left after its metadata; ask for more");
  plan.metadata_size = ext.size - plan.size;
  plan.uuid = spec.uuid.empty() ? NewUuid() : spec.uuid;
  plan.name = spec.name;
  return plan;
}

Result<NamespacePlan> PlanReconfigure(const Facts& f, const std::string& dev, NamespaceSpec spec) {
  const NamespaceFacts* n = FindNamespace(f, dev);
  if (!n) return UnknownNamespace(f, dev);
  PMEMD_RETURN_IF_ERROR(CheckNotInUse(*n, "reconfigure"));
  if (spec.size && *spec.size != n->raw_size)
    return Status::InvalidArgument("reconfigure keeps " + dev + "'s extent (" + std::to_string(n->raw_size) +
                                   " bytes); to change the size, destroy it and create a new namespace");
  if (!spec.region.empty() && RegionName(spec.region) != n->region)
    return Status::InvalidArgument(dev + " is in " + n->region + ", not " + spec.region);
  PMEMD_RETURN_IF_ERROR(NormalizeSpec(&spec));
  const RegionFacts* r = FindRegion(f, n->region);
  if (!r) return UnknownRegion(f, n->region);
  if (r->read_only) return Status::FailedPrecondition(n->region + " is read-only; " + dev + " cannot be reconfigured");
  PMEMD_RETURN_IF_ERROR(CheckAlignSupported(*r, spec));
  if (spec.mode == "sector" && !r->has_btt_seed)
    return Status::Unsupported(r->dev + " offers no btt device for sector mode; load the nd_btt module");
  uint64_t ns_align = spec.align.value_or(0);
  uint64_t start = r->phys_start + n->offset;
  if (ns_align > r->align && (start % ns_align || n->raw_size % ns_align))
    return Status::InvalidArgument(dev + " starts at physical address " + std::to_string(start) + " with " +
                                   std::to_string(n->raw_size) + " bytes, not on " + std::to_string(ns_align) +
                                   "-byte boundaries; use align 2097152, or create a new namespace with this "
                                   "alignment");
  PMEMD_RETURN_IF_ERROR(CheckUuidFree(f, spec.uuid, dev));
  NamespacePlan plan;
  plan.region = n->region;
  plan.dev = dev;
  plan.mode = spec.mode;
  plan.map = spec.map.value_or("");
  plan.raw_size = n->raw_size;
  plan.offset = n->offset;
  plan.align = ns_align;
  plan.sector_size = spec.sector_size.value_or(0);
  plan.size = UsableSize(spec, n->raw_size);
  if (plan.size == 0)
    return Status::InvalidArgument(dev + " (" + std::to_string(n->raw_size) + " bytes) is too small for " +
                                   spec.mode + " metadata");
  plan.metadata_size = n->raw_size - plan.size;
  // A new personality gets a new identity, as with ndctl. On a label-less
  // namespace it is the pfn/dax/btt's uuid (there is no label to hold one).
  plan.uuid = spec.uuid.empty() ? NewUuid() : spec.uuid;
  plan.name = spec.name.empty() ? n->name : spec.name;
  if (n->label_less) plan.name.clear();  // no label to keep a name in
  return plan;
}

namespace {

void RecomputeSpace(RegionFacts* r) {
  const RegionSpace space = ComputeRegionSpace(*r);
  r->available_size = space.available_size;
  r->max_available_extent = space.max_available_extent;
}

}  // namespace

std::vector<Result<NamespacePlan>> PlanCreateSeries(Facts f, const std::vector<std::string>& released,
                                                    const std::vector<NamespaceSpec>& specs) {
  for (const std::string& dev : released) {
    auto n = std::find_if(f.namespaces.begin(), f.namespaces.end(), [&](const NamespaceFacts& x) { return x.dev == dev; });
    if (n == f.namespaces.end()) continue;
    for (auto& r : f.regions) {
      if (r.dev != n->region) continue;
      std::erase(r.used, std::make_pair(n->offset, n->raw_size));
      if (r.free_label_slots && !n->label_less) ++*r.free_label_slots;
      RecomputeSpace(&r);
    }
    f.namespaces.erase(n);
  }
  std::vector<Result<NamespacePlan>> out;
  for (const NamespaceSpec& spec : specs) {
    Result<NamespacePlan> plan = PlanCreate(f, spec);
    if (plan.ok()) {
      for (auto& r : f.regions) {
        if (r.dev != plan->region) continue;
        r.used.emplace_back(plan->offset, plan->raw_size);
        std::sort(r.used.begin(), r.used.end());
        if (r.free_label_slots && *r.free_label_slots > 0) --*r.free_label_slots;
        RecomputeSpace(&r);
      }
      NamespaceFacts n;
      n.dev = plan->dev + " (planned: " + (spec.name.empty() ? std::string("unnamed") : spec.name) + ")";
      n.region = plan->region;
      n.mode = plan->mode;
      n.raw_size = plan->raw_size;
      n.offset = plan->offset;
      n.raw_uuid = plan->uuid;
      n.name = plan->name;
      n.enabled = true;
      f.namespaces.push_back(std::move(n));
    }
    out.push_back(std::move(plan));
  }
  return out;
}

}  // namespace pmemd::nsplan
