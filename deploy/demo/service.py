#!/usr/bin/env python3
"""The five services of the quickstart demo: Dapper's classic example, uninstrumented.

    TaskQueue.Stats  GET  /stats             calls, in this order:
      TaskQueue.Auth   GET  /auth              first, alone;
      QueueService     GET  /reports/pending   then these three at once (threads) ...
      QueueService     GET  /reports/running
      System.Stats     GET  /stats
      Graphviz.Render  POST /render            ... and last, with their results.

One program, the role chosen on the command line:

    service.py stats  --port 9000 --auth http://127.0.0.1:8081 --queue http://127.0.0.1:8082 \\
                      --system http://127.0.0.1:8083 --render http://127.0.0.1:8084
    service.py auth   --port 9001        (likewise queue 9002, system 9003, render 9004)

There is no tracing library here. The services' one tracing duty is to copy the
incoming `traceparent` (and `tracestate`, when present) onto the calls they make;
tracegate in front of each service does the rest. Each service sleeps a few to a few
tens of milliseconds so that the waterfall is readable, and answers a small JSON body.
A callee's error (or no answer) makes the caller answer 502 with a message.

To see an error trace: GET /stats?fail=ROLE (auth, queue, system or render) makes that
service answer 500; the request sends the role on in an `x-demo-fail` header.
GET /healthz answers 200 "ok" on every role, without calling anyone.
"""

import argparse
import concurrent.futures
import json
import random
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAMES = {
    "stats": "TaskQueue.Stats",
    "auth": "TaskQueue.Auth",
    "queue": "QueueService",
    "system": "System.Stats",
    "render": "Graphviz.Render",
}
# The trace headers copied from the incoming request onto every outgoing call.
TRACE_HEADERS = ("traceparent", "tracestate")
FAIL_HEADER = "x-demo-fail"
CALL_TIMEOUT_SECONDS = 5

# Calls go straight to the address given: never through an http_proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class CalleeError(Exception):
    """A call that failed: no answer, or a non-2xx answer."""


def work(low_ms, high_ms):
    """Pretends to work for a random-ish time between low_ms and high_ms."""
    time.sleep(random.uniform(low_ms, high_ms) / 1000.0)


def call(name, url, forward, body=None):
    """Calls `url` (GET, or POST with a JSON body) with the headers `forward` on.

    Returns the decoded JSON answer; raises CalleeError naming `name` on failure.
    """
    headers = dict(forward, accept="application/json")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers,
                                     method="POST" if data is not None else "GET")
    try:
        with _opener.open(request, timeout=CALL_TIMEOUT_SECONDS) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        detail = e.read(300).decode("utf-8", "replace").strip()
        raise CalleeError(f"{name} answered {e.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise CalleeError(f"{name} did not answer ({url}): {reason}") from None
    except ValueError as e:
        raise CalleeError(f"{name} answered something other than JSON: {e}") from None


# ---- the handlers of each role: (method, path) -> function(handler, query, body) -> dict ----

def auth(handler, query, body):
    work(2, 8)
    return {"user": "demo", "allowed": True}


def queue_report(handler, query, body):
    report = handler.path_only.rsplit("/", 1)[-1]
    work(10, 35)
    counts = {"pending": random.randint(5, 40), "running": random.randint(1, 8)}
    return {"report": report, "tasks": counts.get(report, 0)}


def system_stats(handler, query, body):
    work(8, 25)
    return {"load1": round(random.uniform(0.1, 2.0), 2), "workers": 8}


def render(handler, query, body):
    work(15, 40)
    data = body or {}
    dot = "digraph stats { pending -> running [label=\"%s -> %s\"] }" % (
        data.get("pending", "?"), data.get("running", "?"))
    return {"format": "dot", "graph": dot}


def stats(handler, query, body):
    a = handler.server.args
    forward = handler.forward
    work(1, 4)
    user = call("TaskQueue.Auth", a.auth + "/auth", forward)
    if not user.get("allowed"):
        raise CalleeError("TaskQueue.Auth refused the request")
    # The two reports and the system stats at the same time, each on its own thread.
    pool = handler.server.pool
    pending = pool.submit(call, "QueueService", a.queue + "/reports/pending", forward)
    running = pool.submit(call, "QueueService", a.queue + "/reports/running", forward)
    system = pool.submit(call, "System.Stats", a.system + "/stats", forward)
    pending, running, system = pending.result(), running.result(), system.result()
    work(1, 4)
    picture = call("Graphviz.Render", a.render + "/render", forward,
                   body={"pending": pending["tasks"], "running": running["tasks"]})
    return {"user": user["user"], "pending": pending["tasks"], "running": running["tasks"],
            "system": system, "graph": picture["graph"]}


ROUTES = {
    "stats": {("GET", "/stats"): stats},
    "auth": {("GET", "/auth"): auth},
    "queue": {("GET", "/reports/pending"): queue_report, ("GET", "/reports/running"): queue_report},
    "system": {("GET", "/stats"): system_stats},
    "render": {("POST", "/render"): render},
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: tracegate pools its upstream connections
    timeout = 120                  # an idle keep-alive connection is closed after this

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def read_body(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def dispatch(self):
        raw = self.read_body()
        url = urllib.parse.urlsplit(self.path)
        self.path_only = url.path
        query = urllib.parse.parse_qs(url.query)
        role = self.server.role
        if url.path == "/healthz" and self.command == "GET":
            return self.answer(200, {"service": NAMES[role], "status": "ok"})
        handler = ROUTES[role].get((self.command, url.path))
        if handler is None:
            return self.answer(404, {"error": f"{NAMES[role]}: no {self.command} {url.path}"})
        # The tracing duty: what goes on to the callees.
        self.forward = {h: self.headers[h] for h in TRACE_HEADERS if h in self.headers}
        # Fault injection for the demo: ?fail=ROLE on the first request, sent on as a header.
        fail = query["fail"][0] if role == "stats" and "fail" in query else self.headers.get(FAIL_HEADER)
        if fail:
            self.forward[FAIL_HEADER] = fail
        if fail == role:
            work(1, 5)
            return self.answer(500, {"error": f"{NAMES[role]} failed on purpose ({FAIL_HEADER})"})
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self.answer(400, {"error": f"{NAMES[role]}: the body is not JSON"})
        try:
            result = handler(self, query, body)
        except CalleeError as e:
            return self.answer(502, {"error": f"{NAMES[role]}: {e}"})
        result = dict(result, service=NAMES[role])
        self.answer(200, result)

    def answer(self, status, payload):
        data = (json.dumps(payload) + "\n").encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code="-", size="-"):
        if self.path != "/healthz":
            self.log_message("%s %s -> %s  traceparent=%s tracestate=%s", self.command, self.path,
                             code, self.headers.get("traceparent", "-"),
                             self.headers.get("tracestate", "-"))

    def log_message(self, fmt, *args):
        now = time.time()
        sys.stderr.write("%s.%03d %s %s\n" % (time.strftime("%H:%M:%S", time.localtime(now)),
                                              int(now * 1000) % 1000, NAMES[self.server.role],
                                              fmt % args))


def main():
    parser = argparse.ArgumentParser(description="A service of the tracegate quickstart demo.")
    parser.add_argument("role", choices=sorted(NAMES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    for role in ("auth", "queue", "system", "render"):
        parser.add_argument(f"--{role}", default=None, metavar="URL",
                            help=f"base URL of {NAMES[role]} (role stats only)")
    args = parser.parse_args()
    if args.role == "stats":
        missing = [r for r in ("auth", "queue", "system", "render") if not getattr(args, r)]
        if missing:
            parser.error("role stats needs " + ", ".join("--" + r for r in missing))
        for r in ("auth", "queue", "system", "render"):
            setattr(args, r, getattr(args, r).rstrip("/"))

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.role = args.role
    server.args = args
    server.pool = concurrent.futures.ThreadPoolExecutor(max_workers=32)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    # Started in the background by a script, SIGINT is ignored: Ctrl-C is the script's
    # business (it stops tracegate first, then the services). Otherwise Ctrl-C stops.
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, stop)
    sys.stderr.write(f"{NAMES[args.role]} listening on {args.host}:{args.port}\n")
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        server.pool.shutdown(wait=False, cancel_futures=True)


if __name__ == "__main__":
    main()
