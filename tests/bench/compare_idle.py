#!/usr/bin/env python3
"""Idle keep-alive client for tests/bench/compare.sh. Python 3 standard library only.

Usage: compare_idle.py HOST PORT COUNT [BATCH]
Opens COUNT connections, sends one keep-alive GET / on each (BATCH connections at a time,
each batch's answers read before the next batch starts, so the proxy never has more than
BATCH requests in flight), then prints "ready OPEN FAILED" on stdout and holds every
connection open, idle, until it is killed (SIGTERM or SIGINT).
"""
import resource
import socket
import sys
import time


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, count + 64) if hard != resource.RLIM_INFINITY else count + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    request = ("GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host, port)).encode()
    held = []
    failed = 0
    while len(held) + failed < count:
        n = min(batch, count - len(held) - failed)
        fresh = []
        for _ in range(n):
            try:
                s = socket.create_connection((host, port), timeout=10)
                s.sendall(request)
                fresh.append(s)
            except OSError:
                failed += 1
        for s in fresh:
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        raise OSError("closed")
                    data += chunk
                if data.split(b" ", 2)[1:2] != [b"200"]:
                    raise OSError("status")
                held.append(s)
            except OSError:
                failed += 1
                s.close()
    print("ready %d %d" % (len(held), failed), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
