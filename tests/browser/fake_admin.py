#!/usr/bin/env python3
"""A stand-in for tracegate's admin server, for working on proxy/admin/viewer.html.

Serves the viewer page (re-read from disk on every request, so edits show on reload) at
GET /traces and the JSON API of the admin contract from an in-memory store:

  GET  /api/traces?service=&route=&min_duration=&error=&limit=
  GET  /api/traces/<traceId>
  POST /v1/traces                (OTLP/HTTP JSON, optionally gzip-encoded)
  GET  /healthz

Usage:
  tests/browser/fake_admin.py --demo 300 --port 9901   # then open http://127.0.0.1:9901/traces
  tests/browser/fake_admin.py --config FILE            # acts like `tracegate --config FILE`
  tests/browser/fake_admin.py --backend http://127.0.0.1:9901 --port 9902
      # the page from disk, everything else forwarded to a running tracegate's admin
      # server: work on the page against real data without rebuilding tracegate

With --config it behaves enough like the real binary for tests/browser/viewer.test.mjs
to run against it (TRACEGATE_BINARY=tests/browser/fake_admin.py): it binds the admin
address of the file (port 0 = ephemeral), logs "admin listening on HOST:PORT" and one
"listener NAME listening on HOST:PORT" line to stderr, and that listener answers every
request with 200 and records a server span, as if it had proxied it. Python stdlib only.
"""
import argparse
import gzip
import json
import os
import random
import re
import sys
import threading
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
VIEWER = os.path.join(HERE, "..", "..", "proxy", "admin", "viewer.html")

KINDS = {0: "INTERNAL", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
KIND_NAMES = {"SPAN_KIND_" + v: v for v in KINDS.values()}
STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}
HEX32 = re.compile(r"^[0-9a-f]{32}$")
DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)?$")
UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000, None: 1_000_000}


class Store:
    """Traces in LRU order (newest last), like tracing/trace_store.hpp."""

    def __init__(self, max_traces=5000):
        self.max_traces = max_traces
        self.traces = OrderedDict()  # trace id -> {span id: span}
        self.lock = threading.Lock()

    def add(self, spans):
        with self.lock:
            for s in spans:
                t = self.traces.setdefault(s["traceId"], {})
                t.setdefault(s["spanId"], s)
                self.traces.move_to_end(s["traceId"])
            while len(self.traces) > self.max_traces:
                self.traces.popitem(last=False)

    @staticmethod
    def ordered(spans):
        rank = {"SERVER": 0, "CLIENT": 1}
        return sorted(spans, key=lambda s: (int(s["startTimeUnixNano"]), rank.get(s["kind"], 2), s["spanId"]))

    def summary(self, trace_id, spans):
        ordered = self.ordered(spans.values())
        root = next((s for s in ordered if not s["parentSpanId"]), None) \
            or next((s for s in ordered if s["parentSpanId"] not in spans), None) or ordered[0]
        start = min(int(s["startTimeUnixNano"]) for s in ordered)
        end = max(int(s["endTimeUnixNano"]) for s in ordered)
        code = root["attributes"].get("http.response.status_code")
        return {
            "traceId": trace_id, "rootName": root["name"], "rootService": root["service"],
            "services": sorted({s["service"] for s in ordered}),
            "route": root["attributes"].get("http.route"),
            "startTimeUnixNano": str(start), "durationNanos": end - start, "spanCount": len(ordered),
            "error": any(s["status"]["code"] == "ERROR" for s in ordered),
            "statusCode": code if isinstance(code, int) else None,
        }

    def query(self, service, route, min_ns, errors_only, limit):
        with self.lock:
            items = list(self.traces.items())
        out, services, routes, nspans = [], set(), set(), 0
        for tid, spans in items:
            summ = self.summary(tid, spans)
            nspans += summ["spanCount"]
            services.update(summ["services"])
            if summ["route"]:
                routes.add(summ["route"])
            if service and service not in summ["services"]:
                continue
            if route and summ["route"] != route:
                continue
            if min_ns is not None and summ["durationNanos"] < min_ns:
                continue
            if errors_only and not summ["error"]:
                continue
            out.append(summ)
        out.reverse()  # newest first
        return {"traces": out[:limit], "services": sorted(services), "routes": sorted(routes),
                "stats": {"traces": len(items), "spans": nspans}}

    def get(self, trace_id):
        with self.lock:
            spans = self.traces.get(trace_id)
            return None if spans is None else self.ordered(spans.values())


# ---------------------------------------------------------------------------------------
# OTLP JSON -> the API's span shape
# ---------------------------------------------------------------------------------------
def any_value(v):
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "arrayValue" in v:
        return [any_value(x) for x in v["arrayValue"].get("values", [])]
    return None


def attrs(lst):
    return {a["key"]: any_value(a.get("value", {})) for a in lst or []}


def decode_otlp(body):
    spans = []
    for rs in body.get("resourceSpans", []):
        service = attrs(rs.get("resource", {}).get("attributes")).get("service.name", "unknown_service")
        for ss in rs.get("scopeSpans", []):
            for s in ss.get("spans", []):
                kind = s.get("kind", 0)
                kind = KINDS.get(kind, "INTERNAL") if isinstance(kind, int) else KIND_NAMES.get(kind, "INTERNAL")
                st = s.get("status", {})
                code = st.get("code", 0)
                code = STATUS.get(code, "UNSET") if isinstance(code, int) else code.replace("STATUS_CODE_", "")
                start, end = int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"])
                spans.append({
                    "traceId": s["traceId"].lower(), "spanId": s["spanId"].lower(),
                    "parentSpanId": s.get("parentSpanId", "").lower(), "name": s.get("name", ""),
                    "service": service, "kind": kind,
                    "startTimeUnixNano": str(start), "endTimeUnixNano": str(end), "durationNanos": end - start,
                    "status": {"code": code, "message": st.get("message", "")},
                    "attributes": attrs(s.get("attributes")),
                    "events": [{"name": e.get("name", ""), "timeUnixNano": str(e["timeUnixNano"])} for e in s.get("events", [])],
                    "links": [{"traceId": l["traceId"].lower(), "spanId": l["spanId"].lower(), "attributes": attrs(l.get("attributes"))}
                              for l in s.get("links", [])],
                })
    return spans


# ---------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------
def demo_spans(n_traces, rng):
    services = ["frontend", "checkout", "inventory", "payments", "auth", "search"]
    routes = ["/checkout", "/cart", "/login", "/search", "/items/{id}"]
    ops = {"frontend": ["render page", "GET /api"], "checkout": ["price cart", "reserve items"],
           "inventory": ["SELECT stock", "UPDATE stock"], "payments": ["charge card", "fraud check"],
           "auth": ["verify token", "load session"], "search": ["query index", "rank results"]}
    now = time.time_ns()
    out = []

    def hexid(bits):
        return "%0*x" % (bits // 4, rng.getrandbits(bits))

    def make(tid, parent, service, name, kind, start, dur, depth, budget, error=False):
        sid = hexid(64)
        attributes = {"http.request.method": "GET", "server.address": service + ".internal"}
        if depth == 0:
            route = rng.choice(routes)
            attributes.update({"http.route": route, "url.path": route.replace("{id}", str(rng.randint(1, 999))),
                               "http.response.status_code": 500 if error else 200})
        if error:
            attributes["error.type"] = "500"
        events = []
        if rng.random() < 0.25:
            events.append({"name": "cache miss", "timeUnixNano": str(start + dur // 3)})
        out.append({"traceId": tid, "spanId": sid, "parentSpanId": parent, "name": name, "service": service,
                    "kind": kind, "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + dur),
                    "durationNanos": dur, "status": {"code": "ERROR" if error else "UNSET",
                                                     "message": "upstream returned 500" if error else ""},
                    "attributes": attributes, "events": events, "links": []})
        kids = min(budget, rng.randint(0, 4) if depth < 5 else 0)
        t = start + dur // 20
        for k in range(kids):
            slot = (dur * 9 // 10) // max(1, kids)
            cdur = max(1000, int(slot * rng.uniform(0.3, 0.95)))
            svc = service if rng.random() < 0.5 else rng.choice(services)
            make(tid, sid, svc, rng.choice(ops[svc]), "CLIENT" if svc != service else "INTERNAL",
                 t, cdur, depth + 1, (budget - kids) // max(1, kids), error and k == kids - 1)
            t += slot

    for i in range(n_traces):
        tid = hexid(128)
        dur = int(rng.lognormvariate(17, 1.2))
        svc = rng.choice(services[:3])
        make(tid, "", svc, "GET " + rng.choice(routes), "SERVER", now - (n_traces - i) * 1_500_000_000,
             dur, 0, 40 if i == n_traces - 1 else rng.randint(0, 12), rng.random() < 0.08)
    return out


# ---------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------
def make_admin_handler(store, backend=None):
    class Admin(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self):
            """Passes the request to the backend admin server and its answer back."""
            import urllib.error
            import urllib.request
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n) if n else None
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "content-encoding", "accept")}
            req = urllib.request.Request(backend + self.path, data=data, method=self.command, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    status, ctype, body = r.status, r.headers.get("Content-Type", ""), r.read()
            except urllib.error.HTTPError as e:
                status, ctype, body = e.code, e.headers.get("Content-Type", ""), e.read()
            except OSError as e:
                status, ctype, body = 502, "application/json", json.dumps({"error": "backend: %s" % e}).encode()
            self.send(status, body, ctype)

        def log_message(self, fmt, *args):  # quiet
            pass

        def send(self, status, body, ctype="application/json"):
            data = body if isinstance(body, bytes) else (json.dumps(body) if not isinstance(body, str) else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path == "/traces":
                with open(VIEWER, "rb") as f:
                    return self.send(200, f.read(), "text/html; charset=utf-8")
            if backend:
                return self.forward()
            if url.path == "/healthz":
                return self.send(200, "ok\n", "text/plain")
            if url.path == "/api/traces":
                q = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                min_ns = None
                if q.get("min_duration"):
                    m = DURATION.match(q["min_duration"])
                    if not m:
                        return self.send(400, {"error": "min_duration: not a duration: " + q["min_duration"]})
                    min_ns = int(float(m.group(1)) * UNIT_NS[m.group(2)])
                try:
                    limit = int(q.get("limit") or 50)
                    assert 1 <= limit <= 1000
                except (ValueError, AssertionError):
                    return self.send(400, {"error": "limit: expected an integer from 1 to 1000"})
                err = q.get("error", "")
                if err not in ("", "true", "1", "false", "0"):
                    return self.send(400, {"error": "error: expected true or false"})
                return self.send(200, store.query(q.get("service"), q.get("route"), min_ns, err in ("true", "1"), limit))
            m = re.match(r"^/api/traces/([^/]+)$", url.path)
            if m:
                tid = m.group(1).lower()
                if not HEX32.match(tid):
                    return self.send(400, {"error": "malformed trace id"})
                spans = store.get(tid)
                if spans is None:
                    return self.send(404, {"error": "trace not found"})
                return self.send(200, {"traceId": tid, "spans": spans})
            self.send(404, {"error": "not found"})

        def do_POST(self):
            if backend:
                return self.forward()
            url = urlsplit(self.path)
            if url.path != "/v1/traces":
                return self.send(404, {"error": "not found"})
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                data = gzip.decompress(data)
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                return self.send(415, {"error": "this stand-in only takes application/json"})
            try:
                spans = decode_otlp(json.loads(data))
            except (ValueError, KeyError, TypeError) as e:
                return self.send(400, {"error": "bad OTLP JSON: %s" % e})
            store.add(spans)
            self.send(200, {})

    return Admin


def make_listener_handler(store, service):
    """Answers everything with 200 and records a server span, like a proxied request."""
    class Listener(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def do_GET(self):
            start = time.time_ns()
            body = b"hello from the fake upstream\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            end = time.time_ns()
            path = urlsplit(self.path).path
            store.add([{"traceId": "%032x" % random.getrandbits(128), "spanId": "%016x" % random.getrandbits(64),
                        "parentSpanId": "", "name": "GET", "service": service, "kind": "SERVER",
                        "startTimeUnixNano": str(start), "endTimeUnixNano": str(end), "durationNanos": end - start,
                        "status": {"code": "UNSET", "message": ""},
                        "attributes": {"http.request.method": "GET", "url.path": path, "http.response.status_code": 200},
                        "events": [], "links": []}])

    return Listener


def address_of(text, section):
    """host, port of `address:` under the top-level `section:` of a YAML file (good enough here)."""
    m = re.search(r"(?ms)^%s:\s*\n((?:[ \t]+.*\n?)*)" % section, text) or \
        re.search(r"(?m)^%s:\s*\{([^}]*)\}" % section, text)
    a = re.search(r"address:\s*['\"]?([0-9.]+):(\d+)", m.group(1)) if m else None
    return (a.group(1), int(a.group(2))) if a else ("127.0.0.1", 9901)


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="a tracegate YAML config: take admin.address, listeners[0], service_name from it")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=None, help="admin port (default 9901, or the config's)")
    ap.add_argument("--demo", type=int, default=0, metavar="N", help="start with N generated traces")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backend", metavar="URL", help="forward everything but /traces to this admin server")
    ap.add_argument("--log-level", default="info")
    args = ap.parse_args()

    store = Store()
    host, port = args.host, 9901
    if args.config:
        text = open(args.config, encoding="utf-8").read()
        host, port = address_of(text, "admin")
        svc = re.search(r"(?m)^service_name:\s*['\"]?([^'\"\s#]+)", text)
        lhost, lport = address_of(text, "listeners")
        lname = re.search(r"(?m)^\s*-\s*name:\s*(\S+)", text)
        listener = ThreadingHTTPServer((lhost, lport), make_listener_handler(store, svc.group(1) if svc else "tracegate"))
        serve(listener)
        print("listener %s listening on %s:%d" % (lname.group(1) if lname else "main", lhost, listener.server_address[1]),
              file=sys.stderr, flush=True)
    if args.port is not None:
        port = args.port
    if args.demo:
        store.add(demo_spans(args.demo, random.Random(args.seed)))
    admin = ThreadingHTTPServer((host, port), make_admin_handler(store, args.backend.rstrip("/") if args.backend else None))
    admin.daemon_threads = True
    print("admin listening on %s:%d" % (host, admin.server_address[1]), file=sys.stderr, flush=True)
    try:
        admin.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
