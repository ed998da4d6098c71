// lease_client: maps a lease that pmemd passes over its socket and writes
// or reads it, as an unprivileged client (a VM manager, a database) would:
// it needs no permission on the dax device or the pool file, only to be
// the pool's owner (create-pool owner_uid/owner_gid) or an admin.
//
//   lease_client SOCKET POOL LEASE write TEXT   # writes TEXT at the lease's start, persisted
//   lease_client SOCKET POOL LEASE read         # prints the NUL-terminated text there
//
// Exit 0 on success; 1 with the daemon's message otherwise. The three calls
// a client needs are Client::Connect, LeaseView::Open and LeaseView::Persist.
// Built with the tests (the integration tests run it as other users) and
// shown in docs/leases.md.
#include <cstdio>
#include <cstring>
#include <string>

#include "pmemd/client.h"
#include "pmemd/lease_client.h"

int main(int argc, char** argv) {
  if (argc < 5 || (std::strcmp(argv[4], "write") == 0 && argc != 6)) {
    std::fprintf(stderr, "usage: lease_client SOCKET POOL LEASE (write TEXT | read)\n");
    return 2;
  }
  auto client = pmemd::Client::Connect(argv[1]);
  if (!client.ok()) {
    std::fprintf(stderr, "lease_client: %s\n", client.status().ToString().c_str());
    return 1;
  }
  auto view = pmemd::LeaseView::Open(*client, argv[2], argv[3]);
  if (!view.ok()) {
    std::fprintf(stderr, "lease_client: %s\n", view.status().ToString().c_str());
    return 1;
  }
  char* p = static_cast<char*>(view->data());
  if (std::strcmp(argv[4], "write") == 0) {
    const size_t n = std::strlen(argv[5]) + 1;
    if (n > view->size()) {
      std::fprintf(stderr, "lease_client: %zu bytes do not fit in the lease (%zu)\n", n, view->size());
      return 1;
    }
    std::memcpy(p, argv[5], n);
    view->Persist(p, n);
    std::printf("wrote %zu bytes to %s/%s\n", n, argv[2], argv[3]);
    return 0;
  }
  std::printf("%.*s\n", static_cast<int>(strnlen(p, view->size())), p);
  return 0;
}
