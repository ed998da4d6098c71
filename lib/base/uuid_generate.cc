// NewUuid and GenerateUuid (pmemd/uuid.h): their own target, pmemd_uuidgen,
// so that only what makes uuids links libuuid.
#include <uuid/uuid.h>

#include "pmemd/uuid.h"

namespace pmemd {

void GenerateUuid(uint8_t out[16]) { uuid_generate_random(out); }

std::string NewUuid() {
  uint8_t u[16];
  GenerateUuid(u);
  return FormatUuid(u);
}

}  // namespace pmemd
