#!/usr/bin/python3
"""rpc.discover against the OpenRPC 1.2 rules and against pmemd itself:
starts pmemd on the emulated platform and checks that

  - the document validates against tests/data/openrpc-1.2.schema.json (our
    own draft-7 schema of the OpenRPC parts pmemd emits) with Debian's
    python3-jsonschema, and every schema in it is a valid draft-7 schema;
  - it names exactly the methods list-methods does, with the same access,
    and every error reference resolves to a data.code and its wire number;
  - each method's declared params are exactly what it accepts: with every
    declared param given a value its schema allows, nothing is refused as
    mistyped or unknown; each declared param given a value of another type
    is refused with -32602 naming it; an undeclared param is refused; and
    no method answers -32603 (a handler that reads params its declaration
    lacks, or not as declared, fails every call: json_reader.h);
  - every result seen while making state and calling each method validates
    against the method's declared result schema.

usage: discover_test.py PMEMD_BIN META_SCHEMA
"""
import json
import time
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    sys.exit("discover_test: jsonschema is missing: apt-get install python3-jsonschema (scripts/deps.sh)")

from pmemd_daemon import G, M, Conn, fail, start_daemon, stop_daemon

# A value of another JSON type than each declared schema type.
WRONG = {"string": 7, "integer": "7", "boolean": "yes", "number": "7", "array": "x", "object": ["x"]}


def valid_value(schema):
    """A value the param's schema allows that names no existing object."""
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    t = schema.get("type")
    if t == "string":
        return "no-such-object"
    if t == "integer":
        return schema.get("minimum", 0) if schema.get("minimum", 0) > 0 else 1
    if t == "boolean":
        return False
    if t == "number":
        return 1.0
    if t == "array":
        items = schema.get("items", {})
        return [items["enum"][0]] if "enum" in items else ["no-such-object"]
    if t == "object":
        return {}
    return "anything"


class Checked:
    """A connection whose every successful answer is validated against the
    answering method's declared result schema."""

    def __init__(self, sock, methods):
        self.conn = Conn(sock)
        self.methods = methods
        self.validated = set()

    def call(self, method, params=None, ok=True):
        resp = self.conn.call(method, params, ok)
        if "result" in resp:
            schema = self.methods[method]["result"]["schema"]
            try:
                jsonschema.validate(resp["result"], schema, cls=jsonschema.Draft7Validator)
            except jsonschema.ValidationError as e:
                fail(f"{method}'s result does not match its declared schema: {e.message} at "
                     f"{list(e.absolute_path)}\n{json.dumps(resp['result'])[:2000]}")
            self.validated.add(method)
        return resp


def check_document(doc, meta, listed):
    jsonschema.Draft7Validator.check_schema(meta)
    errors = sorted(jsonschema.Draft7Validator(meta).iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        fail("rpc.discover does not validate against the OpenRPC 1.2 schema:\n" +
             "\n".join(f"  {list(e.absolute_path)}: {e.message}" for e in errors[:20]))
    names = [m["name"] for m in doc["methods"]]
    if len(names) != len(set(names)):
        fail(f"method names repeat: {names}")
    if {m["name"]: m["access"] for m in listed} != {m["name"]: m["x-access"] for m in doc["methods"]}:
        fail("rpc.discover and list-methods disagree on the methods or their access")
    components = doc["components"]["errors"]
    for name, e in components.items():
        if e["data"]["code"] != name:
            fail(f"error {name} carries data.code {e['data']['code']}")
    for m in doc["methods"]:
        params = [p["name"] for p in m["params"]]
        if len(params) != len(set(params)):
            fail(f"{m['name']}: param names repeat: {params}")
        for p in m["params"]:
            jsonschema.Draft7Validator.check_schema(p["schema"])
            if not p.get("description"):
                fail(f"{m['name']}.{p['name']} has no description")
        jsonschema.Draft7Validator.check_schema(m["result"]["schema"])
        for ref in m["errors"]:
            target = ref["$ref"].rsplit("/", 1)[-1]
            if not ref["$ref"].startswith("#/components/errors/") or target not in components:
                fail(f"{m['name']}: error reference {ref['$ref']} does not resolve")
    if components["invalid_argument"]["code"] != -32602 or components["not_found"]["code"] != -32002:
        fail("error numbers differ from docs/api.md")


def expect_refused(resp, method, name, what):
    err = resp.get("error")
    if err is None or err["code"] != -32602:
        fail(f"{method} with {what}: expected -32602, got {resp}")
    if name not in err["message"]:
        fail(f"{method} with {what}: the message does not name {name!r}: {err['message']}")


def check_params(sock, c, m):
    """The declared params of `m` are exactly what it accepts."""
    name = m["name"]
    params = {p["name"]: p for p in m["params"]}
    required = {n: valid_value(p["schema"]) for n, p in params.items() if p.get("required")}
    # subscribe turns the connection into a stream when it succeeds: its
    # accepted calls go on connections of their own.
    fresh = name == "subscribe"

    def accepted(args):
        conn = c
        if fresh:
            conn = Checked(sock, c.methods)
            conn.validated = c.validated
        resp = conn.call(name, args, ok=False)
        if fresh:
            conn.conn.close()
        err = resp.get("error")
        if err is None:
            return
        if err["code"] == -32603:
            fail(f"{name} {args}: -32603 (its declaration and its reads disagree?): {err['message']}")
        msg = err["message"]
        if "unknown key" in msg or any(msg.startswith(f"params.{p}:") for p in params) or "missing required" in msg:
            fail(f"{name} refused values its declared schemas allow {args}: {msg}")

    accepted(dict(required))
    accepted({n: valid_value(p["schema"]) for n, p in params.items()})
    for n, p in params.items():
        t = p["schema"].get("type")
        if t not in WRONG:
            continue  # any value is right
        args = dict(required)
        args[n] = WRONG[t]
        expect_refused(c.call(name, args, ok=False), name, f"params.{n}:", f"{n}={WRONG[t]!r}")
    args = dict(required)
    args["no_such_param"] = 1
    expect_refused(c.call(name, args, ok=False), name, "unknown key 'no_such_param'", "an undeclared param")
    for n in required:
        args = {k: v for k, v in required.items() if k != n}
        expect_refused(c.call(name, args, ok=False), name, f"missing required key '{n}'", f"no {n}")


def make_state(c):
    """Objects for the result schemas to be checked against."""
    c.call("create-namespace", {"region": "0", "mode": "devdax", "size": 2 * G, "dry_run": True})
    c.call("create-namespace", {"region": "0", "mode": "devdax", "size": 2 * G, "name": "dd"})
    c.call("create-namespace", {"region": "0", "mode": "devdax", "size": 2 * G, "name": "dd", "dry_run": True})
    c.call("create-namespace", {"region": "0", "mode": "fsdax", "size": 1 * G})
    c.call("create-namespace", {"region": "0", "mode": "devdax", "size": 1 * G})
    c.call("reconfigure-namespace", {"namespace": "namespace0.1", "mode": "raw", "dry_run": True})
    c.call("reconfigure-namespace", {"namespace": "namespace0.1", "mode": "raw", "force": True})
    c.call("disable-namespace", {"namespace": "namespace0.1"})
    c.call("enable-namespace", {"namespace": "namespace0.1"})
    c.call("destroy-namespace", {"namespace": "namespace0.1", "force": True})
    c.call("reconfigure-device", {"device": "dax0.2", "mode": "system-ram"})
    c.call("offline-memory", {"device": "dax0.2"})
    c.call("online-memory", {"device": "dax0.2"})
    inv = c.call("list", {"buses": True, "dimms": True, "regions": True, "namespaces": True, "devices": True,
                          "memory_blocks": True})["result"]
    block = next(b["id"] for b in inv["memory_blocks"] if b.get("dax_device") == "dax0.2")
    c.call("create-pool", {"name": "p0", "device": "dax0.0", "block_size": 16 * M, "owner_uid": 0})
    c.call("online-blocks", {"pool": "p0", "blocks": "0-3"})
    c.call("offline-blocks", {"pool": "p0", "blocks": "3"})
    c.call("create-lease", {"pool": "p0", "name": "a", "size": 16 * M, "owner": "t", "labels": {"k": "v"}})
    c.call("get-lease", {"pool": "p0", "name": "a"})
    c.call("open-lease", {"pool": "p0", "name": "a"})
    c.call("list-leases")
    c.call("list-pools", {"blocks": True})
    c.call("check-pool", {"pool": "p0"})
    c.call("delete-lease", {"pool": "p0", "name": "a"})
    c.call("detach-pool", {"pool": "p0"})
    c.call("attach-pool", {"device": "dax0.0"})
    c.call("inject-error", {"memory_block": block, "busy_attempts": 1})
    c.call("inject-error", {"memory_block": block, "stuck": True, "clear": True})
    c.call("inject-error", {"region": "region0", "offset": 0, "length": 512, "clear": True})
    c.call("inject-error", {"dimm": "nmem0", "health_state": "non-critical", "temperature_millicelsius": 51000,
                            "shutdown_state": "dirty", "shutdown_count": 2})
    # The health monitor takes its reading after the injection's notification
    # (docs/health.md): list shows it once the reading is in.
    deadline = time.monotonic() + 30
    while True:
        health = c.call("list", {"health": True})["result"]
        if health["dimms"][0]["health"].get("shutdown_count") == 2:
            break
        if time.monotonic() > deadline:
            fail(f"list's health does not show the injected health after 30 s: {health}")
        time.sleep(0.01)
    c.call("list", {"dimms": True})
    c.call("inject-error", {"dimm": "nmem0", "clear": True})
    layout = {"version": 1,
              "namespaces": [{"name": "lay", "region": "region0", "mode": "devdax", "size": "2G"}],
              "pools": [{"name": "lp", "namespace": "lay", "block_size": "128M", "online_blocks": "all"}],
              "leases": [{"pool": "lp", "name": "l1", "size": 256 * M, "owner": "t", "labels": {"k": "v"}}]}
    plan = c.call("apply", {"layout": layout, "dry_run": True})["result"]
    if not plan["steps"] or plan["done"] != 0:
        fail(f"apply's dry run planned nothing: {plan}")
    c.call("apply", {"layout": layout})
    exported = c.call("export-layout")["result"]
    layout_schema = next(p["schema"] for p in c.methods["apply"]["params"] if p["name"] == "layout")
    jsonschema.validate(exported, layout_schema, cls=jsonschema.Draft7Validator)
    again = c.call("apply", {"layout": exported, "dry_run": True})["result"]
    if again["steps"]:
        fail(f"applying the exported layout plans steps: {again}")
    c.call("version")
    c.call("metrics")
    c.call("list-methods")


def main():
    pmemd, meta_path = sys.argv[1], sys.argv[2]
    with open(meta_path) as f:
        meta = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        proc, sock = start_daemon(pmemd, tmp)
        try:
            plain = Conn(sock)
            doc = plain.call("rpc.discover")["result"]
            listed = plain.call("list-methods")["result"]["methods"]
            check_document(doc, meta, listed)
            if doc["info"]["version"] != plain.call("version")["result"]["api_version"]:
                fail("info.version is not the api_version")
            methods = {m["name"]: m for m in doc["methods"]}
            c = Checked(sock, methods)
            c.call("rpc.discover")
            make_state(c)
            for m in doc["methods"]:
                check_params(sock, c, m)
            unchecked = set(methods) - c.validated
            if unchecked:
                fail(f"no result of these methods was checked against its schema: {sorted(unchecked)}")
            print(f"ok: {len(methods)} methods, {sum(len(m['params']) for m in doc['methods'])} params")
        finally:
            stop_daemon(proc, tmp)


if __name__ == "__main__":
    main()
