// The file side of pmemd's Unix sockets (the JSON-RPC socket and the
// metrics socket): who a peer is, what to do with a socket file an earlier
// run left, and removing only a socket that is still ours. pmemd never
// removes a file it did not make: a path that is not a socket, or a socket
// another process answers on, is an error naming the option to change.
#pragma once

#include <sys/types.h>

#include <string>

#include "pmemd/rpc.h"
#include "pmemd/status.h"

namespace pmemd::server_internal {

// The SO_PEERCRED credentials of a connected Unix socket.
PeerCred ReadPeerCred(int fd);

// Makes `path` free for bind(): nothing there is fine; a socket nobody
// answers on (a stale one) is removed; a socket a process answers on is
// AlreadyExists naming its pid; anything else is FailedPrecondition.
// `option` is what the admin would change ("--socket", "metrics_listen").
Status ClearStaleSocket(const std::string& path, const std::string& option);

// The inode of the socket just bound at `path` (0 when it cannot be read),
// and its removal at shutdown only if `path` is still that socket, not one a
// newer daemon has bound since.
ino_t SocketInode(const std::string& path);
void RemoveOwnSocket(const std::string& path, ino_t ino);

}  // namespace pmemd::server_internal
