#!/usr/bin/python3
"""The metrics method parsed by a real Prometheus parser (prometheus_client,
Debian's python3-prometheus-client): starts pmemd on the emulated platform,
makes some state and some requests, and checks that every family is
well-formed, has HELP and TYPE, and that the expected ones are there with
the values the state implies.

usage: metrics_test.py PMEMD_BIN
"""
import json
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit("metrics_test: prometheus_client is missing: apt-get install python3-prometheus-client (scripts/deps.sh)")

from pmemd_daemon import G, M, Conn, fail, start_daemon, stop_daemon


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check(text):
    # Every family has HELP and TYPE, before its samples, once.
    helps, types, seen_sample = {}, {}, set()
    for ln in text.splitlines():
        if ln.startswith("# HELP "):
            name = ln.split(" ")[2]
            if name in helps:
                fail(f"HELP twice for {name}")
            helps[name] = ln
        elif ln.startswith("# TYPE "):
            _, _, name, typ = ln.split(" ")
            if name in types:
                fail(f"TYPE twice for {name}")
            if name not in helps:
                fail(f"TYPE before HELP for {name}")
            types[name] = typ
        elif ln.strip():
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", ln).group(0)
            base = re.sub(r"_(bucket|sum|count)$", "", name) if types.get(re.sub(r"_(bucket|sum|count)$", "", name)) == "histogram" else name
            if base not in types:
                fail(f"sample {name} without a TYPE line for {base}")
            seen_sample.add(base)
    if set(helps) != set(types):
        fail(f"HELP without TYPE or the other way: {set(helps) ^ set(types)}")
    for name in types:
        if not name.startswith("pmemd_"):
            fail(f"{name} lacks the pmemd_ prefix")
        if types[name] == "counter" and not name.endswith("_total"):
            fail(f"counter {name} does not end in _total")

    families = {f.name: f for f in text_string_to_metric_families(text)}
    # The parser strips _total from counter names.
    for name, typ in types.items():
        key = name[:-len("_total")] if typ == "counter" else name
        if key not in families:
            fail(f"the parser did not return family {name}")
        if families[key].type != typ:
            fail(f"{name}: parser says {families[key].type}, TYPE says {typ}")
        if not families[key].documentation:
            fail(f"{name} has an empty HELP")
    return families


def value(families, name, **labels):
    for fam in families.values():
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    fail(f"no sample {name} {labels}")


def main():
    pmemd = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc, sock = start_daemon(pmemd, tmp, {"metrics_listen": f"127.0.0.1:{port}"})
        try:
            c = Conn(sock)
            c.call("create-namespace", {"region": "0", "mode": "devdax", "size": 2 * G})
            c.call("create-namespace", {"region": "0", "mode": "fsdax", "size": 1 * G})
            c.call("create-namespace", {"region": "0", "mode": "devdax", "size": 1 * G})
            c.call("reconfigure-device", {"device": "dax0.2", "mode": "system-ram"})
            c.call("create-pool", {"name": "p0", "device": "dax0.0", "block_size": 16 * M})
            c.call("online-blocks", {"pool": "p0", "blocks": "0-3"})
            c.call("create-lease", {"pool": "p0", "name": "a", "size": 16 * M})
            bad = c.call("destroy-namespace", {"namespace": "namespace9.9"}, ok=False)
            if "error" not in bad:
                fail("destroying a namespace that does not exist succeeded")
            resp = c.call("metrics")["result"]
            if resp["content_type"] != "text/plain; version=0.0.4":
                fail(f"content_type {resp['content_type']}")
            text = resp["text"]
            families = check(text)

            expected = [
                "pmemd_build_info", "pmemd_region_size_bytes", "pmemd_region_available_bytes",
                "pmemd_region_max_available_extent_bytes", "pmemd_namespace_size_bytes",
                "pmemd_namespaces_size_bytes", "pmemd_dax_memory_blocks", "pmemd_pool_total_bytes",
                "pmemd_pool_online_bytes", "pmemd_pool_leased_bytes", "pmemd_pool_available_bytes",
                "pmemd_pool_poisoned_bytes", "pmemd_pool_leases", "pmemd_requests",
                "pmemd_request_duration_seconds", "pmemd_events_published", "pmemd_events_dropped",
                "pmemd_region_badblocks_bytes", "pmemd_namespace_badblocks_bytes", "pmemd_dimm_health_supported",
                "pmemd_dimm_health_state", "pmemd_dimm_temperature_celsius", "pmemd_dimm_controller_temperature_celsius",
                "pmemd_dimm_temperature_threshold_celsius", "pmemd_dimm_spares_percentage", "pmemd_dimm_alarm",
                "pmemd_dimm_shutdown_count", "pmemd_health_polls", "pmemd_pool_attach_seconds",
            ]
            for name in expected:
                if name not in families:
                    fail(f"family {name} missing")

            if value(families, "pmemd_region_size_bytes", region="region0") != 8 * G:
                fail("region size")
            if value(families, "pmemd_region_available_bytes", region="region0") != 4 * G:
                fail("region available")
            kmem_total = value(families, "pmemd_dax_memory_blocks", device="dax0.2", state="total")
            if kmem_total < 1 or value(families, "pmemd_dax_memory_blocks", device="dax0.2", state="online") != kmem_total:
                fail("kmem memory blocks online/total")
            if value(families, "pmemd_namespaces_size_bytes", mode="raw") != 0:
                fail("a mode without namespaces is 0")
            if value(families, "pmemd_pool_online_bytes", pool="p0") != 64 * M:
                fail("pool online bytes")
            if value(families, "pmemd_pool_leased_bytes", pool="p0") != 16 * M:
                fail("pool leased bytes")
            if value(families, "pmemd_pool_leases", pool="p0") != 1:
                fail("leases")
            attach = [smp for f in families.values() if f.name == "pmemd_pool_attach_seconds" for smp in f.samples]
            if len(attach) != 1 or attach[0].value <= 0 or attach[0].labels.get("pool") != "p0" or \
                    not attach[0].labels.get("init_strategy") or attach[0].labels.get("memmap_init") not in ("built", "reused"):
                fail(f"pmemd_pool_attach_seconds: {attach}")
            c.call("no-such-method", ok=False)
            if value(check(c.call("metrics")["result"]["text"]), "pmemd_requests_total", method="unknown",
                     outcome="method_not_found") != 1:
                fail("unknown methods count under method=unknown")
            if value(families, "pmemd_requests_total", method="create-namespace", outcome="ok") != 3:
                fail("create-namespace ok count")
            if value(families, "pmemd_requests_total", method="destroy-namespace", outcome="not_found") != 1:
                fail("destroy-namespace not_found count")
            if value(families, "pmemd_request_duration_seconds_count", method="create-pool") != 1:
                fail("create-pool latency count")
            if value(families, "pmemd_request_duration_seconds_bucket", method="create-pool", le="+Inf") != 1:
                fail("create-pool +Inf bucket")
            if value(families, "pmemd_events_published_total") < 5:
                fail("events published")
            if value(families, "pmemd_dimm_temperature_celsius", dimm="nmem0") != 30:
                fail("an emulated DIMM's media temperature is 30 C until injected")
            if value(families, "pmemd_dimm_health_state", dimm="nmem0", state="ok") != 1:
                fail("dimm health state ok")
            if value(families, "pmemd_dimm_alarm", dimm="nmem0", alarm="spares") != 0:
                fail("no alarm tripped")
            if value(families, "pmemd_build_info") != 1:
                fail("build_info")
            # A second scrape counts the first.
            again = check(c.call("metrics")["result"]["text"])
            if value(again, "pmemd_requests_total", method="metrics", outcome="ok") != 2:
                fail("metrics counts itself")
            # The same over HTTP (metrics_listen): GET /metrics and /healthz;
            # other methods 405, other paths 404.
            base = f"http://127.0.0.1:{port}"
            with urllib.request.urlopen(base + "/metrics", timeout=30) as r:
                if r.status != 200 or not r.headers["Content-Type"].startswith("text/plain; version=0.0.4"):
                    fail(f"GET /metrics: {r.status} {r.headers['Content-Type']}")
                over_http = check(r.read().decode())
            if value(over_http, "pmemd_requests_total", method="metrics", outcome="ok") != 3:
                fail("a scrape over HTTP is a metrics request like any other")
            with urllib.request.urlopen(base + "/healthz", timeout=30) as r:
                if r.status != 200 or r.read() != b"ok\n":
                    fail("GET /healthz")
            for path, method, status in (("/metrics", "POST", 405), ("/nope", "GET", 404)):
                try:
                    urllib.request.urlopen(urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None), timeout=30)
                    fail(f"{method} {path} succeeded")
                except urllib.error.HTTPError as e:
                    if e.code != status:
                        fail(f"{method} {path}: {e.code}, expected {status}")
            if os.environ.get("PMEMD_METRICS_PRINT"):
                print(text)
            print(f"ok: {len(families)} families parsed")
        finally:
            stop_daemon(proc, tmp)


def get_unix(path, target):
    """GET `target` over the Unix socket at `path`: (status, body)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: pmemd\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body.decode()


def unix_socket_listener(pmemd):
    """metrics_listen "unix:PATH": served there, mode 0666, a stale socket
    left by a killed run replaced, a file that is not a socket refused and
    kept, the socket removed at a clean stop."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "metrics.sock")
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(path)  # bound and closed: nobody answers there
        stale.close()
        proc, _ = start_daemon(pmemd, tmp, {"metrics_listen": f"unix:{path}"})
        try:
            st = os.lstat(path)
            if not stat.S_ISSOCK(st.st_mode) or stat.S_IMODE(st.st_mode) != 0o666:
                fail(f"{path}: mode {oct(st.st_mode)}, expected a socket with mode 0666")
            status, body = get_unix(path, "/metrics")
            if status != 200:
                fail(f"GET /metrics over {path}: {status}")
            check(body)
            if get_unix(path, "/healthz") != (200, "ok\n"):
                fail("GET /healthz over the Unix socket")
            if get_unix(path, "/nope")[0] != 404:
                fail("GET /nope over the Unix socket is not 404")
        finally:
            stop_daemon(proc, tmp)
        if os.path.lexists(path):
            fail(f"pmemd left {path} behind at a clean stop")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "metrics.sock")
        with open(path, "w") as f:
            f.write("not a socket\n")
        cfg = os.path.join(tmp, "pmemd.json")
        with open(cfg, "w") as f:
            json.dump({"emulated": {"regions": [{"size": G}]}, "metrics_listen": f"unix:{path}"}, f)
        r = subprocess.run([pmemd, "--socket", os.path.join(tmp, "s.sock"), "--state-dir", os.path.join(tmp, "st"),
                            "--platform", "emulated", "--config", cfg], capture_output=True, text=True, timeout=60)
        if r.returncode == 0 or "exists and is not a socket" not in r.stderr + r.stdout:
            fail(f"a regular file at metrics_listen's path: exit {r.returncode}: {r.stderr}")
        if open(path).read() != "not a socket\n":
            fail("pmemd changed a file it did not make")
    print("ok: metrics over a Unix socket")


if __name__ == "__main__":
    main()
    unix_socket_listener(sys.argv[1])
