#!/usr/bin/env python3
"""tracegate soak: mixed good and bad traffic through a real tracegate, with bad upstreams,
config reloads and a flapping collector, for a bounded time. Python 3 standard library only.

  soak.py run --tracegate BIN --workdir DIR --seconds N     the driver (tests/soak/run.sh calls it)
  soak.py upstreams                                          the upstream servers (the driver starts it)

The driver starts the upstream servers (a child process of their own, so their CPU is not the
clients'), a real tracegate on a config written to DIR, and an OTLP/HTTP collector sink; it
then runs, concurrently and for N seconds:

  good clients   keep-alive GETs, pipelined GETs, uploads (Content-Length and chunked, up to
                 3 MiB), downloads (up to 4 MiB), WebSocket echo, all of it over plain HTTP and
                 TLS; each request carries a unique id (path and x-soak-id) that the upstream
                 echoes in a header and the body, and must come back intact and with its own id;
  bad clients    slowloris on head and body, abandoned uploads, TCP resets mid-request and
                 mid-response, garbage bytes, oversize headers, bad chunked framing, a 40 KB path;
  bad upstreams  behind their own routes: resets mid-body, trickled responses, unsolicited
                 bytes after a response ("poisoned" keep-alive connections), garbage instead of a
                 response, an answer before the request body was read, a 70 KB trailer field;
  operations     SIGHUP (reload of a changed config) every few seconds, the collector sink
                 stopped and restarted every ~10 s, tracegate's RSS sampled every second.

At the end it waits (with a deadline) for every client connection to close and the export queue
to drain, reads /metrics, stops tracegate with SIGTERM and reads its export totals from the exit
log. Pass criteria (exit 1 when any fails; each failure kind is printed with a count and an
example, joined with its access-log line):
  1. tracegate never exits during the run, and exits 0 on SIGTERM;
  2. zero failed good requests;
  3. no response carries another request's id (no response to the wrong client), and the poison
     upstream never reads a request on a connection that held its unsolicited bytes;
  4. bad-upstream routes answer as specified (see BAD_ROUTE_ALLOWED);
  5. no request tracegate must refuse reaches the upstream; no POST is forwarded twice;
  6. RSS has no upward trend over the second half of the run (rule at rss_verdict());
  7. every good request's spans are exported or counted as dropped, and for every exporter
     exported + rejected + dropped = queued;
  8. no client connection is left open once every client has closed; every reload of a valid
     config succeeds;
  9. slowloris heads and bodies are answered or closed within header_timeout / body_timeout
     (+ LIMIT_SLACK).
The work directory keeps tracegate.yaml, tracegate.log, access.log, summary.txt, failures.json.
SOAK_SKIP (comma-separated) leaves out bad-client kinds (BAD_CLIENT_KINDS), bad upstreams
(BAD_UPSTREAMS), "reload" or "collector_flap": for narrowing a failure down.
"""

import argparse
import asyncio
import logging
import base64
import collections
import ctypes
import hashlib
import json
import os
import random
import re
import signal
import socket
import ssl
import statistics
import struct
import sys
import time

HOST = "127.0.0.1"
STREAM_LIMIT = 1 << 20          # asyncio StreamReader limit (longest head/line we read)
REQUEST_TIMEOUT = 30.0          # one good request, from write to last byte
HEADER_TIMEOUT = 5.0            # limits.header_timeout in the config below
BODY_TIMEOUT = 8.0              # limits.body_timeout in the config below
LIMIT_SLACK = 3.0               # a slowloris connection may outlive its limit by this much
POISON_RACE = 0.010             # a request read this soon after the poison may have crossed it in flight
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B65"

# The kinds of bad upstream, each behind its own upstream + route (path /bad/<kind>/<id>).
BAD_UPSTREAMS = ["reset", "trickle", "poison", "garbage", "early", "trailer_bomb"]
# What a client of each bad route may see. A response carrying another request's id is never
# allowed (it is counted as a wrong-client response on top). Outcomes:
#   ok         200, complete, own id          proxy5xx   a 5xx with x-tracegate-error
#   truncated  a head, then the body broke off   closed   no head at all, connection closed/reset
BAD_ROUTE_ALLOWED = {
    "reset": {"truncated", "proxy5xx", "closed"},   # the upstream resets mid-body
    "trickle": {"ok"},                              # slow but correct: must be relayed whole
    "poison": {"ok"},                               # correct responses; extra bytes 50 ms later
    "garbage": {"proxy5xx"},                        # no HTTP at all: 502 bad_upstream_response
    "early": {"ok", "proxy5xx", "closed"},          # answers before reading the body
    "trailer_bomb": {"ok", "truncated", "proxy5xx", "closed"},  # 70 KB trailer field
}
BAD_CLIENT_KINDS = ["slow_head", "slow_body", "abandon_upload", "reset_request", "reset_response",
                    "garbage", "tls_garbage", "oversize_header", "bad_chunk_size", "bad_chunk_data",
                    "bad_chunk_overflow", "te_and_cl", "trailer_100k", "long_path"]


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the driver dies, whatever way it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


# ------------------------------------------------------------------------------------------
# HTTP/1.1 and WebSocket wire helpers (shared by upstreams, sink and clients)

class ProtoError(Exception):
    pass


def hget(headers, name):
    for k, v in headers:
        if k == name:
            return v
    return None


def parse_head(raw):
    lines = raw[:-4].split(b"\r\n")
    start = lines[0].decode("latin-1")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ProtoError("header line without colon: %r" % line[:60])
        headers.append((name.strip().lower().decode("latin-1"), value.strip().decode("latin-1")))
    return start, headers


async def read_head(reader):
    """Returns (start line, headers) or None on EOF before the first byte."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial:
            return None
        raise ProtoError("EOF inside head after %d bytes" % len(e.partial))
    except asyncio.LimitOverrunError:
        raise ProtoError("head too long")
    return parse_head(raw)


async def read_chunked(reader):
    out = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise ProtoError("bad chunk size line %r" % line[:40])
        if size == 0:
            break
        out += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise ProtoError("chunk not followed by CRLF")
    trailers = []
    while True:
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            break
        trailers.append(line[:-2])
    return bytes(out), trailers


async def read_body(reader, headers, *, response, status=200, method="GET"):
    """Returns (body, trailers). A response without framing is read to EOF."""
    if response and (100 <= status < 200 or status in (204, 304) or method == "HEAD"):
        return b"", []
    te = hget(headers, "transfer-encoding")
    if te is not None and "chunked" in te.lower():
        return await read_chunked(reader)
    cl = hget(headers, "content-length")
    if cl is not None:
        try:
            n = int(cl)
        except ValueError:
            raise ProtoError("bad content-length %r" % cl)
        return await reader.readexactly(n), []
    if response:
        return await reader.read(), []
    return b"", []


def xor_mask(data, key):
    if not data:
        return data
    k = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(len(data), "big")


def ws_frame(opcode, payload, mask):
    head = bytearray([0x80 | opcode])
    m = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head.append(m | n)
    elif n < 65536:
        head.append(m | 126)
        head += struct.pack("!H", n)
    else:
        head.append(m | 127)
        head += struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        return bytes(head) + key + xor_mask(payload, key)
    return bytes(head) + payload


async def ws_read(reader):
    """Returns (opcode, payload); unmasks when masked."""
    b0, b1 = await reader.readexactly(2)
    if not b0 & 0x80:
        raise ProtoError("fragmented websocket frame")
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    key = await reader.readexactly(4) if b1 & 0x80 else None
    payload = await reader.readexactly(n)
    if key:
        payload = xor_mask(payload, key)
    return b0 & 0x0F, payload


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


def download_payload(rid, n):
    """The deterministic download body for id `rid`: clients regenerate it to verify."""
    return random.Random(rid).randbytes(n)


def rst_close(writer):
    """Close with SO_LINGER 0: the peer gets a TCP RST."""
    try:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    except Exception:
        pass


def close_quietly(writer):
    try:
        writer.close()
    except Exception:
        pass


def response_bytes(status, headers, body, reason="OK"):
    h = "HTTP/1.1 %d %s\r\n" % (status, reason)
    h += "".join("%s: %s\r\n" % kv for kv in headers)
    h += "content-length: %d\r\n\r\n" % len(body)
    return h.encode("latin-1") + body


# ------------------------------------------------------------------------------------------
# Upstream servers (the `upstreams` process)

class UpstreamStats:
    def __init__(self):
        self.seen = collections.Counter()     # good id -> times it reached the good upstream
        self.post_ids = set()
        self.refused_forwarded = []           # paths under /refuse/ that reached an upstream
        self.reused_after_poison = {}         # poison-route id -> ms its connection had held the poison
        self.requests = 0


USTATS = UpstreamStats()


def path_id(path):
    parts = path.split("/")
    return parts[2] if len(parts) > 2 else ""


async def serve_ws_echo(reader, writer):
    while True:
        op, payload = await ws_read(reader)
        if op == 8:
            writer.write(ws_frame(8, payload[:125], False))
            await writer.drain()
            return
        if op == 9:
            writer.write(ws_frame(10, payload, False))
        elif op in (1, 2):
            writer.write(ws_frame(op, payload, False))
        await writer.drain()


async def next_request_or_400(reader, writer, body):
    """The next request head, or None when the connection is over: closed by the peer, or
    bytes that are no request, answered 400 first."""
    try:
        return await read_head(reader)
    except ProtoError:
        writer.write(response_bytes(400, [("connection", "close")], body, "Bad Request"))
        await writer.drain()
        return None


async def good_upstream(reader, writer):
    try:
        while True:
            head = await next_request_or_400(reader, writer, b"bad request\n")
            if head is None:
                return
            start, headers = head
            USTATS.requests += 1
            try:
                method, target, _version = start.split(" ")
            except ValueError:
                writer.write(response_bytes(400, [("connection", "close")], b"bad request line\n", "Bad Request"))
                await writer.drain()
                return
            path, _, query = target.partition("?")
            params = dict(p.partition("=")[::2] for p in query.split("&") if p)
            if path.startswith("/refuse/"):
                USTATS.refused_forwarded.append(target[:120])
            if path == "/__stats":
                body = json.dumps({"seen_twice": {k: v for k, v in USTATS.seen.items() if v > 1},
                                   "post_twice": sorted(k for k, v in USTATS.seen.items()
                                                        if v > 1 and k in USTATS.post_ids),
                                   "refused_forwarded": USTATS.refused_forwarded[:50],
                                   "refused_forwarded_count": len(USTATS.refused_forwarded),
                                   "reused_after_poison": USTATS.reused_after_poison,
                                   "requests": USTATS.requests}).encode()
                writer.write(response_bytes(200, [("content-type", "application/json")], body))
                await writer.drain()
                continue
            rid = path_id(path)
            sid = hget(headers, "x-soak-id") or "-"
            if rid.startswith("g-"):
                USTATS.seen[rid] += 1
                if method == "POST":
                    USTATS.post_ids.add(rid)
            body, trailers = await read_body(reader, headers, response=False)
            close = (hget(headers, "connection") or "").lower() == "close"
            if path.startswith("/ws/") and (hget(headers, "upgrade") or "").lower() == "websocket":
                key = hget(headers, "sec-websocket-key") or ""
                writer.write(("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
                              "sec-websocket-accept: %s\r\nx-soak-id: %s\r\n\r\n" % (ws_accept(key), rid)).encode())
                await writer.drain()
                await serve_ws_echo(reader, writer)
                return
            hdrs = [("x-soak-id", rid), ("x-soak-hdr", sid)]
            if close:
                hdrs.append(("connection", "close"))
            if path.startswith("/download/"):
                n = int(params.get("n", "0"))
                payload = ("id=%s hdr=%s\n" % (rid, sid)).encode() + download_payload(rid, n)
                if params.get("te") == "chunked":
                    h = "HTTP/1.1 200 OK\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs)
                    writer.write((h + "transfer-encoding: chunked\r\n\r\n").encode())
                    i = 0
                    while i < len(payload):
                        c = payload[i:i + random.randint(1, 256 * 1024)]
                        writer.write(b"%x\r\n" % len(c) + c + b"\r\n")
                        i += len(c)
                        await writer.drain()
                    writer.write(b"0\r\n\r\n")
                else:
                    writer.write(response_bytes(200, hdrs, payload))
            else:
                text = "id=%s hdr=%s method=%s len=%d sha256=%s trailers=%d\n" % (
                    rid, sid, method, len(body), hashlib.sha256(body).hexdigest(), len(trailers))
                if params.get("te") == "chunked":
                    h = "HTTP/1.1 200 OK\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs)
                    b = text.encode()
                    writer.write((h + "transfer-encoding: chunked\r\n\r\n").encode()
                                 + b"%x\r\n" % 5 + b[:5] + b"\r\n" + b"%x\r\n" % (len(b) - 5) + b[5:]
                                 + b"\r\n0\r\n\r\n")
                else:
                    writer.write(response_bytes(200, hdrs, text.encode()))
            await writer.drain()
            if close:
                return
    except (ConnectionError, asyncio.IncompleteReadError, ProtoError, asyncio.LimitOverrunError):
        pass
    finally:
        close_quietly(writer)


def bad_upstream(kind):
    async def handle(reader, writer):
        poisoned_at = [None]   # when the last unsolicited response went out on this connection
        try:
            while True:
                # A 400 for bytes that are no request: what Python's http.server does.
                head = await next_request_or_400(reader, writer, b"bad\n")
                if head is None:
                    return
                start, headers = head
                parts = start.split(" ")
                if len(parts) != 3:
                    writer.write(response_bytes(400, [("connection", "close")], b"bad\n", "Bad Request"))
                    await writer.drain()
                    return
                path = parts[1].partition("?")[0]
                if path.startswith("/refuse/"):
                    USTATS.refused_forwarded.append(parts[1][:120])
                rid = path.rsplit("/", 1)[-1]
                if kind != "early":
                    await read_body(reader, headers, response=False)
                ok_body = ("id=%s %s\n" % (rid, kind)).encode()
                if kind == "reset":
                    writer.write(("HTTP/1.1 200 OK\r\nx-soak-id: %s\r\ncontent-length: 1000000\r\n\r\n"
                                  % rid).encode() + ok_body + os.urandom(20000))
                    await writer.drain()
                    await asyncio.sleep(0.01)
                    rst_close(writer)
                    return
                if kind == "trickle":
                    data = response_bytes(200, [("x-soak-id", rid)], ok_body + b"." * 300)
                    for i in range(0, len(data), 20):
                        writer.write(data[i:i + 20])
                        await writer.drain()
                        await asyncio.sleep(0.05)
                    continue
                if kind == "poison":
                    # A request read on this connection well after the poison went out was sent
                    # by a proxy that reused a connection with unread bytes: a definite bug. One
                    # read within POISON_RACE of it may have crossed the poison in flight, which
                    # no proxy can tell from an answer (the driver counts it apart).
                    if poisoned_at[0] is not None:
                        USTATS.reused_after_poison[rid] = round((time.monotonic() - poisoned_at[0]) * 1000, 2)
                    poisoned_at[0] = None
                    writer.write(response_bytes(200, [("x-soak-id", rid)], ok_body))
                    await writer.drain()

                    async def poison(w=writer):
                        await asyncio.sleep(0.05)
                        try:
                            w.write(response_bytes(200, [("x-soak-id", "POISON")], b"id=POISON POISONED\n"))
                            poisoned_at[0] = time.monotonic()
                        except Exception:
                            pass
                    asyncio.ensure_future(poison())
                    continue
                if kind == "garbage":
                    variant = random.randrange(4)
                    if variant == 0:
                        writer.write(os.urandom(random.randint(1, 600)).replace(b"H", b"h"))
                    elif variant == 1:
                        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: abc\r\n\r\n" + ok_body)
                    elif variant == 2:
                        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n" + ok_body)
                    else:
                        writer.write(b"HTTP/1.1 2000 OK\r\n\xff\xfe: x\r\n\r\n")
                    await writer.drain()
                    await asyncio.sleep(0.02)
                    return
                if kind == "early":
                    # Answer before reading the body, then read on as if the body were the next
                    # request (what Python's http.server does with a chunked body).
                    writer.write(response_bytes(200, [("x-soak-id", rid)], ok_body))
                    await writer.drain()
                    continue
                if kind == "trailer_bomb":
                    writer.write(("HTTP/1.1 200 OK\r\nx-soak-id: %s\r\ntransfer-encoding: chunked\r\n\r\n"
                                  % rid).encode() + b"%x\r\n" % len(ok_body) + ok_body + b"\r\n0\r\nx-big: "
                                 + b"t" * 70000 + b"\r\n\r\n")
                    await writer.drain()
                    continue
        except (ConnectionError, asyncio.IncompleteReadError, ProtoError, asyncio.LimitOverrunError):
            pass
        finally:
            close_quietly(writer)
    return handle


async def upstreams_main():
    ports = {}
    servers = []
    srv = await asyncio.start_server(good_upstream, HOST, 0, limit=STREAM_LIMIT, backlog=512)
    servers.append(srv)
    ports["good"] = srv.sockets[0].getsockname()[1]
    for kind in BAD_UPSTREAMS:
        srv = await asyncio.start_server(bad_upstream(kind), HOST, 0, limit=STREAM_LIMIT, backlog=512)
        servers.append(srv)
        ports[kind] = srv.sockets[0].getsockname()[1]
    print(json.dumps(ports), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    sys.stdout.flush()
    os._exit(0)  # no teardown of connections in flight: nothing to report from here


# ------------------------------------------------------------------------------------------
# The driver

def now():
    return time.monotonic()


class Results:
    def __init__(self):
        self.good_ok = collections.Counter()
        self.good_fail = collections.Counter()
        self.failures = []            # (kind, id, reason)
        self.wrong = []               # (kind, id, what came back)
        self.verified_ids = []        # good ids with a verified response (their spans must exist)
        self.bad_route = collections.defaultdict(collections.Counter)
        self.bad_route_unexpected = []  # (kind, id, outcome, detail)
        self.bad_client = collections.defaultdict(collections.Counter)
        self.slow_anomalies = []      # (kind, t, client port, ss output)
        self.slow_runs = []           # (kind, start t, end t, bounded?) of every slowloris connection
        self.reload_times = []        # t of every SIGHUP
        self.crash = None
        self.notes = []

    def ok(self, kind, rid):
        self.good_ok[kind] += 1
        self.verified_ids.append(rid)
        STARTED.pop(rid, None)

    def fail(self, kind, rid, reason):
        self.good_fail[kind] += 1
        began = STARTED.pop(rid, None)
        if began is not None:
            reason += " (%.1f s after the request began)" % (now() - began)
        self.failures.append((kind, rid, reason, round(now() - T0, 1)))


STARTED = {}                      # good id -> when its request began
R = Results()
T0 = now()


def describe(exc):
    if isinstance(exc, asyncio.IncompleteReadError):
        return "EOF after %d of %s expected bytes" % (len(exc.partial), exc.expected)
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout (%ds)" % REQUEST_TIMEOUT
    return "%s: %s" % (type(exc).__name__, str(exc)[:160])


class Response:
    def __init__(self, status, reason, headers, body, trailers):
        self.status, self.reason, self.headers, self.body, self.trailers = status, reason, headers, body, trailers

    def header(self, name):
        return hget(self.headers, name)

    def why(self):
        err = self.header("x-tracegate-error")
        return "status %d%s body %r" % (self.status, " (x-tracegate-error: %s)" % err if err else "",
                                        self.body[:80])


async def read_response(reader, method="GET", progress=None):
    """`progress`, when given, is a list: [head bytes, expected body bytes] once the head is in."""
    head = await read_head(reader)
    if head is None:
        raise ConnectionError("connection closed before any response byte")
    start, headers = head
    parts = start.split(" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        raise ProtoError("bad status line %r" % start[:80])
    if progress is not None:
        progress[:] = [len(start) + 4 + sum(len(k) + len(v) + 4 for k, v in headers),
                       int(hget(headers, "content-length") or 0)]
    body, trailers = await read_body(reader, headers, response=True, status=status, method=method)
    return Response(status, parts[2] if len(parts) > 2 else "", headers, body, trailers)


def tcp_counters(port):
    """bytes_received of our socket from local `port` and bytes_sent + Send-Q of its peer (tracegate),
    from `ss -tni`; None when ss is missing."""
    try:
        import subprocess
        out = subprocess.run(["ss", "-tniH", "state", "established", "( sport = :%d or dport = :%d )" % (port, port)],
                             capture_output=True, text=True, timeout=5).stdout
    except Exception:
        return None
    lines = out.splitlines()
    res = {}
    for i in range(0, len(lines) - 1, 2):
        f = lines[i].split()   # Recv-Q Send-Q Local Peer (a state filter drops the State column)
        if len(f) < 4:
            continue
        info = lines[i + 1]
        mine = f[2].endswith(":%d" % port)
        m = re.search(r"bytes_received:(\d+)", info)
        m2 = re.search(r"bytes_sent:(\d+)", info)
        if mine:
            res["client_received"] = int(m.group(1)) if m else 0
            res["client_recv_q"] = int(f[0])
        else:
            res["proxy_sent"] = int(m2.group(1)) if m2 else 0
            res["proxy_send_q"] = int(f[1])
    return res


async def stall_probe(conn, writer, progress, after, notes):
    """After `after` s without an answer, note whether the missing bytes reached our kernel: the
    client socket's ciphertext bytes_received against the plaintext this connection must carry."""
    await asyncio.sleep(after)
    port = writer.get_extra_info("sockname")[1]
    c = tcp_counters(port)
    if not c:
        return
    need = conn.rx + (sum(progress) if progress else 0)
    # For TLS: what Python's own SSL layer holds (asyncio internals; best effort). Ciphertext or
    # plaintext waiting here would mean the stall is ours, not tracegate's.
    try:
        proto = writer.transport._ssl_protocol
        notes.append("python ssl layer: %d ciphertext bytes undecrypted, %d plaintext pending, app reading "
                     "paused %s, ssl reading paused %s; stream buffer %d bytes, paused %s" % (
                         proto._incoming.pending, proto._sslobj.pending() if proto._sslobj else -1,
                         proto._app_reading_paused, proto._ssl_reading_paused,
                         len(writer._protocol._stream_reader._buffer), writer._protocol._stream_reader._paused))
    except Exception:
        pass
    notes.append("stalled %ds: client kernel received %s bytes (Recv-Q %s) on this connection, which must carry "
                 ">= %d plaintext bytes by now; tracegate's socket sent %s (Send-Q %s) -> %s" % (
                     after, c.get("client_received"), c.get("client_recv_q"), need, c.get("proxy_sent"),
                     c.get("proxy_send_q"),
                     "the bytes never left tracegate" if c.get("client_received", 0) < need and not
                     c.get("proxy_send_q") else "inconclusive (chunked bodies make the need a lower bound)"))


def request_bytes(method, target, headers, body=None, chunked=None):
    h = "%s %s HTTP/1.1\r\nhost: soak.test\r\n" % (method, target)
    for k, v in headers:
        if k == "x-soak-id":   # also the request id: access log lines and spans join on it
            h += "x-request-id: %s\r\n" % v
    h += "".join("%s: %s\r\n" % kv for kv in headers)
    if chunked is not None:
        h += "transfer-encoding: chunked\r\n\r\n"
        return h.encode() + chunked
    if body is not None:
        h += "content-length: %d\r\n" % len(body)
    return h.encode() + b"\r\n" + (body or b"")


def chunk_encode(body, trailers=()):
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i:i + random.choice((1, 7, 100, 4096, 65536, 262144))]
        out += b"%x\r\n" % len(c) + c + b"\r\n"
        i += len(c)
    out += b"0\r\n" + b"".join(t + b"\r\n" for t in trailers) + b"\r\n"
    return bytes(out)


def body_id(body):
    m = re.match(rb"id=(\S+)", body)
    return m.group(1).decode("latin-1") if m else None


def check_ids(kind, rid, resp):
    """Returns None when the response is for rid; records a wrong-client response otherwise."""
    hid = resp.header("x-soak-id")
    bid = body_id(resp.body)
    if (hid is not None and hid != rid) or (bid is not None and bid != rid):
        R.wrong.append((kind, rid, "x-soak-id=%s body id=%s status=%d" % (hid, bid, resp.status)))
        return "WRONG CLIENT: got response for %s/%s" % (hid, bid)
    return None


class Env:
    """Ports, TLS context, stop flag: what every traffic task needs."""
    def __init__(self, plain, tls, cafile):
        self.plain, self.tls_port = plain, tls
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.stop = asyncio.Event()
        self.counter = 0
        self.body_timeout = BODY_TIMEOUT

    def rid(self, kind):
        self.counter += 1
        rid = "g-%s-%d-%04x" % (kind, self.counter, random.getrandbits(16))
        STARTED[rid] = now()
        return rid

    async def connect(self, tls=False):
        if tls:
            return await asyncio.open_connection(HOST, self.tls_port, ssl=self.ctx, server_hostname="localhost",
                                                 limit=STREAM_LIMIT)
        return await asyncio.open_connection(HOST, self.plain, limit=STREAM_LIMIT)


async def pause(env, lo, hi):
    try:
        await asyncio.wait_for(env.stop.wait(), random.uniform(lo, hi))
    except asyncio.TimeoutError:
        pass


class Conn:
    """A client connection reused for a random number of requests."""
    def __init__(self, env, tls):
        self.env, self.tls = env, tls
        self.rw = None
        self.left = 0
        self.used = 0
        self.rx = 0

    async def get(self):
        if self.rw is None or self.left <= 0:
            self.drop()
            self.rw = await self.env.connect(self.tls)
            self.left = random.randint(1, 200)
            self.used = 0
            self.rx = 0   # response bytes (heads and bodies) read on this connection
        self.left -= 1
        self.used += 1
        return self.rw

    def drop(self):
        if self.rw is not None:
            close_quietly(self.rw[1])
        self.rw = None


def conn_note(conn):
    return " [request %d on its connection%s]" % (conn.used, ", TLS" if conn.tls else "")


async def good_keepalive(env, tls):
    kind = "keepalive-tls" if tls else "keepalive"
    conn = Conn(env, tls)
    while not env.stop.is_set():
        rid = env.rid("ka")
        te = random.choice(["cl", "cl", "chunked"])
        try:
            reader, writer = await conn.get()
            note = conn_note(conn)
            writer.write(request_bytes("GET", "/echo/%s?te=%s" % (rid, te), [("x-soak-id", rid)]))
            resp = await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT)
            bad = check_ids(kind, rid, resp)
            if bad:
                R.fail(kind, rid, bad + note)
                conn.drop()
            elif resp.status != 200 or not resp.body.startswith(("id=%s hdr=%s method=GET" % (rid, rid)).encode()):
                R.fail(kind, rid, resp.why() + note)
                conn.drop()
            else:
                R.ok(kind, rid)
                if (resp.header("connection") or "").lower() == "close":
                    conn.drop()
        except Exception as e:
            R.fail(kind, rid, describe(e) + conn_note(conn))
            conn.drop()
        await pause(env, 0.005, 0.03)
    conn.drop()


async def good_pipelined(env, tls):
    kind = "pipelined-tls" if tls else "pipelined"
    conn = Conn(env, tls)
    while not env.stop.is_set():
        ids = [env.rid("pl") for _ in range(random.randint(2, 8))]
        try:
            reader, writer = await conn.get()
            note = conn_note(conn)
            writer.write(b"".join(request_bytes("GET", "/echo/%s" % rid, [("x-soak-id", rid)]) for rid in ids))
            for i, rid in enumerate(ids):
                try:
                    resp = await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT)
                except Exception as e:
                    for later in ids[i:]:
                        R.fail(kind, later, "%s (pipelined %d of %d)%s" % (describe(e), ids.index(later) + 1,
                                                                            len(ids), note))
                    conn.drop()
                    break
                bad = check_ids(kind, rid, resp)
                if bad:
                    R.fail(kind, rid, bad + " (pipelined %d of %d)" % (i + 1, len(ids)))
                elif resp.status != 200:
                    R.fail(kind, rid, resp.why() + " (pipelined %d of %d)" % (i + 1, len(ids)))
                else:
                    R.ok(kind, rid)
        except Exception as e:
            for rid in ids:
                R.fail(kind, rid, describe(e))
            conn.drop()
        await pause(env, 0.02, 0.06)
    conn.drop()


def upload_size():
    return random.choice([0, 1, 100, 5000, 65536, 200000, random.randint(1, 64 * 1024),
                          random.randint(1, 3 * 1024 * 1024)])


async def good_upload(env, tls):
    kind = "upload-tls" if tls else "upload"
    conn = Conn(env, tls)
    while not env.stop.is_set():
        rid = env.rid("up")
        size = upload_size()
        body = random.randbytes(size)
        chunked = random.random() < 0.5
        trailers = [b"x-soak-trailer: " + rid.encode()] if chunked and random.random() < 0.3 else []
        te = random.choice(["cl", "chunked"])
        try:
            reader, writer = await conn.get()
            note = conn_note(conn) + (" chunked" if chunked else " content-length") + " %d bytes" % size
            if chunked:
                writer.write(request_bytes("POST", "/upload/%s?te=%s" % (rid, te), [("x-soak-id", rid)],
                                           chunked=chunk_encode(body, trailers)))
            else:
                writer.write(request_bytes("POST", "/upload/%s?te=%s" % (rid, te), [("x-soak-id", rid)], body))
            resp = await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT)
            want = ("id=%s hdr=%s method=POST len=%d sha256=%s" % (rid, rid, size,
                                                                   hashlib.sha256(body).hexdigest())).encode()
            bad = check_ids(kind, rid, resp)
            if bad:
                R.fail(kind, rid, bad + note)
                conn.drop()
            elif resp.status != 200 or not resp.body.startswith(want):
                R.fail(kind, rid, resp.why() + note)
                conn.drop()
            else:
                R.ok(kind, rid)
        except Exception as e:
            R.fail(kind, rid, describe(e) + conn_note(conn))
            conn.drop()
        await pause(env, 0.05, 0.25)
    conn.drop()


async def good_download(env, tls):
    kind = "download-tls" if tls else "download"
    conn = Conn(env, tls)
    while not env.stop.is_set():
        rid = env.rid("dl")
        n = random.choice([0, 10, 70000, random.randint(1, 4 * 1024 * 1024)])
        te = random.choice(["cl", "chunked"])
        try:
            reader, writer = await conn.get()
            note = conn_note(conn) + " %s %d bytes" % (te, n)
            req = request_bytes("GET", "/download/%s?n=%d&te=%s" % (rid, n, te), [("x-soak-id", rid)])
            writer.write(req)
            progress, stall = [], []
            probe = asyncio.ensure_future(stall_probe(conn, writer, progress, 5, stall))
            try:
                resp = await asyncio.wait_for(read_response(reader, progress=progress), REQUEST_TIMEOUT)
            except Exception as e:
                raise RuntimeError(describe(e) + conn_note(conn) + "".join("; " + x for x in stall))
            finally:
                probe.cancel()
            conn.rx += progress[0] + len(resp.body)  # exact for Content-Length, a lower bound for chunked
            bad = check_ids(kind, rid, resp)
            want = ("id=%s hdr=%s\n" % (rid, rid)).encode() + download_payload(rid, n)
            if bad:
                R.fail(kind, rid, bad + note)
                conn.drop()
            elif resp.status != 200:
                R.fail(kind, rid, resp.why() + note)
                conn.drop()
            elif resp.body != want:
                R.fail(kind, rid, "body differs: %d bytes, expected %d%s" % (len(resp.body), len(want), note))
                conn.drop()
            else:
                R.ok(kind, rid)
        except RuntimeError as e:
            R.fail(kind, rid, str(e))
            conn.drop()
        except Exception as e:
            R.fail(kind, rid, describe(e) + conn_note(conn))
            conn.drop()
        await pause(env, 0.1, 0.3)
    conn.drop()


async def good_websocket(env, tls):
    kind = "websocket-tls" if tls else "websocket"
    while not env.stop.is_set():
        rid = env.rid("ws")
        writer = None
        step = "connect"
        try:
            async def session():
                nonlocal writer, step
                reader, writer = await env.connect(tls)
                key = base64.b64encode(os.urandom(16)).decode()
                step = "upgrade"
                writer.write(request_bytes("GET", "/ws/%s" % rid, [
                    ("x-soak-id", rid), ("upgrade", "websocket"), ("connection", "Upgrade"),
                    ("sec-websocket-key", key), ("sec-websocket-version", "13")]))
                head = await read_head(reader)
                if head is None:
                    raise ConnectionError("closed before the 101")
                start, headers = head
                if not start.startswith("HTTP/1.1 101"):
                    body, _ = await read_body(reader, headers, response=True, status=int(start.split()[1]))
                    return "upgrade answered %r (x-tracegate-error: %s) %r" % (
                        start, hget(headers, "x-tracegate-error"), body[:80])
                if hget(headers, "x-soak-id") != rid:
                    R.wrong.append((kind, rid, "101 for %s" % hget(headers, "x-soak-id")))
                    return "WRONG CLIENT: 101 for %s" % hget(headers, "x-soak-id")
                if hget(headers, "sec-websocket-accept") != ws_accept(key):
                    return "bad sec-websocket-accept"
                for i in range(random.randint(2, 5)):
                    step = "frame %d" % i
                    n = random.choice([0, 5, 125, 126, 1000, 65535, 70000])
                    payload = ("%s:%d:" % (rid, i)).encode() + random.randbytes(n)
                    op = random.choice([1, 2, 9])
                    if op == 1:
                        payload = ("%s:%d:" % (rid, i)).encode() + b"t" * n
                    if op == 9:
                        payload = payload[:125]
                    writer.write(ws_frame(op, payload, True))
                    got_op, got = await ws_read(reader)
                    want_op = 10 if op == 9 else op
                    if got_op != want_op or got != payload:
                        if got.split(b":")[0] != rid.encode() and b":" in got:
                            R.wrong.append((kind, rid, "frame for %r" % got[:40]))
                        return "echo mismatch on frame %d: opcode %d/%d, %d/%d bytes" % (
                            i, got_op, want_op, len(got), len(payload))
                step = "close"
                writer.write(ws_frame(8, struct.pack("!H", 1000), True))
                got_op, _ = await ws_read(reader)
                if got_op != 8:
                    return "expected a close frame, got opcode %d" % got_op
                return None
            err = await asyncio.wait_for(session(), REQUEST_TIMEOUT)
            if err:
                R.fail(kind, rid, err)
            else:
                R.ok(kind, rid)
        except Exception as e:
            R.fail(kind, rid, "%s at %s" % (describe(e), step))
        finally:
            if writer is not None:
                close_quietly(writer)
        await pause(env, 0.2, 0.5)


# ---- bad upstream routes ----

async def bad_route_client(env, kinds, lo, hi):
    conn = Conn(env, False)
    while not env.stop.is_set():
        kind = random.choice(kinds)
        rid = "b-%s-%d" % (kind, random.getrandbits(32))
        outcome, detail = None, ""
        try:
            reader, writer = await conn.get()
            if kind == "early":
                body = b"x" * random.choice([1000, 100000, 300000])
                writer.write(request_bytes("POST", "/bad/early/%s" % rid, [("x-soak-id", rid)], body))
            else:
                writer.write(request_bytes("GET", "/bad/%s/%s" % (kind, rid), [("x-soak-id", rid)]))
            try:
                head = await asyncio.wait_for(read_head(reader), REQUEST_TIMEOUT)
            except (ConnectionError, asyncio.IncompleteReadError, ProtoError) as e:
                head, detail = None, describe(e)
            if head is None:
                outcome = "closed"
                conn.drop()
            else:
                start, headers = head
                status = int(start.split(" ")[1])
                hid = hget(headers, "x-soak-id")
                try:
                    body, _ = await asyncio.wait_for(read_body(reader, headers, response=True, status=status),
                                                     REQUEST_TIMEOUT)
                    complete = True
                except (ConnectionError, asyncio.IncompleteReadError, ProtoError) as e:
                    body, complete, detail = b"", False, describe(e)
                bid = body_id(body)
                if (hid is not None and hid != rid) or (bid is not None and bid != rid):
                    R.wrong.append(("bad-route:" + kind, rid, "x-soak-id=%s body id=%s status=%d"
                                    % (hid, bid, status)))
                    outcome, detail = "wrong_id", "got %s/%s" % (hid, bid)
                    conn.drop()
                elif not complete:
                    outcome = "truncated"
                    conn.drop()
                elif status >= 500 and hget(headers, "x-tracegate-error"):
                    outcome, detail = "proxy5xx", "%d %s" % (status, hget(headers, "x-tracegate-error"))
                elif status == 200 and bid == rid:
                    outcome = "ok"
                else:
                    outcome, detail = "other", "status %d body %r" % (status, body[:60])
                if (hget(headers, "connection") or "").lower() == "close":
                    conn.drop()
        except asyncio.TimeoutError:
            outcome, detail = "timeout", "no answer in %ds" % REQUEST_TIMEOUT
            conn.drop()
        except Exception as e:
            outcome, detail = "closed", describe(e)
            conn.drop()
        R.bad_route[kind][outcome] += 1
        if outcome not in BAD_ROUTE_ALLOWED[kind] and outcome != "wrong_id":
            R.bad_route_unexpected.append((kind, rid, outcome, detail, round(now() - T0, 1)))
        if kinds == ["poison"]:
            # The poison goes out 50 ms after each response. Keep the next request well clear of
            # that moment (0-30 or 70-120 ms after the answer), so that it never crosses the poison
            # in flight: any POISON answer is then the proxy's reuse of a connection with bytes
            # waiting on it.
            await pause(env, *random.choice([(0.0, 0.03), (0.07, 0.12)]))
            continue
        await pause(env, lo, hi)
    conn.drop()


# ---- bad clients ----

async def read_some(reader, timeout):
    """What the server answers (until EOF or timeout), and whether it closed."""
    data = bytearray()
    end = now() + timeout
    try:
        while now() < end:
            b = await asyncio.wait_for(reader.read(65536), max(0.01, end - now()))
            if not b:
                return bytes(data), "closed"
            data += b
            if len(data) > 1 << 20:
                break
    except asyncio.TimeoutError:
        return bytes(data), "open"
    except ConnectionError:
        return bytes(data), "reset"
    return bytes(data), "open"


def connection_state(port):
    """What the kernel says about the proxy's end of the client connection from `port`: whether
    tracegate has accepted it (a process owns it) and what is queued. For the report only."""
    try:
        import subprocess
        out = subprocess.run(["ss", "-tnpi", "state", "all", "( sport = :%d or dport = :%d )" % (port, port)],
                             capture_output=True, text=True, timeout=5).stdout
        return " / ".join(" ".join(l.split()) for l in out.splitlines()[1:])[:600]
    except Exception as e:
        return "ss: %s" % e


def answer_of(data, how):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    if m:
        err = re.search(rb"x-tracegate-error: *([\w-]+)", data, re.I)
        return "%s%s" % (m.group(1).decode(), " " + err.group(1).decode() if err else "")
    return "no response, " + how if not data else "non-HTTP answer, " + how


async def bad_client_once(env, kind):
    rid = "x-%s-%d" % (kind, random.getrandbits(32))
    if kind == "tls_garbage":
        reader, writer = await asyncio.open_connection(HOST, env.tls_port, limit=STREAM_LIMIT)
    else:
        reader, writer = await env.connect(False)
    try:
        if kind in ("slow_head", "slow_body"):
            # One byte of head (10 of body) a second. The connection must be answered or closed
            # within header_timeout (body_timeout) plus LIMIT_SLACK.
            limit = (HEADER_TIMEOUT if kind == "slow_head" else env.body_timeout) + LIMIT_SLACK
            started = now()
            if kind == "slow_head":
                head = request_bytes("GET", "/echo/%s" % rid, [("x-soak-id", rid), ("x-pad", "p" * 60)])
                writer.write(head[:20])
                pieces = [head[i:i + 1] for i in range(20, len(head) - 2)]
            else:
                writer.write(request_bytes("POST", "/upload/%s" % rid, [("content-length", "100000")]))
                pieces = [b"z" * 10] * 10000
            for piece in pieces:
                writer.write(piece)
                await writer.drain()
                data, how = await read_some(reader, 1.0)
                if data or how != "open":
                    R.slow_runs.append((kind, started - T0, now() - T0, True))
                    return answer_of(data, how), now() - started
                if env.stop.is_set():
                    return "cut short by the end of the run", now() - started
                if now() - started > limit:
                    port = writer.get_extra_info("sockname")[1]
                    R.slow_anomalies.append((kind, round(started - T0, 1), port, connection_state(port)))
                    R.slow_runs.append((kind, started - T0, now() - T0, False))
                    return "still open after %ds" % (now() - started), now() - started
            return "whole message trickled", now() - started
        if kind == "abandon_upload":
            writer.write(request_bytes("POST", "/upload/%s" % rid, [("content-length", str(2 << 20))]))
            writer.write(random.randbytes(random.randint(0, 300000)))
            await writer.drain()
            return "closed by client", 0
        if kind == "reset_request":
            writer.write(request_bytes("POST", "/upload/%s" % rid, [("content-length", "1000000")]))
            writer.write(random.randbytes(random.randint(0, 200000)))
            await writer.drain()
            await asyncio.sleep(random.uniform(0, 0.05))
            rst_close(writer)
            return "reset by client", 0
        if kind == "reset_response":
            writer.write(request_bytes("GET", "/download/%s?n=4000000&te=%s" % (rid, random.choice(["cl", "chunked"])),
                                       []))
            await writer.drain()
            await reader.readexactly(random.randint(1, 200000))
            rst_close(writer)
            return "reset by client", 0
        if kind == "garbage":
            data = random.randbytes(random.randint(1, 4096))
            if random.random() < 0.5:
                data = b"GET /refuse/%s HTTP/1.1\r\n" % rid.encode() + data
            writer.write(data)
        elif kind == "tls_garbage":
            writer.write(random.choice([b"\x16\x03\x01\x00\x05hello", b"GET / HTTP/1.1\r\n\r\n",
                                        random.randbytes(2000)]))
        elif kind == "oversize_header":
            writer.write(request_bytes("GET", "/refuse/%s" % rid, [("x-big", "b" * 100000)]))
        elif kind == "long_path":
            writer.write(request_bytes("GET", "/ws/" + "a" * 40000, []))
        elif kind == "te_and_cl":
            writer.write(b"POST /upload/%s HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n"
                         b"transfer-encoding: chunked\r\n\r\n0\r\n\r\n" % rid.encode())
        else:
            bodies = {
                "bad_chunk_size": b"zz\r\nhello\r\n0\r\n\r\n",
                "bad_chunk_data": b"5\r\nhelloEXTRA\r\n0\r\n\r\n",
                "bad_chunk_overflow": b"ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
                "trailer_100k": b"5\r\nhello\r\n0\r\nx: " + b"t" * 100000 + b"\r\n\r\n",
            }
            writer.write(b"POST /upload/%s HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n"
                         % rid.encode() + bodies[kind])
        await writer.drain()
        data, how = await read_some(reader, 3.0)
        return answer_of(data, how), 0
    finally:
        close_quietly(writer)


async def bad_client_loop(env, kinds, lo, hi):
    while not env.stop.is_set():
        kind = random.choice(kinds)
        try:
            outcome, _took = await asyncio.wait_for(bad_client_once(env, kind), 45)
        except Exception as e:
            outcome = describe(e).split(":")[0]
        R.bad_client[kind][outcome] += 1
        await pause(env, lo, hi)


# ---- the collector sink ----

class Sink:
    """OTLP/HTTP JSON sink: POST /v1/traces; counts requests and spans, collects soak ids."""
    def __init__(self):
        self.server = None
        self.port = 0
        self.conns = set()
        self.requests = 0
        self.span_ids = set()
        self.spans = 0
        self.ids = set()
        self.bad_payloads = 0
        self.downs = 0

    async def handle(self, reader, writer):
        self.conns.add(writer)
        try:
            while True:
                head = await read_head(reader)
                if head is None:
                    return
                start, headers = head
                body, _ = await read_body(reader, headers, response=False)
                if start.startswith("POST /v1/traces"):
                    self.requests += 1
                    self.ingest(body)
                    writer.write(response_bytes(200, [("content-type", "application/json")], b"{}"))
                else:
                    writer.write(response_bytes(404, [], b""))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ProtoError, asyncio.LimitOverrunError):
            pass
        finally:
            self.conns.discard(writer)
            close_quietly(writer)

    def ingest(self, body):
        try:
            doc = json.loads(body)
            for rs in doc.get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for sp in ss.get("spans", []):
                        self.spans += 1
                        self.span_ids.add(sp.get("spanId"))
                        if sp.get("kind") not in (2, "SPAN_KIND_SERVER"):
                            continue
                        for a in sp.get("attributes", []):
                            if a.get("key") == "url.path":
                                m = re.match(r"/(?:echo|upload|download|ws)/(g-[^/?]+)",
                                             a.get("value", {}).get("stringValue", ""))
                                if m:
                                    self.ids.add(m.group(1))
        except (ValueError, AttributeError, TypeError):
            self.bad_payloads += 1

    async def start(self):
        deadline = now() + 10
        while True:
            try:
                self.server = await asyncio.start_server(self.handle, HOST, self.port, limit=64 << 20)
                self.port = self.server.sockets[0].getsockname()[1]
                return
            except OSError:
                if now() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def stop(self):
        if self.server is None:
            return
        self.server.close()
        for w in list(self.conns):
            w.transport.abort()
        await self.server.wait_closed()
        self.server = None

    async def flap(self, env):
        while not env.stop.is_set():
            await pause(env, 7, 11)
            if env.stop.is_set():
                break
            await self.stop()
            self.downs += 1
            await asyncio.sleep(random.uniform(2, 4))
            await self.start()


# ---- tracegate, config, metrics ----

CONFIG = """\
# Written by tests/soak/soak.py (generation {gen}).
service_name: soak
workers: 2
listeners:
  - name: plain
    address: 127.0.0.1:0
  - name: tls
    address: 127.0.0.1:0
    tls:
      certificates:
        - {{cert: {cert}, key: {key}}}
upstreams:
  - name: good
    endpoints: [127.0.0.1:{good}]
    max_idle_connections: {idle}
{bad_upstreams}
routes:
  - name: ws
    match:
      path_regex: ^/ws/[a-z0-9-]+$
    upstream: good
{bad_routes}
  - name: good
    match:
      path_prefix: /
    upstream: good
    timeout: {timeout}
limits:
  max_header_bytes: 65536
  header_timeout: 5s
  idle_timeout: 20s
  body_timeout: 8s
  max_body_bytes: 16777216
  drain_timeout: 5s
tracing:
  sampling:
    ratio: 1
  exporters:
    - type: otlp
      endpoint: http://127.0.0.1:{sink}/v1/traces
      encoding: json
      timeout: 3s
    - type: memory
  export:
    max_queue_spans: 65536
    shutdown_timeout: 15s
admin:
  address: 127.0.0.1:0
access_log:
  path: {access_log}
  format: text
"""


def write_config(path, gen, ports, sink_port, workdir, optional_off=()):
    bad_up = "".join("  - name: bad-%s\n    endpoints: [127.0.0.1:%d]\n    connect_timeout: 1s\n"
                     % (k.replace("_", "-"), ports[k]) for k in BAD_UPSTREAMS)
    bad_routes = "".join("  - name: bad-%s\n    match:\n      path_prefix: /bad/%s/\n    upstream: bad-%s\n"
                         "    timeout: 10s\n" % (k.replace("_", "-"), k, k.replace("_", "-")) for k in BAD_UPSTREAMS)
    text = CONFIG.format(gen=gen, cert=os.path.join(workdir, "cert.pem"), key=os.path.join(workdir, "key.pem"),
                         good=ports["good"], idle=16 if gen % 2 == 0 else 8, bad_upstreams=bad_up.rstrip("\n"),
                         bad_routes=bad_routes.rstrip("\n"), timeout="30s" if gen % 2 == 0 else "29s", sink=sink_port,
                         access_log=os.path.join(workdir, "access.log"))
    for key in optional_off:
        text = "".join(line for line in text.splitlines(True) if not line.strip().startswith(key + ":"))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)  # atomic: a reload never reads half a file


async def http_get(port, path, timeout=5.0):
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port, limit=STREAM_LIMIT), timeout)
    try:
        writer.write(("GET %s HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n" % path).encode())
        return await asyncio.wait_for(read_response(reader), timeout)
    finally:
        close_quietly(writer)


METRIC_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = METRIC_RE.match(line)
        if m:
            labels = tuple(sorted(LABEL_RE.findall(m.group(2) or "")))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def msum(metrics, name, **want):
    return sum(v for (n, labels), v in metrics.items()
               if n == name and all(dict(labels).get(k) == w for k, w in want.items()))


class Tracegate:
    def __init__(self, binary, config, workdir):
        self.binary, self.config, self.workdir = binary, config, workdir
        self.proc = None
        self.log = open(os.path.join(workdir, "tracegate.log"), "w")
        self.tail = collections.deque(maxlen=60)
        self.lines = []           # export lines, kept whole
        self.ports = {}
        self.port_event = asyncio.Event()
        self.exit_time = None

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            self.binary, "--config", self.config, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, preexec_fn=die_with_parent)
        asyncio.ensure_future(self.pump())

    async def pump(self):
        while True:
            line = await self.proc.stderr.readline()
            if not line:
                break
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.log.write(text + "\n")
            self.log.flush()
            self.tail.append(text)
            m = re.search(r"listener (\S+) listening on [\d.]+:(\d+)", text)
            if m:
                self.ports[m.group(1)] = int(m.group(2))
            m = re.search(r"admin listening on [\d.]+:(\d+)", text)
            if m:
                self.ports["admin"] = int(m.group(1))
            if {"plain", "tls", "admin"} <= set(self.ports):
                self.port_event.set()
            if re.search(r"\bexport(er)?\b.*(queued|exported)", text):
                self.lines.append(text)

    def rss_kib(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None


def rss_verdict(samples):
    """RSS must show no upward trend over the second half of the run.

    The first third is warm-up: the trace store fills to its max_traces, each worker's connection
    pools and buffers reach their working size, and the allocator's arenas grow to the peak of
    concurrent multi-MiB transfers. After that the load is stationary (same mix, same rates), so a
    process without a leak holds a flat RSS: we compare the median of the last third with the
    median of the middle third. Medians, not means or maxima, because single samples jump with a
    few MiB uploads in flight. A leak of even 1 KiB per request at a few hundred requests/s grows
    RSS by tens of MiB per minute, far past 20 %; normal allocator noise stays within it. The extra
    4 MiB floor keeps a small process (tens of MiB) from failing on noise of a page cache's worth.
    """
    vals = [kib for _, kib in samples]
    n = len(vals)
    if n < 9:
        return True, "too few RSS samples (%d) to judge" % n
    mid = statistics.median(vals[n // 3: 2 * n // 3])
    last = statistics.median(vals[2 * n // 3:])
    half = samples[n // 2:]
    ts = [t for t, _ in half]
    tm, vm = statistics.mean(ts), statistics.mean(v for _, v in half)
    den = sum((t - tm) ** 2 for t in ts) or 1
    slope = sum((t - tm) * (v - vm) for t, v in half) / den
    ok = not (last > mid * 1.20 and last - mid > 4096)
    return ok, ("first %.1f MiB, middle-third median %.1f MiB, last-third median %.1f MiB (%+.1f%%), "
                "max %.1f MiB, second-half slope %+.1f KiB/s"
                % (vals[0] / 1024, mid / 1024, last / 1024, (last / mid - 1) * 100 if mid else 0,
                   max(vals) / 1024, slope))


def parse_export_lines(lines):
    out = {"queued": None, "queue_full": None, "exporters": {}}
    for line in lines:
        m = re.search(r"export: (\d+) spans queued, (\d+) dropped \(queue full\)", line)
        if m:
            out["queued"], out["queue_full"] = int(m.group(1)), int(m.group(2))
        m = re.search(r"exporter (.+?): (\d+) exported, (\d+) rejected, (\d+) dropped \(export failed\), "
                      r"(\d+) dropped \(backlog full\), (\d+) dropped \(shutdown\)", line)
        if m:
            out["exporters"][m.group(1)] = dict(zip(["exported", "rejected", "failed", "backlog", "shutdown"],
                                                    map(int, m.groups()[1:])))
    return out


def access_lines(workdir, ids):
    """The access log lines of the given request ids (the id is in the path and request_id)."""
    found = collections.defaultdict(list)
    if not ids:
        return found
    pat = re.compile("|".join(re.escape(i) for i in ids))
    try:
        with open(os.path.join(workdir, "access.log"), errors="replace") as f:
            for line in f:
                m = pat.search(line)
                if m:
                    found[m.group(0)].append(line.strip())
    except OSError:
        pass
    return found


def normalize(reason):
    """A failure's kind: the reason without ids, numbers and quoted bodies."""
    r = re.sub(r"[gbx]-[a-z_-]+-\d+(-[0-9a-f]{4})?", "<id>", reason)
    r = re.sub(r"body b?'.*", "body ...", r)
    r = re.sub(r"b'.*?'", "...", r)
    r = re.sub(r"\d+", "N", r)
    return r


async def driver(args):
    global T0
    workdir = args.workdir
    failures = []           # the pass criteria that failed, one line each
    info = []
    env_skip = {s.strip() for s in os.environ.get("SOAK_SKIP", "").split(",") if s.strip()}

    # Upstreams, in a process of their own.
    up = await asyncio.create_subprocess_exec(sys.executable, os.path.abspath(__file__), "upstreams",
                                              stdout=asyncio.subprocess.PIPE, preexec_fn=die_with_parent)
    with open(os.path.join(workdir, "pids"), "a") as f:
        f.write("%d\n" % up.pid)
    line = await asyncio.wait_for(up.stdout.readline(), 20)
    uports = json.loads(line)

    sink = Sink()
    await sink.start()

    config = os.path.join(workdir, "tracegate.yaml")
    optional_off = []
    write_config(config, 0, uports, sink.port, workdir)
    # Keys the binary under test may not know yet are left out rather than failing the run.
    for _ in range(3):
        chk = await asyncio.create_subprocess_exec(args.tracegate, "--config", config, "--check-config",
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(chk.communicate(), 30)
        if chk.returncode == 0:
            break
        unknown = [k for k in ("body_timeout",) if re.search(r"unknown key '?%s" % k, out.decode(), re.I)]
        if not unknown:
            print("config rejected by %s:\n%s" % (args.tracegate, out.decode()), file=sys.stderr)
            return 2
        optional_off += unknown
        info.append("the binary does not know %s; left out of the config" % ", ".join(unknown))
        write_config(config, 0, uports, sink.port, workdir, optional_off)

    tg = Tracegate(args.tracegate, config, workdir)
    await tg.start()
    with open(os.path.join(workdir, "pids"), "a") as f:
        f.write("%d\n" % tg.proc.pid)
    try:
        await asyncio.wait_for(tg.port_event.wait(), 30)
    except asyncio.TimeoutError:
        print("tracegate did not report its listeners within 30 s; log tail:\n  " + "\n  ".join(tg.tail),
              file=sys.stderr)
        return 2
    # Ready: /ready answers 200 (deadline, no blind sleep).
    deadline = now() + 20
    while True:
        try:
            if (await http_get(tg.ports["admin"], "/ready")).status == 200:
                break
        except Exception:
            pass
        if now() > deadline:
            print("tracegate /ready never answered 200", file=sys.stderr)
            return 2
        await asyncio.sleep(0.05)

    print("soak: tracegate pid %d, plain :%d, tls :%d, admin :%d, sink :%d, upstreams %s; %d s"
          % (tg.proc.pid, tg.ports["plain"], tg.ports["tls"], tg.ports["admin"], sink.port,
             json.dumps(uports), args.seconds), flush=True)

    env = Env(tg.ports["plain"], tg.ports["tls"], os.path.join(workdir, "cert.pem"))
    if "body_timeout" in optional_off:
        env.body_timeout = 300.0  # the default 5m: slow bodies are then cut short by the run's end
    T0 = now()
    rss = []
    hups = [0]

    sent_term = [False]

    async def watch_process():
        rc = await tg.proc.wait()
        tg.exit_time = now() - T0
        if not sent_term[0]:
            how = ("signal %s" % signal.Signals(-rc).name) if rc < 0 else "exit status %d" % rc
            R.crash = "tracegate exited at t=%.1fs%s with %s" % (
                tg.exit_time, " (after the traffic stopped)" if env.stop.is_set() else "", how)
            print("soak: " + R.crash, flush=True)
            env.stop.set()

    async def sample_rss():
        while not env.stop.is_set():
            kib = tg.rss_kib()
            if kib:
                rss.append((now() - T0, kib))
            await pause(env, 1.0, 1.0)

    async def reloads():
        gen = 0
        while not env.stop.is_set():
            await pause(env, 2.5, 4.5)
            if env.stop.is_set() or tg.proc.returncode is not None:
                break
            gen += 1
            write_config(config, gen, uports, sink.port, workdir, optional_off)
            tg.proc.send_signal(signal.SIGHUP)
            hups[0] += 1
            R.reload_times.append(now() - T0)

    async def progress():
        while not env.stop.is_set():
            await pause(env, 15, 15)
            print("soak: t=%3.0fs good ok %d failed %d, wrong-client %d, bad-route unexpected %d, RSS %s MiB, "
                  "sink %d spans" % (now() - T0, sum(R.good_ok.values()), sum(R.good_fail.values()), len(R.wrong),
                                     len(R.bad_route_unexpected), "%.1f" % (rss[-1][1] / 1024) if rss else "?",
                                     sink.spans), flush=True)

    bad_clients = [k for k in BAD_CLIENT_KINDS if k not in env_skip and k not in ("slow_head", "slow_body")]
    misc_bad_routes = [k for k in ("reset", "garbage", "early", "trailer_bomb") if k not in env_skip]
    traffic = [good_keepalive(env, False), good_keepalive(env, False), good_keepalive(env, True),
               good_pipelined(env, False), good_pipelined(env, True),
               good_upload(env, False), good_upload(env, True),
               good_download(env, False), good_download(env, True),
               good_websocket(env, False), good_websocket(env, True)]
    if "poison" not in env_skip:
        traffic.append(bad_route_client(env, ["poison"], 0.0, 0.12))  # one: see its pauses
    if "trickle" not in env_skip:
        traffic.append(bad_route_client(env, ["trickle"], 0.1, 0.5))
    if misc_bad_routes:
        traffic.append(bad_route_client(env, misc_bad_routes, 0.05, 0.3))
    if bad_clients:
        traffic += [bad_client_loop(env, bad_clients, 0.05, 0.3), bad_client_loop(env, bad_clients, 0.05, 0.3)]
    for k in ("slow_head", "slow_body"):
        if k not in env_skip:
            traffic += [bad_client_loop(env, [k], 0.1, 0.5) for _ in range(2)]
    watcher = asyncio.ensure_future(watch_process())
    ops = [asyncio.ensure_future(c) for c in (sample_rss(), progress())]
    if "reload" not in env_skip:
        ops.append(asyncio.ensure_future(reloads()))
    if "collector_flap" not in env_skip:
        ops.append(asyncio.ensure_future(sink.flap(env)))
    tasks = [asyncio.ensure_future(c) for c in traffic]

    try:
        await asyncio.wait_for(env.stop.wait(), args.seconds)
    except asyncio.TimeoutError:
        pass
    env.stop.set()
    traffic_secs = now() - T0
    done, pending = await asyncio.wait(tasks + ops, timeout=REQUEST_TIMEOUT + 15)
    for t in pending:
        t.cancel()
    for t in done:
        if t.exception() is not None:
            R.notes.append("a traffic task died: %s" % describe(t.exception()))
    if pending:
        R.notes.append("%d traffic tasks still running %ds after the stop; cancelled"
                       % (len(pending), REQUEST_TIMEOUT + 15))
    if sink.server is None:
        await sink.start()

    # Let the export queue settle, then read /metrics.
    metrics = {}
    if tg.proc.returncode is None:
        deadline = now() + 25
        while now() < deadline:
            try:
                metrics = parse_metrics((await http_get(tg.ports["admin"], "/metrics")).body.decode())
            except Exception as e:
                info.append("GET /metrics: %s" % describe(e))
                break
            queued = msum(metrics, "tracegate_spans_queued_total")
            exp = {dict(l).get("exporter") for (n, l) in metrics if n == "tracegate_spans_exported_total"}
            settled = msum(metrics, "tracegate_connections_active") == 0 and msum(
                metrics, "tracegate_export_queue_spans") == 0 and all(
                msum(metrics, "tracegate_spans_exported_total", exporter=e)
                + msum(metrics, "tracegate_spans_dropped_total", exporter=e) >= queued for e in exp)
            if settled:
                break
            await asyncio.sleep(0.5)
    ustats = {}
    try:
        ustats = json.loads((await http_get(uports["good"], "/__stats")).body)
    except Exception as e:
        info.append("upstream stats: %s" % describe(e))

    # Stop tracegate: drain, flush, exit 0.
    exit_rc = tg.proc.returncode
    if exit_rc is None:
        t_term = now()
        sent_term[0] = True
        tg.proc.send_signal(signal.SIGTERM)
        try:
            exit_rc = await asyncio.wait_for(tg.proc.wait(), 40)
            info.append("tracegate stopped %.1f s after SIGTERM" % (now() - t_term))
        except asyncio.TimeoutError:
            failures.append("tracegate did not exit within 40 s of SIGTERM")
            tg.proc.kill()
            exit_rc = await tg.proc.wait()
    await asyncio.sleep(0)  # let the log pump finish the last lines
    for _ in range(50):
        if tg.proc.stderr.at_eof():
            break
        await asyncio.sleep(0.02)
    up.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(up.wait(), 5)
    except asyncio.TimeoutError:
        up.kill()
    await sink.stop()
    watcher.cancel()

    # ---------------- verdicts ----------------
    out = []
    p = out.append
    p("")
    p("=" * 100)
    p("tracegate soak: %d s of traffic (%.0f s planned), binary %s (mtime %s)"
      % (traffic_secs, args.seconds, args.tracegate,
         time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(args.tracegate)))))
    if env_skip:
        p("skipped kinds (SOAK_SKIP): %s" % ", ".join(sorted(env_skip)))

    # 1. process
    if R.crash:
        failures.append(R.crash)
        p("FAIL process: %s; last log lines:" % R.crash)
        for line in list(tg.tail)[-12:]:
            p("       | " + line[:220])
    elif exit_rc != 0:
        failures.append("tracegate exit status %s after SIGTERM" % exit_rc)
        p("FAIL process: exit status %s after SIGTERM" % exit_rc)
    else:
        p("ok   process: alive throughout; exit 0 after SIGTERM")

    # 2. good requests
    total_ok, total_fail = sum(R.good_ok.values()), sum(R.good_fail.values())
    kinds = sorted(set(R.good_ok) | set(R.good_fail))
    p("%s good requests: %d verified, %d failed   (%s)" % (
        "FAIL" if total_fail else "ok  ", total_ok, total_fail,
        ", ".join("%s %d/%d" % (k, R.good_ok[k], R.good_fail[k]) for k in kinds)))
    if total_fail:
        failures.append("%d failed good requests" % total_fail)
        groups = collections.OrderedDict()
        for f in R.failures:
            groups.setdefault((f[0], normalize(f[2])), []).append(f)
        if R.crash:
            p("       (%d of them failed after tracegate exited at t=%.1fs)"
              % (sum(1 for f in R.failures if f[3] >= tg.exit_time - 0.5), tg.exit_time))
        access = access_lines(workdir, [fs[0][1] for fs in groups.values()][:40])
        for (kind, _reason), fs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            ex = fs[0]
            p("       %5d x [%s] e.g. t=%ss %s: %s" % (len(fs), kind, ex[3], ex[1], ex[2][:300]))
            for line in access.get(ex[1], ["(no access log line for it)"])[:2]:
                p("               access log: " + line[:300])

    # 3. wrong client. A POISON answer to a request the poison upstream read within POISON_RACE of
    # writing the poison is a race no proxy can see (the request and the poison crossed on the
    # wire): reported, not failed. Everything else is definite.
    after_poison = ustats.get("reused_after_poison", {})
    reused = {k: v for k, v in after_poison.items() if v >= POISON_RACE * 1000}
    raced = [w for w in R.wrong if w[0] == "bad-route:poison" and "x-soak-id=POISON" in w[2] and w[1] not in reused]
    R.wrong = [w for w in R.wrong if w not in raced]
    if raced:
        p("info %d POISON answers to requests that crossed the poison in flight (read by the upstream %s ms after "
          "the poison went out; < %d ms counts as crossing): not counted"
          % (len(raced), ", ".join(str(after_poison.get(w[1], "-")) for w in raced[:8]), POISON_RACE * 1000))
    if reused:
        failures.append("%d requests sent on pooled connections with unread bytes" % len(reused))
        p("FAIL pooled connection hygiene: the poison upstream read %d requests on connections that had held "
          "unsolicited bytes for >= %d ms, e.g. %s (id: ms)"
          % (len(reused), POISON_RACE * 1000, dict(list(reused.items())[:3])))
    elif ustats:
        p("ok   pooled connection hygiene: no request sent on a connection holding unsolicited bytes")
    if R.wrong:
        failures.append("%d responses for another request (wrong client)" % len(R.wrong))
        p("FAIL wrong-client responses: %d" % len(R.wrong))
        kinds_w = collections.Counter(w[0] for w in R.wrong)
        access = access_lines(workdir, [next(w for w in R.wrong if w[0] == k)[1] for k in kinds_w])
        for k, n in kinds_w.most_common():
            ex = next(w for w in R.wrong if w[0] == k)
            p("       %5d x [%s] e.g. request %s got %s" % (n, k, ex[1], ex[2]))
            for line in access.get(ex[1], ["(no access log line for it)"])[:2]:
                p("               access log: " + line[:300])
    else:
        p("ok   wrong-client responses: 0")

    # 4. bad upstream routes
    bad_unexp = collections.OrderedDict()
    for u in R.bad_route_unexpected:
        bad_unexp.setdefault((u[0], u[2], normalize(u[3])), []).append(u)
    p("%s bad-upstream routes: %s" % ("FAIL" if bad_unexp else "ok  ", "; ".join(
        "%s %s" % (k, dict(R.bad_route[k])) for k in BAD_UPSTREAMS if k in R.bad_route)))
    if bad_unexp:
        failures.append("%d bad-upstream-route answers outside what is allowed" % len(R.bad_route_unexpected))
        for (kind, outcome, _), us in sorted(bad_unexp.items(), key=lambda kv: -len(kv[1])):
            ex = us[0]
            p("       %5d x [%s] %s (allowed: %s) e.g. t=%ss %s %s" % (
                len(us), kind, outcome, "/".join(sorted(BAD_ROUTE_ALLOWED[kind])), ex[4], ex[1], ex[3][:200]))

    # 5. forwarding invariants (from the upstream's own record)
    fwd_bad = []
    if ustats.get("refused_forwarded_count"):
        fwd_bad.append("%d requests tracegate must refuse reached an upstream, e.g. %s"
                       % (ustats["refused_forwarded_count"], ustats["refused_forwarded"][:3]))
    if ustats.get("post_twice"):
        fwd_bad.append("%d POSTs forwarded more than once, e.g. %s" % (len(ustats["post_twice"]),
                                                                        ustats["post_twice"][:3]))
    if not ustats:
        fwd_bad.append("no stats from the upstream")
    get_twice = len(ustats.get("seen_twice", {})) - len(ustats.get("post_twice", []))
    p("%s forwarding: %s%s" % ("FAIL" if fwd_bad else "ok  ", "; ".join(fwd_bad) or
                                "nothing refused was forwarded, no POST forwarded twice",
                                " (%d GETs reached the upstream twice: retries)" % get_twice if get_twice > 0 else ""))
    failures += fwd_bad

    # 6. RSS
    rss_ok, rss_text = rss_verdict(rss)
    p("%s RSS: %s" % ("ok  " if rss_ok else "FAIL", rss_text))
    if not rss_ok:
        failures.append("RSS grows: " + rss_text)

    # 7. spans
    ex = parse_export_lines(tg.lines)
    span_bad = []
    span_text = []
    otlp_name = "otlp http://127.0.0.1:%d/v1/traces" % sink.port
    if ex["queued"] is None:
        span_bad.append("no export totals in tracegate's exit log (did it shut down cleanly?)")
        if metrics:
            queued = msum(metrics, "tracegate_spans_queued_total")
            for e in sorted({dict(l).get("exporter") for (n, l) in metrics if n == "tracegate_spans_exported_total"}):
                exported = msum(metrics, "tracegate_spans_exported_total", exporter=e)
                dropped = msum(metrics, "tracegate_spans_dropped_total", exporter=e)
                span_text.append("/metrics before shutdown: %s exported %d + dropped %d vs queued %d"
                                 % (e, exported, dropped, queued))
    else:
        span_text.append("queued %d, dropped queue-full %d" % (ex["queued"], ex["queue_full"]))
        for name, c in ex["exporters"].items():
            accounted = c["exported"] + c["rejected"] + c["failed"] + c["backlog"] + c["shutdown"]
            span_text.append("%s: exported %d rejected %d dropped failed/backlog/shutdown %d/%d/%d"
                             % (name, c["exported"], c["rejected"], c["failed"], c["backlog"], c["shutdown"]))
            if accounted != ex["queued"]:
                span_bad.append("%s: exported+rejected+dropped = %d but %d queued" % (name, accounted, ex["queued"]))
        o = ex["exporters"].get(otlp_name)
        if o is None:
            span_bad.append("no exit totals for exporter %r" % otlp_name)
        else:
            dropped = o["rejected"] + o["failed"] + o["backlog"] + o["shutdown"] + ex["queue_full"]
            verified = set(R.verified_ids)
            missing = verified - sink.ids
            span_text.append("sink: %d requests, %d spans (%d unique), %d of %d verified good requests have "
                             "their SERVER span there, %d collector outages"
                             % (sink.requests, sink.spans, len(sink.span_ids), len(verified) - len(missing),
                                len(verified), sink.downs))
            if len(missing) > dropped:
                span_bad.append("%d verified good requests have no exported SERVER span but only %d spans are "
                                "counted as dropped, e.g. %s" % (len(missing), dropped, sorted(missing)[:3]))
            if len(sink.span_ids) < o["exported"]:
                span_bad.append("tracegate counts %d spans exported to the sink, the sink got %d"
                                % (o["exported"], len(sink.span_ids)))
    if metrics:
        started = msum(metrics, "tracegate_spans_started_total")
        reqs = msum(metrics, "tracegate_requests_total")
        span_text.append("/metrics: requests_total %d, spans_started %d, spans_queued %d, internal_errors %d"
                         % (reqs, started, msum(metrics, "tracegate_spans_queued_total"),
                            msum(metrics, "tracegate_internal_errors_total")))
        if reqs < total_ok:
            span_bad.append("requests_total %d < %d verified good requests" % (reqs, total_ok))
    if sink.bad_payloads:
        span_bad.append("%d export payloads the sink could not parse" % sink.bad_payloads)
    p("%s spans: %s" % ("FAIL" if span_bad else "ok  ", "; ".join(span_bad) or "every good request's spans "
                        "exported or counted as dropped; exported + dropped = queued for every exporter"))
    for t in span_text:
        p("       " + t)
    failures += span_bad

    # 8b. connections: every client has closed, so none may be left open
    if metrics:
        active = msum(metrics, "tracegate_connections_active")
        p("%s connections: %d still open after every client closed (of %d accepted); upstream errors by kind: %s"
          % ("FAIL" if active else "ok  ", active, msum(metrics, "tracegate_connections_total"),
             {dict(l).get("kind"): int(v) for (n, l), v in metrics.items()
              if n == "tracegate_upstream_errors_total" and v}))
        if active:
            failures.append("%d client connections still open %ds after every client closed" % (active, 25))

    # 8. reloads
    if metrics:
        rok = msum(metrics, "tracegate_config_reloads_total", result="ok")
        rfail = msum(metrics, "tracegate_config_reloads_total", result="failed")
        bad = rfail > 0
        p("%s reloads: %d SIGHUP sent, %d ok, %d failed" % ("FAIL" if bad else "ok  ", hups[0], rok, rfail))
        if bad:
            failures.append("%d config reloads failed" % rfail)
    else:
        p("?    reloads: %d SIGHUP sent (no /metrics to check)" % hups[0])

    # 9. slowloris bounded by the limits
    if R.slow_anomalies:
        failures.append("%d slowloris connections outlived their limit by more than %ds"
                        % (len(R.slow_anomalies), LIMIT_SLACK))
        p("FAIL slowloris: %d connections still open past their limit + %ds (header_timeout %ds, body_timeout "
          "%ds):" % (len(R.slow_anomalies), LIMIT_SLACK, HEADER_TIMEOUT, env.body_timeout))
        for kind in ("slow_head", "slow_body"):
            ex = [a for a in R.slow_anomalies if a[0] == kind]
            if ex:
                p("       %5d x [%s] e.g. started t=%ss from client port %d; ss: %s"
                  % (len(ex), kind, ex[0][1], ex[0][2], ex[0][3] or "-"))
                p("             started at t=%s s; answered within the limit: started at t=%s s" % (
                    ", ".join("%.1f" % a[1] for a in ex),
                    ", ".join("%.1f" % r[1] for r in R.slow_runs if r[0] == kind and r[3])))
    else:
        p("ok   slowloris: every trickling head/body answered or closed within its limit + %ds" % LIMIT_SLACK)

    # informational
    p("info bad clients (outcomes, not pass/fail): ")
    for k in BAD_CLIENT_KINDS:
        if k in R.bad_client:
            p("       %-18s %s" % (k, dict(R.bad_client[k].most_common(4))))
    warn = [l for l in open(os.path.join(workdir, "tracegate.log")) if re.search(r"\b(error|ERROR|terminate|"
                                                                                   r"internal)\b", l)]
    p("info tracegate log: %d lines with error; e.g. %s" % (len(warn), warn[0].strip()[:200] if warn else "-"))
    import resource
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    tg_cpu = msum(metrics, "process_cpu_seconds_total") if metrics else 0
    p("info CPU seconds: driver (clients, sink) %.1f, tracegate %.1f, upstreams %.1f, over %.0f s"
      % (me.ru_utime + me.ru_stime, tg_cpu, max(0.0, kids.ru_utime + kids.ru_stime - tg_cpu), traffic_secs))
    for n in R.notes + info:
        p("info " + n)
    p("")
    p("RESULT: %s" % ("PASS" if not failures else "FAIL (%d): %s" % (len(failures), " | ".join(failures))))
    p("=" * 100)
    text = "\n".join(out)
    print(text, flush=True)
    with open(os.path.join(workdir, "summary.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(workdir, "failures.json"), "w") as f:
        json.dump({"good": R.failures, "wrong": R.wrong, "bad_route": R.bad_route_unexpected,
                   "slowloris": R.slow_anomalies, "reloads": R.reload_times,
                   "criteria": failures}, f, indent=1)
    return 0 if not failures else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    run = sub.add_parser("run")
    run.add_argument("--tracegate", required=True)
    run.add_argument("--workdir", required=True)
    run.add_argument("--seconds", type=float, default=180)
    sub.add_parser("upstreams")
    args = ap.parse_args()
    # asyncio warns on every write to a connection the peer already reset; bad clients do that.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    if args.mode == "upstreams":
        asyncio.run(upstreams_main())
        return 0
    return asyncio.run(driver(args))


if __name__ == "__main__":
    sys.exit(main())
