// apply and export-layout: thin readers of params over LayoutApplier
// (layout.h; docs/layouts.md has the document).
#include "pmemd/api.h"
#include "pmemd/json_reader.h"
#include "pmemd/json_schema.h"
#include "pmemd/layout.h"

namespace pmemd {

using nlohmann::json;

json ApplyResultJson(const ApplyResult& r) {
  json steps = json::array();
  for (const PlanStep& s : r.plan.steps) steps.push_back(PlanStepJson(s));
  return {{"dry_run", r.dry_run}, {"steps", std::move(steps)}, {"done", r.done},
          {"changed", !r.dry_run && r.done > 0}};
}

namespace {

// ApplyResultJson's, with PlanStepJson's steps.
json ApplyResultSchema() {
  using namespace schema;
  json step = Object({{"op", String()}, {"object", String()}, {"reason", String()}, {"destroys_data", Boolean()},
                      {"params", Object({})}});
  return Object({{"dry_run", Boolean()}, {"steps", ArrayOf(step)}, {"done", Unsigned()}, {"changed", Boolean()}});
}

Params ApplyParams() {
  return {Param::Object("layout",
                        "The layout document (docs/layouts.md): version, prune, and the namespaces, system_ram, "
                        "pools and leases the host should have, each known by name; every problem in it is named "
                        "at once",
                        LayoutSchema())
              .Required(),
          Param::Boolean("dry_run", "Return the plan and change nothing").Default(false),
          Param::Boolean("prune", "Also destroy what the layout leaves out (as the layout's own prune)").Default(false),
          Param::Boolean("force", "Allow the steps that destroy data").Default(false)};
}

}  // namespace

Status RegisterLayoutMethods(Registry* reg, LayoutApplier* applier) {
  PMEMD_RETURN_IF_ERROR(reg->Add(
      {.name = "apply",
       .summary = "Bring the host to a layout (namespaces, system-ram, pools, blocks, leases); dry_run returns the plan",
       .access = Access::kMutate,
       .params = ApplyParams(),
       .result = ApplyResultSchema(),
       .handler = [applier](JsonReader& r, const CallContext&) -> Result<json> {
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
  return reg->Add({.name = "export-layout",
                   .summary = "The host's namespaces, system-ram, pools, blocks and leases as a layout",
                   .access = Access::kRead,
                   .params = {},
                   .result = LayoutSchema(),
                   .handler = [applier](JsonReader& params, const CallContext&) -> Result<json> {
                     PMEMD_RETURN_IF_ERROR(params.Finish());
                     PMEMD_ASSIGN_OR_RETURN(LayoutSnapshot now, applier->Snapshot());
                     return LayoutToJson(ExportLayout(now));
                   }});
}

}  // namespace pmemd
