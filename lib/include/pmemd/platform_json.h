// JSON rendering of the platform model, with ndctl/daxctl field names.
//
// Sizes are integers (bytes), never human strings; optional fields are
// omitted when unknown, and collections are always arrays, even when empty
// or holding one element (as `ndctl list` and `daxctl list`;
// docs/api.md, "list", names every field). This file is the one
// to_json per entity (ndctl's util/json.c habit).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmemd/json_reader.h"
#include "pmemd/platform.h"

namespace pmemd {

nlohmann::json ToJson(const Bus& b);
// `health`: the whole health object (list's health param, ndctl list -DH);
// otherwise only its health_state.
nlohmann::json ToJson(const Dimm& d, bool health = false);
// ndctl's names (util/json-smart.c), with temperatures as integer
// millidegrees Celsius: "temperature_millicelsius", ...; docs/api.md.
nlohmann::json ToJson(const DimmHealth& h);
// Reads the fields ToJson(DimmHealth) writes into `h`, each optional (an
// absent one is left as it is); the tripped alarms (alarm_temperature,
// alarm_controller_temperature, alarm_spares), which a DIMM's firmware
// sets, only `with_alarms`. Errors are r's, at r.Finish(). Returns whether
// any field was given.
bool ReadDimmHealthFields(JsonReader& r, DimmHealth* h, bool with_alarms);
// The declaration (json_reader.h) of what ReadDimmHealthFields reads
// without the alarms: inject-error's DIMM form.
Params DimmHealthParams();
nlohmann::json ToJson(const Region& r);
nlohmann::json ToJson(const Namespace& n);
nlohmann::json ToJson(const DaxDevice& d);
nlohmann::json ToJson(const MemoryBlock& m);

// JSON Schemas of the above (json_schema.h), for the results rpc.discover
// publishes: every field ToJson always writes is required, the others
// optional. Kept beside the renderers they describe.
nlohmann::json NamespaceSchema();
nlohmann::json DaxDeviceSchema();
// ToJson(DimmHealth): the whole object under list's health, or only its
// health_state.
nlohmann::json DimmHealthSchema();
// list's result: each collection optional, as the filter asks.
nlohmann::json InventorySchema();

// What `list` returns: which collections, optionally one region's objects.
struct ListFilter {
  bool buses = false;
  bool dimms = false;
  bool regions = false;
  bool namespaces = false;
  bool devices = false;
  bool memory_blocks = false;
  bool health = false;  // DIMMs with their whole health, not only health_state
  std::string region;  // "" for all; "region0" or "0"
  bool include_disabled = true;
};

// Every collection the filter asks for, as arrays, under the keys "buses",
// "dimms", "regions", "namespaces", "devices" and "memory_blocks".
nlohmann::json ToJson(const Inventory& inv, const ListFilter& filter);

// Reads a NamespaceSpec's layout keys as create-namespace and
// reconfigure-namespace take them, and as the intent journal records them:
// mode, size, align, map, name, uuid, sector_size (not region, which each
// reader takes on its own terms). Errors are r's, at r.Finish().
void ReadNamespaceSpec(JsonReader& r, NamespaceSpec* s);
// The declaration (json_reader.h) of what ReadNamespaceSpec reads, for the
// methods that call it; reconfigure-namespace requires mode, create-namespace
// defaults it to fsdax.
Params NamespaceSpecParams(bool mode_required);

}  // namespace pmemd
