#!/usr/bin/env python3
"""Loopback trace sink for tests/bench/compare.sh. Python 3 standard library only.

Counts the spans it receives, so that a tracer which drops spans under load cannot look
fast. Understands two wire formats:

  POST /v1/traces   OTLP/HTTP protobuf (ExportTraceServiceRequest): counts
                    field 1 ResourceSpans -> field 2 ScopeSpans -> field 2 Span.
                    Also OTLP JSON (counts "spans" arrays), gzip bodies accepted.
  PUT|POST /v0.4/traces, /v0.3/traces
                    Datadog agent API (msgpack: array of traces, each an array of
                    spans), as sent by dd-opentracing-cpp; answers {"rate_by_service":{}}.

  GET /count        "spans=N requests=N bytes=N errors=N dd_header_traces=N" (plain text;
                    the last is the sum of Datadog's X-Datadog-Trace-Count headers)

Usage: compare_sink.py PORTFILE   -- binds 127.0.0.1:0, writes the port to PORTFILE.
"""
import gzip
import http.server
import json
import socketserver
import struct
import sys
import threading

LOCK = threading.Lock()
STATS = {"spans": 0, "requests": 0, "bytes": 0, "errors": 0, "dd_header_traces": 0}


def varint(buf, i):
    shift = 0
    result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(buf):
    """Yields (field_number, wire_type, value) of one protobuf message; LEN values are memoryviews."""
    i = 0
    n = len(buf)
    while i < n:
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v = None
            i += 8
        elif wt == 2:
            ln, i = varint(buf, i)
            v = buf[i:i + ln]
            i += ln
        elif wt == 5:
            v = None
            i += 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        yield num, wt, v


def count_otlp_protobuf(body):
    spans = 0
    mv = memoryview(body)
    for num, wt, rs in fields(mv):
        if num != 1 or wt != 2:
            continue
        for num2, wt2, ss in fields(rs):
            if num2 != 2 or wt2 != 2:
                continue
            for num3, wt3, _ in fields(ss):
                if num3 == 2 and wt3 == 2:
                    spans += 1
    return spans


def count_otlp_json(body):
    doc = json.loads(body)
    return sum(len(ss.get("spans", [])) for rs in doc.get("resourceSpans", [])
               for ss in rs.get("scopeSpans", []))


class Msgpack:
    """Just enough msgpack to walk a Datadog payload: skip() any value, array headers."""

    def __init__(self, buf):
        self.b = buf
        self.i = 0

    def u(self, fmt, n):
        v = struct.unpack_from(fmt, self.b, self.i)[0]
        self.i += n
        return v

    def array_len(self):
        t = self.b[self.i]
        self.i += 1
        if 0x90 <= t <= 0x9F:
            return t & 0x0F
        if t == 0xDC:
            return self.u(">H", 2)
        if t == 0xDD:
            return self.u(">I", 4)
        raise ValueError("not an array: 0x%02x" % t)

    def skip(self):
        t = self.b[self.i]
        self.i += 1
        if t <= 0x7F or t >= 0xE0 or t in (0xC0, 0xC2, 0xC3):
            return
        if 0x80 <= t <= 0x8F:
            for _ in range(2 * (t & 0x0F)):
                self.skip()
            return
        if 0x90 <= t <= 0x9F:
            for _ in range(t & 0x0F):
                self.skip()
            return
        if 0xA0 <= t <= 0xBF:
            self.i += t & 0x1F
            return
        fixed = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8,
                 0xCA: 4, 0xCB: 8, 0xD4: 2, 0xD5: 3, 0xD6: 5, 0xD7: 9, 0xD8: 17}
        if t in fixed:
            self.i += fixed[t]
            return
        if t in (0xD9, 0xC4):
            self.i += self.u(">B", 1)
            return
        if t in (0xDA, 0xC5):
            self.i += self.u(">H", 2)
            return
        if t in (0xDB, 0xC6):
            self.i += self.u(">I", 4)
            return
        if t in (0xDC, 0xDD):
            n = self.u(">H", 2) if t == 0xDC else self.u(">I", 4)
            for _ in range(n):
                self.skip()
            return
        if t in (0xDE, 0xDF):
            n = self.u(">H", 2) if t == 0xDE else self.u(">I", 4)
            for _ in range(2 * n):
                self.skip()
            return
        if t in (0xC7, 0xC8, 0xC9):
            n = self.u(">B", 1) if t == 0xC7 else self.u(">H", 2) if t == 0xC8 else self.u(">I", 4)
            self.i += 1 + n
            return
        raise ValueError("bad msgpack type 0x%02x" % t)


def count_datadog(body):
    m = Msgpack(body)
    spans = 0
    for _ in range(m.array_len()):
        n = m.array_len()
        spans += n
        for _ in range(n):
            m.skip()
    return spans


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(parts)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        return body

    def do_GET(self):
        if self.path == "/count":
            with LOCK:
                s = ("spans={spans} requests={requests} bytes={bytes} errors={errors} "
                     "dd_header_traces={dd_header_traces}\n").format(**STATS)
            self.reply(200, s.encode())
        else:
            self.reply(404, b"not found\n")

    def do_POST(self):
        body = self.read_body()
        path = self.path.split("?")[0]
        spans = 0
        ok = True
        try:
            if path == "/v1/traces":
                if "json" in self.headers.get("Content-Type", ""):
                    spans = count_otlp_json(body)
                else:
                    spans = count_otlp_protobuf(body)
            elif path in ("/v0.4/traces", "/v0.3/traces", "/v0.5/traces"):
                spans = count_datadog(body)
            else:
                ok = False
        except Exception:  # a malformed payload is counted, not fatal
            ok = False
        with LOCK:
            STATS["requests"] += 1
            STATS["bytes"] += len(body)
            STATS["spans"] += spans
            STATS["dd_header_traces"] += int(self.headers.get("X-Datadog-Trace-Count", "0") or 0)
            if not ok:
                STATS["errors"] += 1
        if path.startswith("/v0."):
            self.reply(200, b'{"rate_by_service":{}}', "application/json")
        elif ok:
            self.reply(200, b"", "application/x-protobuf")
        else:
            self.reply(400, b"bad payload\n")

    do_PUT = do_POST


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
