// The keys of pmemd.json as data: name, type, default, the flag that
// overrides it and what it means. The man page pmemd.json(5) is generated
// from this table (man/docgen.cc); config_schema_test.cc checks that it
// names exactly the keys ApplyConfigJson accepts at every level (the
// "known keys" its error lists), so the page cannot drift from the parser.
//
// Thread safety: constant data.
#pragma once

#include <vector>

namespace pmemd {

struct ConfigKey {
  const char* key;           // "max_connections", "emulated.regions[].size"
  const char* type;          // "string", "integer", "integer or string", "boolean", "array", "object"
  const char* default_text;  // as shown to people: "1024", "root: /run/pmemd/pmemd.sock; ..."
  const char* flag;          // the pmemd flag that overrides it ("--socket"), or ""
  const char* description;
};

// Every key, parents before their members.
const std::vector<ConfigKey>& ConfigKeys();

}  // namespace pmemd
