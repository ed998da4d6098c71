// apply and export-layout: thin readers of params over LayoutApplier
// (layout.h; docs/layouts.md has the document).
#include "pmemd/api.h"
#include "pmemd/json_reader.h"
#include "pmemd/layout.h"

namespace pmemd {

using nlohmann::json;

json ApplyResultJson(const ApplyResult& r) {
  json steps = json::array();
  for (const PlanStep& s : r.plan.steps) steps.push_back(PlanStepJson(s));
  return {{"dry_run", r.dry_run}, {"steps", std::move(steps)}, {"done", r.done},
          {"changed", !r.dry_run && r.done > 0}};
}

Status RegisterLayoutMethods(Registry* reg, LayoutApplier* applier) {
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {"apply",
       "Bring the host to a layout (namespaces, system-ram, pools, blocks, leases); dry_run returns the plan",
       Access::kMutate, [applier](const json& params, const CallContext&) -> Result<json> {
         JsonReader r(params, "params");
         json doc;
         ApplyOptions o;
         r.Required("layout", &doc);
         r.Optional("dry_run", &o.dry_run);
         r.Optional("prune", &o.prune);
         r.Optional("force", &o.force);
         PMEMD_RETURN_IF_ERROR(r.Finish());
         PMEMD_ASSIGN_OR_RETURN(Layout layout, ParseLayout(doc, "params.layout"));
         PMEMD_ASSIGN_OR_RETURN(ApplyResult result, applier->Apply(layout, o));
         return ApplyResultJson(result);
       }}));
  return reg->Add({"export-layout", "The host's namespaces, system-ram, pools, blocks and leases as a layout",
                   Access::kRead, [applier](const json& params, const CallContext&) -> Result<json> {
                     PMEMD_RETURN_IF_ERROR(JsonReader(params, "params").Finish());
                     PMEMD_ASSIGN_OR_RETURN(LayoutSnapshot now, applier->Snapshot());
                     return LayoutToJson(ExportLayout(now));
                   }});
}

}  // namespace pmemd
