#!/usr/bin/env python3
"""Map a pmemd lease from the descriptor open-lease passes (docs/leases.md).

    open_lease.py SOCKET POOL LEASE [TEXT]

Prints the NUL-terminated text at the start of the lease; with TEXT, writes
it there first and flushes it with msync (Python has no CPU cache flush: a
C or C++ client persists with libpmem2, see docs/examples/lease_client.cc).
Needs only to be the pool's owner (create-pool owner_uid/owner_gid) or an
admin: the device or pool file itself may be closed to this user.
"""
import json
import mmap
import os
import socket
import sys


def open_lease(sock_path, pool, lease):
    """Returns (lease description, file descriptor)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    request = {"jsonrpc": "2.0", "id": 1, "method": "open-lease",
               "params": {"pool": pool, "name": lease}}
    s.sendall(json.dumps(request).encode() + b"\n")
    data, fds = b"", []
    while not data.endswith(b"\n"):
        chunk, more_fds, _, _ = socket.recv_fds(s, 65536, 4)
        if not chunk:
            raise ConnectionError("pmemd closed the connection before answering")
        data += chunk
        fds += more_fds
    s.close()
    answer = json.loads(data)
    if "error" in answer:
        for fd in fds:
            os.close(fd)
        err = answer["error"]
        raise PermissionError(f"{err.get('data', {}).get('code')}: {err['message']}")
    result = answer["result"]
    return result, fds[result["fd"]]


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    lease, fd = open_lease(*sys.argv[1:4])
    # mmap offsets must be page aligned; a lease is at least 4 KiB aligned.
    m = mmap.mmap(fd, lease["size"], mmap.MAP_SHARED,
                  mmap.PROT_READ | mmap.PROT_WRITE, offset=lease["offset"])
    os.close(fd)
    if len(sys.argv) == 5:
        text = sys.argv[4].encode() + b"\0"
        m[:len(text)] = text
        m.flush(0, mmap.PAGESIZE)
    end = m.find(b"\0")
    print(m[:end if end >= 0 else 64].decode(errors="replace"))
    m.close()


if __name__ == "__main__":
    main()
