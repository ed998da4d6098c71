"""What the Python integration tests share: a JSON-RPC connection to pmemd's
socket and a pmemd on the emulated platform in a temporary directory.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

G = 1 << 30
M = 1 << 20


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.buf = b""
        self.next_id = 1

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("pmemd closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, method, params=None, ok=True):
        req = {"jsonrpc": "2.0", "method": method, "id": self.next_id}
        self.next_id += 1
        if params is not None:
            req["params"] = params
        self.s.sendall(json.dumps(req).encode() + b"\n")
        resp = self.line()
        if ok and "error" in resp:
            raise RuntimeError(f"{method}: {resp['error']}")
        return resp

    def close(self):
        self.s.close()


def start_daemon(pmemd, tmp, config=None):
    """pmemd on an 8 GiB emulated region, the caller's group as admin_group;
    `config` adds keys. Returns (process, socket path) once it answers."""
    sock = os.path.join(tmp, "s.sock")
    cfg = os.path.join(tmp, "pmemd.json")
    with open(cfg, "w") as f:
        json.dump({"admin_group": str(os.getgid()), "emulated": {"regions": [{"size": 8 * G}]}, **(config or {})}, f)
    log = open(os.path.join(tmp, "pmemd.log"), "w")
    proc = subprocess.Popen([pmemd, "--socket", sock, "--state-dir", os.path.join(tmp, "state"),
                             "--platform", "emulated", "--config", cfg], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            sys.exit("pmemd exited: " + open(log.name).read())
        try:
            c = Conn(sock)
            c.call("version")
            c.close()
            return proc, sock
        except (OSError, RuntimeError):
            if time.monotonic() > deadline:
                proc.kill()
                sys.exit("pmemd did not answer within 30 s")
            time.sleep(0.05)  # polling for the socket to appear, not a synchronization of results


def stop_daemon(proc, tmp):
    """SIGTERM, and a failure unless pmemd exits 0 within 30 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("pmemd did not stop on SIGTERM")
    if proc.returncode != 0:
        fail(f"pmemd exited {proc.returncode}: " + open(os.path.join(tmp, "pmemd.log")).read()[-2000:])
